import { GROUP, rowAddress, f32Address, packedAddress, groupCount } from './vector-offsets';

/**
 * Packs k centroids (k × d, row-major) into groups of GROUP lane-interleaved centroids:
 * packed[g][dim][lane] = c[g*GROUP + lane][dim], zero for lanes past k. With this layout one
 * v128 holds the same dimension of 4 centroids, so a broadcast row element times it gives 4
 * partial dot products at once and no horizontal sums are needed (and d needs no SIMD tail).
 * `packed` must hold groupCount(k) * GROUP * d floats.
 */
export function packCentroids(c: usize, k: i32, d: i32, packed: usize): void {
  const groups = groupCount(k);
  for (let g = 0; g < groups; g++) {
    for (let lane = 0; lane < GROUP; lane++) {
      const j = g * GROUP + lane;
      for (let dim = 0; dim < d; dim++) {
        const v: f32 = j < k ? load<f32>(f32Address(rowAddress(c, j, d), dim)) : 0;
        store<f32>(packedAddress(packed, g, dim, d) + (<usize>lane << 2), v);
      }
    }
  }
}

/** out[0..groupCount(k)*GROUP) = values[0..k) followed by `fill` (e.g. +inf so padded centroids never win a minimum). */
export function padVector(values: usize, k: i32, fill: f32, out: usize): void {
  const total = groupCount(k) * GROUP;
  for (let j = 0; j < total; j++) {
    store<f32>(f32Address(out, j), j < k ? load<f32>(f32Address(values, j)) : fill);
  }
}
