// Named offset helpers: every pointer computation in the vector kernels goes through these.

/** Centroids are packed in groups of this many, lane-interleaved (see centroid-packing.ts). */
export const GROUP: i32 = 8;

/** Byte address of row `row` of a row-major f32 matrix with `d` columns. */
// @ts-ignore: decorator
@inline export function rowAddress(base: usize, row: i32, d: i32): usize {
  return base + ((<usize>row * <usize>d) << 2);
}

/** Byte address of f32 element `i` of a vector. */
// @ts-ignore: decorator
@inline export function f32Address(base: usize, i: i32): usize {
  return base + (<usize>i << 2);
}

/** Byte address of i32 element `i` of a vector. */
// @ts-ignore: decorator
@inline export function i32Address(base: usize, i: i32): usize {
  return base + (<usize>i << 2);
}

/** Byte address of dimension `dim` of centroid group `group` in the packed layout (GROUP floats per dimension). */
// @ts-ignore: decorator
@inline export function packedAddress(packed: usize, group: i32, dim: i32, d: i32): usize {
  return packed + ((<usize>group * <usize>d + <usize>dim) << 5);
}

/** Number of centroid groups for k centroids. */
// @ts-ignore: decorator
@inline export function groupCount(k: i32): i32 {
  return (k + GROUP - 1) / GROUP;
}
