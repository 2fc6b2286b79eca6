import { rowAddress, f32Address } from './vector-offsets';
import { multiplyAdd } from './multiply-add';

/** out[i] = sum_j x[i,j]^2 for the n rows of x (n × d). SIMD over d with a scalar tail. */
export function squaredRowNorms(x: usize, n: i32, d: i32, out: usize): void {
  const d4 = d & ~3;
  for (let i = 0; i < n; i++) {
    const row = rowAddress(x, i, d);
    let acc = f32x4.splat(0);
    let j = 0;
    for (; j < d4; j += 4) {
      const v = v128.load(f32Address(row, j));
      acc = multiplyAdd(v, v, acc);
    }
    let s = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
    for (; j < d; j++) {
      const v = load<f32>(f32Address(row, j));
      s += v * v;
    }
    store<f32>(f32Address(out, i), s);
  }
}

/**
 * out[i] = 1/sqrt(norms[i]), or 0 where the norm is 0 (a zero vector has cosine similarity 0
 * with everything, so its cosine distance is 1).
 */
export function inverseSqrtNorms(norms: usize, n: i32, out: usize): void {
  for (let i = 0; i < n; i++) {
    const v = load<f32>(f32Address(norms, i));
    store<f32>(f32Address(out, i), v == 0 ? 0 : <f32>1 / Mathf.sqrt(v));
  }
}
