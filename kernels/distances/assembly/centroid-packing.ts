import { GROUP, f32Address, groupCount } from './vector-offsets';

/**
 * Lays out k centroids (k × d, row-major) for the blocked kernels (dot-blocks.ts), which read
 * centroids row-major with the dimensions in the lanes: a plain copy of the k rows. `packed`
 * must hold k * d floats (bindings reserve groupCount(k) * GROUP * d).
 */
export function packCentroids(c: usize, k: i32, d: i32, packed: usize): void {
  memory.copy(packed, c, (<usize>k * <usize>d) << 2);
}

/** out[0..groupCount(k)*GROUP) = values[0..k) followed by `fill` (e.g. +inf so padded centroids never win a minimum). */
export function padVector(values: usize, k: i32, fill: f32, out: usize): void {
  const total = groupCount(k) * GROUP;
  for (let j = 0; j < total; j++) {
    store<f32>(f32Address(out, j), j < k ? load<f32>(f32Address(values, j)) : fill);
  }
}
