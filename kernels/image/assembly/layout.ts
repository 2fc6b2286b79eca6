import { f32At, u8At } from './offsets';

/**
 * Swizzle mask that gathers channel `channel` of 4 consecutive HWC pixels of `channels` bytes into
 * the low byte of each int32 lane (index 0xFF zeroes the other bytes).
 */
@inline function channelGatherMask(channel: i32, channels: i32): v128 {
  let mask = i32x4.splat(-1);
  mask = i32x4.replace_lane(mask, 0, channel | 0xffffff00);
  mask = i32x4.replace_lane(mask, 1, (channel + channels) | 0xffffff00);
  mask = i32x4.replace_lane(mask, 2, (channel + 2 * channels) | 0xffffff00);
  mask = i32x4.replace_lane(mask, 3, (channel + 3 * channels) | 0xffffff00);
  return mask;
}

/**
 * HWC uint8 -> CHW float32: dst[c * pixels + p] = src[p * channels + c] * scale[c] + bias[c]
 * (the binding passes scale = 1 / (255 * std) and bias = -mean / std). SIMD for 1..4 channels
 * (a swizzle gathers one channel of 4 pixels per 16-byte load); scalar for more channels and the tail.
 */
export function hwcToChw(src: usize, pixels: i32, channels: i32, scale: usize, bias: usize, dst: usize): void {
  const totalBytes = pixels * channels;
  for (let c = 0; c < channels; c++) {
    const a = load<f32>(f32At(scale, c));
    const b = load<f32>(f32At(bias, c));
    const plane = f32At(dst, c * pixels);
    let p = 0;
    if (channels <= 4) {
      const mask = channelGatherMask(c, channels);
      const av = f32x4.splat(a);
      const bv = f32x4.splat(b);
      for (; p * channels + 16 <= totalBytes && p + 4 <= pixels; p += 4) {
        const gathered = i8x16.swizzle(v128.load(u8At(src, p * channels)), mask);
        v128.store(f32At(plane, p), f32x4.add(f32x4.mul(f32x4.convert_i32x4_u(gathered), av), bv));
      }
    }
    for (; p < pixels; p++) store<f32>(f32At(plane, p), <f32>load<u8>(u8At(src, p * channels + c)) * a + b);
  }
}

/**
 * CHW float32 -> HWC uint8 (the inverse, for tests and debugging output):
 * dst[p * channels + c] = clamp(roundHalfEven(src[c * pixels + p] * scale[c] + bias[c]), 0, 255); NaN -> 0.
 * (The binding passes scale = 255 * std and bias = 255 * mean.)
 */
export function chwToHwc(src: usize, pixels: i32, channels: i32, scale: usize, bias: usize, dst: usize): void {
  const lo = i32x4.splat(0);
  const hi = i32x4.splat(255);
  for (let c = 0; c < channels; c++) {
    const a = load<f32>(f32At(scale, c));
    const b = load<f32>(f32At(bias, c));
    const av = f32x4.splat(a);
    const bv = f32x4.splat(b);
    const plane = f32At(src, c * pixels);
    let p = 0;
    for (; p + 4 <= pixels; p += 4) {
      const v = f32x4.nearest(f32x4.add(f32x4.mul(v128.load(f32At(plane, p)), av), bv));
      const q = i32x4.min_s(i32x4.max_s(i32x4.trunc_sat_f32x4_s(v), lo), hi);
      store<u8>(u8At(dst, p * channels + c), <u8>i32x4.extract_lane(q, 0));
      store<u8>(u8At(dst, (p + 1) * channels + c), <u8>i32x4.extract_lane(q, 1));
      store<u8>(u8At(dst, (p + 2) * channels + c), <u8>i32x4.extract_lane(q, 2));
      store<u8>(u8At(dst, (p + 3) * channels + c), <u8>i32x4.extract_lane(q, 3));
    }
    for (; p < pixels; p++) {
      const v = nearest<f32>(load<f32>(f32At(plane, p)) * a + b);
      const q = v == v ? (v < 0 ? 0 : v > 255 ? 255 : <i32>v) : 0;
      store<u8>(u8At(dst, p * channels + c), <u8>q);
    }
  }
}
