import { rowAddress, f32Address } from '../../distances/assembly/vector-offsets';
import { multiplyAdd } from '../../distances/assembly/multiply-add';

/** Squared L2 distance between two d-vectors, computed directly as Σ(a−b)² (exact form, no cancellation). */
// @ts-ignore: decorator
@inline function squaredDistance(a: usize, b: usize, d: i32): f32 {
  const d4 = d & ~3;
  let acc = f32x4.splat(0);
  let j = 0;
  for (; j < d4; j += 4) {
    const diff = f32x4.sub(v128.load(f32Address(a, j)), v128.load(f32Address(b, j)));
    acc = multiplyAdd(diff, diff, acc);
  }
  let s = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
  for (; j < d; j++) {
    const diff = load<f32>(f32Address(a, j)) - load<f32>(f32Address(b, j));
    s += diff * diff;
  }
  return s;
}

/**
 * k-means++ step: the potential Σ_i min(minDist[i], ‖x_i − c‖²) of adding centroid c (a d-vector),
 * summed in f64. When `write` is 1, minDist is updated in place to the new minimum.
 */
export function minDistancePotential(x: usize, n: i32, d: i32, c: usize, minDist: usize, write: i32): f64 {
  let total: f64 = 0;
  for (let i = 0; i < n; i++) {
    const dist = squaredDistance(rowAddress(x, i, d), c, d);
    const old = load<f32>(f32Address(minDist, i));
    const m = dist < old ? dist : old;
    if (write) store<f32>(f32Address(minDist, i), m);
    total += <f64>m;
  }
  return total;
}
