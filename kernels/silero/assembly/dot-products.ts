import { f32At, horizontalSum } from './offsets';

/**
 * Dot product of `n` float32 elements at `a` and `b`: two SIMD accumulators (so consecutive
 * adds do not wait on each other), then one SIMD step and a scalar tail.
 */
export function dot(a: usize, b: usize, n: i32): f32 {
  let acc0 = f32x4.splat(0);
  let acc1 = f32x4.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    acc0 = f32x4.add(acc0, f32x4.mul(v128.load(f32At(a, i)), v128.load(f32At(b, i))));
    acc1 = f32x4.add(acc1, f32x4.mul(v128.load(f32At(a, i + 4)), v128.load(f32At(b, i + 4))));
  }
  for (; i + 4 <= n; i += 4) acc0 = f32x4.add(acc0, f32x4.mul(v128.load(f32At(a, i)), v128.load(f32At(b, i))));
  let sum = horizontalSum(f32x4.add(acc0, acc1));
  for (; i < n; i++) sum += load<f32>(f32At(a, i)) * load<f32>(f32At(b, i));
  return sum;
}

/**
 * Dot products of one row `w` (n floats) with four vectors x, x + stride, x + 2·stride,
 * x + 3·stride (stride in floats): each weight is loaded once for four products (the STFT's four
 * frames, a convolution's four output frames, four streams' LSTM inputs). Results go to out[0..3].
 */
export function dotRowWithFour(w: usize, x: usize, stride: i32, n: i32, out: usize): void {
  const x1 = f32At(x, stride);
  const x2 = f32At(x, 2 * stride);
  const x3 = f32At(x, 3 * stride);
  let acc0 = f32x4.splat(0);
  let acc1 = f32x4.splat(0);
  let acc2 = f32x4.splat(0);
  let acc3 = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const wv = v128.load(f32At(w, i));
    acc0 = f32x4.add(acc0, f32x4.mul(wv, v128.load(f32At(x, i))));
    acc1 = f32x4.add(acc1, f32x4.mul(wv, v128.load(f32At(x1, i))));
    acc2 = f32x4.add(acc2, f32x4.mul(wv, v128.load(f32At(x2, i))));
    acc3 = f32x4.add(acc3, f32x4.mul(wv, v128.load(f32At(x3, i))));
  }
  let s0 = horizontalSum(acc0);
  let s1 = horizontalSum(acc1);
  let s2 = horizontalSum(acc2);
  let s3 = horizontalSum(acc3);
  for (; i < n; i++) {
    const wi = load<f32>(f32At(w, i));
    s0 += wi * load<f32>(f32At(x, i));
    s1 += wi * load<f32>(f32At(x1, i));
    s2 += wi * load<f32>(f32At(x2, i));
    s3 += wi * load<f32>(f32At(x3, i));
  }
  store<f32>(f32At(out, 0), s0);
  store<f32>(f32At(out, 1), s1);
  store<f32>(f32At(out, 2), s2);
  store<f32>(f32At(out, 3), s3);
}

/**
 * Dot products of four rows w, w + rowStride, w + 2·rowStride, w + 3·rowStride (rowStride in
 * floats) with one vector `x` of n floats: each x load serves four rows (the single-stream LSTM
 * step, single-frame convolutions). Results go to out[0..3].
 */
export function dotFourRows(w: usize, rowStride: i32, x: usize, n: i32, out: usize): void {
  const w1 = f32At(w, rowStride);
  const w2 = f32At(w, 2 * rowStride);
  const w3 = f32At(w, 3 * rowStride);
  let acc0 = f32x4.splat(0);
  let acc1 = f32x4.splat(0);
  let acc2 = f32x4.splat(0);
  let acc3 = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const xv = v128.load(f32At(x, i));
    acc0 = f32x4.add(acc0, f32x4.mul(v128.load(f32At(w, i)), xv));
    acc1 = f32x4.add(acc1, f32x4.mul(v128.load(f32At(w1, i)), xv));
    acc2 = f32x4.add(acc2, f32x4.mul(v128.load(f32At(w2, i)), xv));
    acc3 = f32x4.add(acc3, f32x4.mul(v128.load(f32At(w3, i)), xv));
  }
  let s0 = horizontalSum(acc0);
  let s1 = horizontalSum(acc1);
  let s2 = horizontalSum(acc2);
  let s3 = horizontalSum(acc3);
  for (; i < n; i++) {
    const xi = load<f32>(f32At(x, i));
    s0 += load<f32>(f32At(w, i)) * xi;
    s1 += load<f32>(f32At(w1, i)) * xi;
    s2 += load<f32>(f32At(w2, i)) * xi;
    s3 += load<f32>(f32At(w3, i)) * xi;
  }
  store<f32>(f32At(out, 0), s0);
  store<f32>(f32At(out, 1), s1);
  store<f32>(f32At(out, 2), s2);
  store<f32>(f32At(out, 3), s3);
}
