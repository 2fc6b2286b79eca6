import { f32At, i16At } from './offsets';

const PCM_SCALE: f32 = 32768.0;
const INV_PCM_SCALE: f32 = 1.0 / 32768.0;

/** dst[i] = src[i] / 32768 for `n` int16 samples (exact: every int16 maps to a float32). */
export function pcm16ToFloat32(src: usize, dst: usize, n: i32): void {
  const scale = f32x4.splat(INV_PCM_SCALE);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const s = v128.load(i16At(src, i));
    v128.store(f32At(dst, i), f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(s)), scale));
    v128.store(f32At(dst, i + 4), f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(s)), scale));
  }
  for (; i < n; i++) store<f32>(f32At(dst, i), <f32>load<i16>(i16At(src, i)) * INV_PCM_SCALE);
}

/**
 * dst[i] = clamp(roundHalfEven(src[i] * 32768), -32768, 32767); NaN becomes 0.
 * (trunc_sat maps NaN to 0 and narrow saturates, so no branch is needed in the SIMD loop.)
 */
export function float32ToPcm16(src: usize, dst: usize, n: i32): void {
  const scale = f32x4.splat(PCM_SCALE);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const lo = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(f32At(src, i)), scale)));
    const hi = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(f32At(src, i + 4)), scale)));
    v128.store(i16At(dst, i), i16x8.narrow_i32x4_s(lo, hi));
  }
  for (; i < n; i++) store<i16>(i16At(dst, i), <i16>scalarToPcm16(load<f32>(f32At(src, i))));
}

@inline function scalarToPcm16(x: f32): i32 {
  const scaled = nearest<f32>(x * PCM_SCALE);
  if (!(scaled == scaled)) return 0;
  if (scaled >= 32767) return 32767;
  if (scaled <= -32768) return -32768;
  return <i32>scaled;
}
