import { f32Address } from './vector-offsets';
import { multiplyAdd } from './multiply-add';

// Register-blocked dot products shared by the distance, assignment and k-means kernels: 4 rows
// × 2 centroids, both row-major, with the dimensions in the lanes. Each trip loads 4 row chunks
// and 2 centroid chunks (6 loads) for 8 multiplies and 8 adds, and needs no broadcasts (which
// compete with the arithmetic for the FP pipes); the 4 lanes of each accumulator are summed once
// at the end. Measured on the 2-core AMD EPYC dev machine, 1 thread, 20k × 768 against 100
// (npx tsx bench/kernels/distance-profile.ts wide): 82–85 GFLOP/s (3·N·K·D) for this layout
// against 45–55 for the previous 4 rows × 8 lane-interleaved centroids with broadcast loads
// (onnxruntime 126–141 in the same runs). Other shapes, tried in a standalone microbenchmark:
// 2 × 4 equal, 3 × 3 and a 2-trip unroll slower (register spills in V8).

/** Results of the last dotPair / dotSingle: lane r = row r. Globals are per instance, so per thread. */
export let blockDot0: v128 = f32x4.splat(0);
export let blockDot1: v128 = f32x4.splat(0);

/** [Σ a0, Σ a1, Σ a2, Σ a3]: the horizontal sums of 4 accumulators, as one vector. */
// @ts-ignore: decorator
@inline function sum4(a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  const s01 = f32x4.add(v128.shuffle<f32>(a0, a1, 0, 4, 1, 5), v128.shuffle<f32>(a0, a1, 2, 6, 3, 7));
  const s23 = f32x4.add(v128.shuffle<f32>(a2, a3, 0, 4, 1, 5), v128.shuffle<f32>(a2, a3, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(s01, s23, 0, 1, 4, 5), v128.shuffle<f32>(s01, s23, 2, 3, 6, 7));
}

/** Element t of 4 rows as one vector (the scalar tail when d is not a multiple of 4). */
// @ts-ignore: decorator
@inline function column(r0: usize, r1: usize, r2: usize, r3: usize, t: i32): v128 {
  let v = f32x4.splat(load<f32>(f32Address(r0, t)));
  v = f32x4.replace_lane(v, 1, load<f32>(f32Address(r1, t)));
  v = f32x4.replace_lane(v, 2, load<f32>(f32Address(r2, t)));
  return f32x4.replace_lane(v, 3, load<f32>(f32Address(r3, t)));
}

/**
 * blockDot0 = x_r · c0 and blockDot1 = x_r · c1 for the 4 rows at r0..r3 (lane r), d floats
 * each. A row's result does not depend on the other rows of the block (pass a row twice to fill
 * a short block).
 */
// @ts-ignore: decorator
@inline export function dotPair(r0: usize, r1: usize, r2: usize, r3: usize, c0: usize, c1: usize, d: i32): void {
  const d4 = d & ~3;
  const bytes = <usize>d4 << 2;
  let a00 = f32x4.splat(0), a10 = f32x4.splat(0), a20 = f32x4.splat(0), a30 = f32x4.splat(0);
  let a01 = f32x4.splat(0), a11 = f32x4.splat(0), a21 = f32x4.splat(0), a31 = f32x4.splat(0);
  for (let off: usize = 0; off < bytes; off += 16) {
    const v0 = v128.load(r0 + off);
    const v1 = v128.load(r1 + off);
    const v2 = v128.load(r2 + off);
    const v3 = v128.load(r3 + off);
    let c = v128.load(c0 + off);
    a00 = multiplyAdd(v0, c, a00);
    a10 = multiplyAdd(v1, c, a10);
    a20 = multiplyAdd(v2, c, a20);
    a30 = multiplyAdd(v3, c, a30);
    c = v128.load(c1 + off);
    a01 = multiplyAdd(v0, c, a01);
    a11 = multiplyAdd(v1, c, a11);
    a21 = multiplyAdd(v2, c, a21);
    a31 = multiplyAdd(v3, c, a31);
  }
  let s0 = sum4(a00, a10, a20, a30);
  let s1 = sum4(a01, a11, a21, a31);
  for (let t = d4; t < d; t++) {
    const xv = column(r0, r1, r2, r3, t);
    s0 = multiplyAdd(xv, f32x4.splat(load<f32>(f32Address(c0, t))), s0);
    s1 = multiplyAdd(xv, f32x4.splat(load<f32>(f32Address(c1, t))), s1);
  }
  blockDot0 = s0;
  blockDot1 = s1;
}

/** blockDot0 = x_r · c0 for the 4 rows at r0..r3 (the last centroid when k is odd). */
// @ts-ignore: decorator
@inline export function dotSingle(r0: usize, r1: usize, r2: usize, r3: usize, c0: usize, d: i32): void {
  const d4 = d & ~3;
  const bytes = <usize>d4 << 2;
  let a00 = f32x4.splat(0), a10 = f32x4.splat(0), a20 = f32x4.splat(0), a30 = f32x4.splat(0);
  for (let off: usize = 0; off < bytes; off += 16) {
    const c = v128.load(c0 + off);
    a00 = multiplyAdd(v128.load(r0 + off), c, a00);
    a10 = multiplyAdd(v128.load(r1 + off), c, a10);
    a20 = multiplyAdd(v128.load(r2 + off), c, a20);
    a30 = multiplyAdd(v128.load(r3 + off), c, a30);
  }
  let s0 = sum4(a00, a10, a20, a30);
  for (let t = d4; t < d; t++) {
    s0 = multiplyAdd(column(r0, r1, r2, r3, t), f32x4.splat(load<f32>(f32Address(c0, t))), s0);
  }
  blockDot0 = s0;
}

/** Four values at i..i+3 of a vector, repeating the last valid one past `count` (1..4). */
// @ts-ignore: decorator
@inline export function loadUpTo4(base: usize, i: i32, count: i32): v128 {
  let v = f32x4.splat(load<f32>(f32Address(base, i)));
  if (count > 1) v = f32x4.replace_lane(v, 1, load<f32>(f32Address(base, i + 1)));
  if (count > 2) v = f32x4.replace_lane(v, 2, load<f32>(f32Address(base, i + 2)));
  if (count > 3) v = f32x4.replace_lane(v, 3, load<f32>(f32Address(base, i + 3)));
  return v;
}
