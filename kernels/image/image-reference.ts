/**
 * Plain TypeScript references of the image kernels (tests compare against them; the benchmark
 * uses the fused resize+normalize as its plain-TS anchor). Layouts: HWC is [height, width,
 * channels] row-major (what decoders produce); CHW is [channels, height, width] (what models take).
 */

/** Per-channel normalization: out = (pixel / 255 - mean[c]) / std[c]. */
export interface Normalization {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** ImageNet statistics (torchvision's defaults). */
export const IMAGENET_NORMALIZATION: Normalization = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/** HWC uint8 -> CHW float32 with per-channel mean/std. */
export function hwcToChwReference(pixels: Uint8Array, height: number, width: number, channels: number, norm: Normalization): Float32Array {
  const out = new Float32Array(pixels.length);
  const plane = height * width;
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < channels; c++) out[c * plane + p] = (pixels[p * channels + c]! / 255 - norm.mean[c]!) / norm.std[c]!;
  }
  return out;
}

/** CHW float32 -> HWC uint8: round half to even of (v * std + mean) * 255, clamped to [0, 255]; NaN -> 0. */
export function chwToHwcReference(tensor: Float32Array, height: number, width: number, channels: number, norm: Normalization): Uint8Array {
  const out = new Uint8Array(tensor.length);
  const plane = height * width;
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < channels; c++) {
      const v = (tensor[c * plane + p]! * norm.std[c]! + norm.mean[c]!) * 255;
      let r = Math.round(v);
      if (Math.abs(v % 1) === 0.5 && r % 2 !== 0) r -= 1;
      out[p * channels + c] = Number.isNaN(v) ? 0 : Math.max(0, Math.min(255, r));
    }
  }
  return out;
}

/** Source index pair and weight for destination index d (align_corners=false, clamped at 0, as PyTorch). */
export function bilinearSourceIndex(d: number, inSize: number, outSize: number): { i0: number; i1: number; w: number } {
  const s = Math.max(0, (d + 0.5) * (inSize / outSize) - 0.5);
  const i0 = Math.min(Math.floor(s), inSize - 1);
  return { i0, i1: i0 < inSize - 1 ? i0 + 1 : i0, w: s - i0 };
}

/** Bilinear resize of CHW float planes. */
export function resizeBilinearPlanesReference(
  src: Float32Array, planes: number, inHeight: number, inWidth: number, outHeight: number, outWidth: number,
): Float32Array {
  const out = new Float32Array(planes * outHeight * outWidth);
  for (let c = 0; c < planes; c++) {
    for (let y = 0; y < outHeight; y++) {
      const { i0: y0, i1: y1, w: ly } = bilinearSourceIndex(y, inHeight, outHeight);
      for (let x = 0; x < outWidth; x++) {
        const { i0: x0, i1: x1, w: lx } = bilinearSourceIndex(x, inWidth, outWidth);
        const at = (yy: number, xx: number) => src[c * inHeight * inWidth + yy * inWidth + xx]!;
        const top = (1 - lx) * at(y0, x0) + lx * at(y0, x1);
        const bottom = (1 - lx) * at(y1, x0) + lx * at(y1, x1);
        out[c * outHeight * outWidth + y * outWidth + x] = (1 - ly) * top + ly * bottom;
      }
    }
  }
  return out;
}

/**
 * The fused preprocessing a vision model needs, written plainly: HWC uint8 -> bilinear resize ->
 * CHW float32 normalized. Per-axis tables are computed once (as any reasonable TS version would); `out` may be reused.
 */
export function preprocessImageReference(
  pixels: Uint8Array, inHeight: number, inWidth: number, channels: number, outHeight: number, outWidth: number, norm: Normalization,
  out = new Float32Array(channels * outHeight * outWidth),
): Float32Array {
  const cols = Array.from({ length: outWidth }, (_, x) => bilinearSourceIndex(x, inWidth, outWidth));
  const scale = norm.std.map((s) => 1 / (255 * s));
  const bias = norm.mean.map((m, c) => -m / norm.std[c]!);
  const plane = outHeight * outWidth;
  for (let y = 0; y < outHeight; y++) {
    const { i0: y0, i1: y1, w: ly } = bilinearSourceIndex(y, inHeight, outHeight);
    const r0 = y0 * inWidth * channels;
    const r1 = y1 * inWidth * channels;
    for (let x = 0; x < outWidth; x++) {
      const { i0, i1, w: lx } = cols[x]!;
      const a = i0 * channels;
      const b = i1 * channels;
      for (let c = 0; c < channels; c++) {
        const top = (1 - lx) * pixels[r0 + a + c]! + lx * pixels[r0 + b + c]!;
        const bottom = (1 - lx) * pixels[r1 + a + c]! + lx * pixels[r1 + b + c]!;
        out[c * plane + y * outWidth + x] = ((1 - ly) * top + ly * bottom) * scale[c]! + bias[c]!;
      }
    }
  }
  return out;
}
