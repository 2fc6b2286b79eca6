import { f32At } from './offsets';

/**
 * Mono mean of `frames` interleaved frames of `channels` channels: dst[i] = (sum_c src[i*channels+c]) / channels.
 * Stereo has a SIMD path (deinterleave by shuffle); mono is a copy; other channel counts are scalar.
 */
export function downmixToMono(src: usize, frames: i32, channels: i32, dst: usize): void {
  if (channels == 1) {
    memory.copy(dst, src, (<usize>frames) << 2);
    return;
  }
  const inv: f32 = 1.0 / <f32>channels;
  let i = 0;
  if (channels == 2) {
    const half = f32x4.splat(0.5);
    for (; i + 4 <= frames; i += 4) {
      const a = v128.load(f32At(src, i * 2));
      const b = v128.load(f32At(src, i * 2 + 4));
      const left = v128.shuffle<f32>(a, b, 0, 2, 4, 6);
      const right = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
      v128.store(f32At(dst, i), f32x4.mul(f32x4.add(left, right), half));
    }
  }
  for (; i < frames; i++) {
    let sum: f32 = 0;
    const base = i * channels;
    for (let c = 0; c < channels; c++) sum += load<f32>(f32At(src, base + c));
    store<f32>(f32At(dst, i), sum * inv);
  }
}
