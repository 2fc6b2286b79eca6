// Named offset helpers: element index -> byte address, so the kernels never spell out shift arithmetic.

/** Byte address of float32 element `i` of the array at `base`. */
// @ts-ignore: decorator
@inline export function f32At(base: usize, i: i32): usize {
  return base + ((<usize>i) << 2);
}

/** Byte address of row `row` of a row-major float32 matrix with `columns` columns. */
// @ts-ignore: decorator
@inline export function rowAt(base: usize, row: i32, columns: i32): usize {
  return base + ((<usize>row * <usize>columns) << 2);
}

/** Sum of the four float32 lanes of `v`. */
// @ts-ignore: decorator
@inline export function horizontalSum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}
