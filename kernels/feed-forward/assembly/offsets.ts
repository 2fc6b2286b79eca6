// Named offset helpers: element index -> byte address, so kernels never spell out shift arithmetic.

/** Byte address of float32 element `i` of the array at `base`. */
// @ts-ignore: decorator
@inline export function f32At(base: usize, i: i32): usize {
  return base + ((<usize>i) << 2);
}

/** Byte address of row `row` of a row-major f32 matrix with `cols` columns, plus `col` elements. */
// @ts-ignore: decorator
@inline export function f32RowAt(base: usize, row: i32, cols: i32, col: i32): usize {
  return base + (((<usize>row * <usize>cols) + <usize>col) << 2);
}
