// Named offset helpers: element index -> byte address, so kernels never spell out shift arithmetic.

/** Byte address of float32 element `i` of the array at `base`. */
@inline export function f32At(base: usize, i: i32): usize {
  return base + ((<usize>i) << 2);
}

/** Byte address of int32 element `i` of the array at `base`. */
@inline export function i32At(base: usize, i: i32): usize {
  return base + ((<usize>i) << 2);
}

/** Byte address of int16 element `i` of the array at `base`. */
@inline export function i16At(base: usize, i: i32): usize {
  return base + ((<usize>i) << 1);
}

/** Sum of the four float32 lanes of `v`. */
@inline export function horizontalSum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** Dot product of `n` float32 elements at `a` and `b`: SIMD main loop, scalar tail. */
@inline export function dot(a: usize, b: usize, n: i32): f32 {
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    acc = f32x4.add(acc, f32x4.mul(v128.load(f32At(a, i)), v128.load(f32At(b, i))));
  }
  let sum = horizontalSum(acc);
  for (; i < n; i++) sum += load<f32>(f32At(a, i)) * load<f32>(f32At(b, i));
  return sum;
}
