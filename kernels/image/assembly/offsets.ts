// Named offset helpers: element index -> byte address, so kernels never spell out shift arithmetic.

/** Byte address of float32 element `i` of the array at `base`. */
@inline export function f32At(base: usize, i: i32): usize {
  return base + ((<usize>i) << 2);
}

/** Byte address of int32 element `i` of the array at `base`. */
@inline export function i32At(base: usize, i: i32): usize {
  return base + ((<usize>i) << 2);
}

/** Byte address of byte `i` of the array at `base`. */
@inline export function u8At(base: usize, i: i32): usize {
  return base + <usize>i;
}

/** Four consecutive bytes at `ptr` widened to float32 lanes (reads exactly 4 bytes). */
@inline export function loadU8x4AsF32(ptr: usize): v128 {
  return f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(ptr))));
}
