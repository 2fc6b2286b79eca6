import { f32At } from './offsets';

/**
 * y[i] = x[i] - coefficient * x[i-1], with x[-1] = `previous` (the last sample of the preceding
 * chunk when streaming, 0 otherwise). In place is allowed (dst == src) only through the scalar path,
 * so the binding always passes distinct buffers.
 */
export function preEmphasis(src: usize, n: i32, coefficient: f32, previous: f32, dst: usize): void {
  if (n <= 0) return;
  store<f32>(dst, load<f32>(src) - coefficient * previous);
  const c = f32x4.splat(coefficient);
  let i = 1;
  for (; i + 4 <= n; i += 4) {
    const current = v128.load(f32At(src, i));
    const before = v128.load(f32At(src, i - 1));
    v128.store(f32At(dst, i), f32x4.sub(current, f32x4.mul(c, before)));
  }
  for (; i < n; i++) store<f32>(f32At(dst, i), load<f32>(f32At(src, i)) - coefficient * load<f32>(f32At(src, i - 1)));
}
