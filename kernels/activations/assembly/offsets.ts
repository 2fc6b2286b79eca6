// Named offset helpers: element index -> byte address, so kernels never spell out shift arithmetic.

/** Byte address of float32 element `i` of the array at `base`. */
@inline export function f32At(base: usize, i: i32): usize {
  return base + ((<usize>i) << 2);
}

/** Byte address of int32 element `i` of the array at `base`. */
@inline export function i32At(base: usize, i: i32): usize {
  return base + ((<usize>i) << 2);
}
