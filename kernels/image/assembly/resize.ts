import { f32At, i32At, loadU8x4AsF32, u8At } from './offsets';

// Bilinear resize with align_corners=false (PyTorch / OpenCV INTER_LINEAR geometry, no antialias):
// source coordinate s = (d + 0.5) * (in / out) - 0.5, clamped below at 0; i0 = floor(s),
// i1 = min(i0 + 1, in - 1), weight of i1 = s - i0. The per-axis tables are computed once per call
// into `table` as int32 i0, int32 (i1 - i0), float32 weight, 3 words per destination index.
const ONE: f32 = 1;

@inline function tableLow(table: usize, d: i32): i32 { return load<i32>(i32At(table, 3 * d)); }
@inline function tableStep(table: usize, d: i32): i32 { return load<i32>(i32At(table, 3 * d + 1)); }
@inline function tableWeight(table: usize, d: i32): f32 { return load<f32>(f32At(table, 3 * d + 2)); }

/** Fills the axis table for `outSize` destination indices over `inSize` source indices. */
function fillAxisTable(table: usize, inSize: i32, outSize: i32): void {
  const ratio = <f64>inSize / <f64>outSize;
  for (let d = 0; d < outSize; d++) {
    let s = (<f64>d + 0.5) * ratio - 0.5;
    if (s < 0) s = 0;
    let i0 = <i32>s;
    if (i0 > inSize - 1) i0 = inSize - 1;
    const step = i0 < inSize - 1 ? 1 : 0;
    store<i32>(i32At(table, 3 * d), i0);
    store<i32>(i32At(table, 3 * d + 1), step);
    store<f32>(f32At(table, 3 * d + 2), <f32>(s - <f64>i0));
  }
}

/** Int32/float32 words a resize needs for its axis tables: 3 per destination row and column. */
export function resizeTableWords(outHeight: i32, outWidth: i32): i32 {
  return 3 * (outHeight + outWidth);
}

/**
 * Bilinear resize of `planes` float32 planes (CHW) from inHeight x inWidth to outHeight x outWidth.
 * SIMD over 4 destination columns (gathered loads), scalar tail.
 */
export function resizeBilinearPlanes(
  src: usize, planes: i32, inHeight: i32, inWidth: i32,
  dst: usize, outHeight: i32, outWidth: i32, table: usize,
): void {
  const rows = table;
  const cols = table + 12 * <usize>outHeight;
  fillAxisTable(rows, inHeight, outHeight);
  fillAxisTable(cols, inWidth, outWidth);
  for (let c = 0; c < planes; c++) {
    const inPlane = f32At(src, c * inHeight * inWidth);
    const outPlane = f32At(dst, c * outHeight * outWidth);
    for (let y = 0; y < outHeight; y++) {
      const r0 = f32At(inPlane, tableLow(rows, y) * inWidth);
      const r1 = f32At(r0, tableStep(rows, y) * inWidth);
      const ly = tableWeight(rows, y);
      const wy1 = f32x4.splat(ly);
      const wy0 = f32x4.splat(ONE - ly);
      const outRow = f32At(outPlane, y * outWidth);
      let x = 0;
      for (; x + 4 <= outWidth; x += 4) {
        let p00 = f32x4.splat(0), p01 = f32x4.splat(0), p10 = f32x4.splat(0), p11 = f32x4.splat(0), wx = f32x4.splat(0);
        for (let k = 0; k < 4; k++) {
          // replace_lane needs a constant lane index: unrolled by the switch.
          const x0 = tableLow(cols, x + k);
          const x1 = x0 + tableStep(cols, x + k);
          const w = tableWeight(cols, x + k);
          const a = load<f32>(f32At(r0, x0)), b = load<f32>(f32At(r0, x1)), cc = load<f32>(f32At(r1, x0)), d = load<f32>(f32At(r1, x1));
          if (k == 0) { p00 = f32x4.replace_lane(p00, 0, a); p01 = f32x4.replace_lane(p01, 0, b); p10 = f32x4.replace_lane(p10, 0, cc); p11 = f32x4.replace_lane(p11, 0, d); wx = f32x4.replace_lane(wx, 0, w); }
          else if (k == 1) { p00 = f32x4.replace_lane(p00, 1, a); p01 = f32x4.replace_lane(p01, 1, b); p10 = f32x4.replace_lane(p10, 1, cc); p11 = f32x4.replace_lane(p11, 1, d); wx = f32x4.replace_lane(wx, 1, w); }
          else if (k == 2) { p00 = f32x4.replace_lane(p00, 2, a); p01 = f32x4.replace_lane(p01, 2, b); p10 = f32x4.replace_lane(p10, 2, cc); p11 = f32x4.replace_lane(p11, 2, d); wx = f32x4.replace_lane(wx, 2, w); }
          else { p00 = f32x4.replace_lane(p00, 3, a); p01 = f32x4.replace_lane(p01, 3, b); p10 = f32x4.replace_lane(p10, 3, cc); p11 = f32x4.replace_lane(p11, 3, d); wx = f32x4.replace_lane(wx, 3, w); }
        }
        const wx0 = f32x4.sub(f32x4.splat(1), wx);
        const top = f32x4.add(f32x4.mul(wx0, p00), f32x4.mul(wx, p01));
        const bottom = f32x4.add(f32x4.mul(wx0, p10), f32x4.mul(wx, p11));
        v128.store(f32At(outRow, x), f32x4.add(f32x4.mul(wy0, top), f32x4.mul(wy1, bottom)));
      }
      for (; x < outWidth; x++) {
        const x0 = tableLow(cols, x);
        const x1 = x0 + tableStep(cols, x);
        const lx = tableWeight(cols, x);
        const top = (ONE - lx) * load<f32>(f32At(r0, x0)) + lx * load<f32>(f32At(r0, x1));
        const bottom = (ONE - lx) * load<f32>(f32At(r1, x0)) + lx * load<f32>(f32At(r1, x1));
        store<f32>(f32At(outRow, x), (ONE - ly) * top + ly * bottom);
      }
    }
  }
}

/**
 * Fused preprocessing: HWC uint8 image (inHeight x inWidth x channels) -> bilinear resize ->
 * CHW float32 (channels x outHeight x outWidth) with out = value * scale[c] + bias[c].
 * For 1..4 channels one SIMD vector holds a pixel's channels (a 4-byte load; the binding pads
 * `src` by 4 bytes so the last pixel's load stays in bounds); more channels go scalar.
 */
export function resizeBilinearHwcToChw(
  src: usize, inHeight: i32, inWidth: i32, channels: i32,
  dst: usize, outHeight: i32, outWidth: i32, scale: usize, bias: usize, table: usize,
): void {
  const rows = table;
  const cols = table + 12 * <usize>outHeight;
  fillAxisTable(rows, inHeight, outHeight);
  fillAxisTable(cols, inWidth, outWidth);
  const outPixels = outHeight * outWidth;
  const rowBytes = inWidth * channels;
  if (channels > 4) {
    for (let y = 0; y < outHeight; y++) {
      const r0 = u8At(src, tableLow(rows, y) * rowBytes);
      const r1 = u8At(r0, tableStep(rows, y) * rowBytes);
      const ly = tableWeight(rows, y);
      for (let x = 0; x < outWidth; x++) {
        const x0 = tableLow(cols, x) * channels;
        const x1 = x0 + tableStep(cols, x) * channels;
        const lx = tableWeight(cols, x);
        for (let c = 0; c < channels; c++) {
          const top = (ONE - lx) * <f32>load<u8>(r0 + x0 + c) + lx * <f32>load<u8>(r0 + x1 + c);
          const bottom = (ONE - lx) * <f32>load<u8>(r1 + x0 + c) + lx * <f32>load<u8>(r1 + x1 + c);
          const v = (ONE - ly) * top + ly * bottom;
          store<f32>(f32At(dst, c * outPixels + y * outWidth + x), v * load<f32>(f32At(scale, c)) + load<f32>(f32At(bias, c)));
        }
      }
    }
    return;
  }
  // Lanes beyond `channels` hold the next pixel's bytes and are never stored.
  const scaleV = v128.load(scale);
  const biasV = v128.load(bias);
  const one = f32x4.splat(1);
  for (let y = 0; y < outHeight; y++) {
    const r0 = u8At(src, tableLow(rows, y) * rowBytes);
    const r1 = u8At(r0, tableStep(rows, y) * rowBytes);
    const ly = tableWeight(rows, y);
    const wy1 = f32x4.splat(ly);
    const wy0 = f32x4.splat(ONE - ly);
    const rowOut = y * outWidth;
    for (let x = 0; x < outWidth; x++) {
      const x0 = tableLow(cols, x) * channels;
      const x1 = x0 + tableStep(cols, x) * channels;
      const wx1 = f32x4.splat(tableWeight(cols, x));
      const wx0 = f32x4.sub(one, wx1);
      const top = f32x4.add(f32x4.mul(wx0, loadU8x4AsF32(r0 + x0)), f32x4.mul(wx1, loadU8x4AsF32(r0 + x1)));
      const bottom = f32x4.add(f32x4.mul(wx0, loadU8x4AsF32(r1 + x0)), f32x4.mul(wx1, loadU8x4AsF32(r1 + x1)));
      const v = f32x4.add(f32x4.mul(f32x4.add(f32x4.mul(wy0, top), f32x4.mul(wy1, bottom)), scaleV), biasV);
      const at = rowOut + x;
      store<f32>(f32At(dst, at), f32x4.extract_lane(v, 0));
      if (channels > 1) store<f32>(f32At(dst, outPixels + at), f32x4.extract_lane(v, 1));
      if (channels > 2) store<f32>(f32At(dst, 2 * outPixels + at), f32x4.extract_lane(v, 2));
      if (channels > 3) store<f32>(f32At(dst, 3 * outPixels + at), f32x4.extract_lane(v, 3));
    }
  }
}
