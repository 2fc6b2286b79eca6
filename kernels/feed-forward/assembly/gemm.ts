import { blockDot0, blockDot1, dotPair, dotSingle } from '../../distances/assembly/dot-blocks';
import { multiplyAdd } from '../../distances/assembly/multiply-add';
import { f32At, f32RowAt } from './offsets';

// y[m, n] = x[m, k] · w[n, k]ᵀ + bias[n]: a dense layer with its weights stored one output unit per
// row (ONNX Gemm's B with transB = 1, the layout the build writes every MatMul/Gemm weight in), so
// each output is a dot product of two contiguous rows, as in the distance kernels.
// - Batches (m >= 4): 4 rows × 2 units per microkernel call (distances' dotPair), blocked over
//   K_BLOCK inputs × N_BLOCK units so a block of weights (N_BLOCK·K_BLOCK·4 = 128 KiB) is read
//   from memory once and reused by every group of 4 rows from cache; partial sums accumulate in y.
// - Rows left over (m mod 4, and batch 1): one row × 4 units, each group of 4 weight rows
//   streamed once start to end, the row in L1.

const K_BLOCK: i32 = 512;
const N_BLOCK: i32 = 64;

/** [Σ a0, Σ a1, Σ a2, Σ a3] as one vector. */
// @ts-ignore: decorator
@inline function sum4(a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  const s01 = f32x4.add(v128.shuffle<f32>(a0, a1, 0, 4, 1, 5), v128.shuffle<f32>(a0, a1, 2, 6, 3, 7));
  const s23 = f32x4.add(v128.shuffle<f32>(a2, a3, 0, 4, 1, 5), v128.shuffle<f32>(a2, a3, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(s01, s23, 0, 1, 4, 5), v128.shuffle<f32>(s01, s23, 2, 3, 6, 7));
}

/** The dot product of k floats at a and b, summed in dotPair's order (lanes, then (0+2)+(1+3), then the tail). */
// @ts-ignore: decorator
@inline function dot(a: usize, b: usize, k: i32): f32 {
  const k4 = k & ~3;
  let acc = f32x4.splat(0);
  for (let t = 0; t < k4; t += 4) acc = multiplyAdd(v128.load(f32At(a, t)), v128.load(f32At(b, t)), acc);
  let s = f32x4.splat((f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 2)) + (f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 3)));
  for (let t = k4; t < k; t++) s = multiplyAdd(f32x4.splat(load<f32>(f32At(a, t))), f32x4.splat(load<f32>(f32At(b, t))), s);
  return f32x4.extract_lane(s, 0);
}

/**
 * y[j] = bias[j] + Σ over each block of K_BLOCK inputs of row · w[j] (bias 0: none), for every
 * unit j of one row, 4 units at a time with dotPair's lanes and the batched path's order of sums,
 * so a row's result is the same whether it runs alone or in a batch. Each group of 4 weight rows
 * is streamed start to end (4 long streams the prefetcher follows) and its sums stay in registers.
 */
function rowTimesWeights(row: usize, k: i32, w: usize, n: i32, bias: usize, y: usize): void {
  const n4 = n & ~3;
  for (let j = 0; j < n4; j += 4) {
    const w0 = f32RowAt(w, j, k, 0);
    const w1 = f32RowAt(w, j + 1, k, 0);
    const w2 = f32RowAt(w, j + 2, k, 0);
    const w3 = f32RowAt(w, j + 3, k, 0);
    let total = bias != 0 ? v128.load(f32At(bias, j)) : f32x4.splat(0);
    for (let k0 = 0; k0 < k; k0 += K_BLOCK) {
      const kc = min<i32>(K_BLOCK, k - k0);
      const end = k0 + (kc & ~3);
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      for (let t = k0; t < end; t += 4) {
        const x = v128.load(f32At(row, t));
        a0 = multiplyAdd(x, v128.load(f32At(w0, t)), a0);
        a1 = multiplyAdd(x, v128.load(f32At(w1, t)), a1);
        a2 = multiplyAdd(x, v128.load(f32At(w2, t)), a2);
        a3 = multiplyAdd(x, v128.load(f32At(w3, t)), a3);
      }
      let s = sum4(a0, a1, a2, a3);
      for (let t = end; t < k0 + kc; t++) {
        const x = f32x4.splat(load<f32>(f32At(row, t)));
        let wv = f32x4.splat(load<f32>(f32At(w0, t)));
        wv = f32x4.replace_lane(wv, 1, load<f32>(f32At(w1, t)));
        wv = f32x4.replace_lane(wv, 2, load<f32>(f32At(w2, t)));
        wv = f32x4.replace_lane(wv, 3, load<f32>(f32At(w3, t)));
        s = multiplyAdd(x, wv, s);
      }
      total = f32x4.add(total, s);
    }
    v128.store(f32At(y, j), total);
  }
  for (let j = n4; j < n; j++) {
    let total: f32 = bias != 0 ? load<f32>(f32At(bias, j)) : 0;
    for (let k0 = 0; k0 < k; k0 += K_BLOCK) total += dot(f32At(row, k0), f32RowAt(w, j, k, k0), min<i32>(K_BLOCK, k - k0));
    store<f32>(f32At(y, j), total);
  }
}

/** Adds the dot products of rows i..i+3 (block of kc inputs from k0) with units j0..j1-1 into y. */
// @ts-ignore: decorator
@inline function accumulateRowBlock(x: usize, i: i32, k: i32, k0: i32, kc: i32, w: usize, j0: i32, j1: i32, n: i32, y: usize): void {
  const r0 = f32RowAt(x, i, k, k0);
  const r1 = f32RowAt(x, i + 1, k, k0);
  const r2 = f32RowAt(x, i + 2, k, k0);
  const r3 = f32RowAt(x, i + 3, k, k0);
  let j = j0;
  for (; j + 2 <= j1; j += 2) {
    dotPair(r0, r1, r2, r3, f32RowAt(w, j, k, k0), f32RowAt(w, j + 1, k, k0), kc);
    const d0 = blockDot0;
    const d1 = blockDot1;
    store<f32>(f32RowAt(y, i, n, j), load<f32>(f32RowAt(y, i, n, j)) + f32x4.extract_lane(d0, 0));
    store<f32>(f32RowAt(y, i + 1, n, j), load<f32>(f32RowAt(y, i + 1, n, j)) + f32x4.extract_lane(d0, 1));
    store<f32>(f32RowAt(y, i + 2, n, j), load<f32>(f32RowAt(y, i + 2, n, j)) + f32x4.extract_lane(d0, 2));
    store<f32>(f32RowAt(y, i + 3, n, j), load<f32>(f32RowAt(y, i + 3, n, j)) + f32x4.extract_lane(d0, 3));
    store<f32>(f32RowAt(y, i, n, j + 1), load<f32>(f32RowAt(y, i, n, j + 1)) + f32x4.extract_lane(d1, 0));
    store<f32>(f32RowAt(y, i + 1, n, j + 1), load<f32>(f32RowAt(y, i + 1, n, j + 1)) + f32x4.extract_lane(d1, 1));
    store<f32>(f32RowAt(y, i + 2, n, j + 1), load<f32>(f32RowAt(y, i + 2, n, j + 1)) + f32x4.extract_lane(d1, 2));
    store<f32>(f32RowAt(y, i + 3, n, j + 1), load<f32>(f32RowAt(y, i + 3, n, j + 1)) + f32x4.extract_lane(d1, 3));
  }
  if (j < j1) {
    dotSingle(r0, r1, r2, r3, f32RowAt(w, j, k, k0), kc);
    const d0 = blockDot0;
    store<f32>(f32RowAt(y, i, n, j), load<f32>(f32RowAt(y, i, n, j)) + f32x4.extract_lane(d0, 0));
    store<f32>(f32RowAt(y, i + 1, n, j), load<f32>(f32RowAt(y, i + 1, n, j)) + f32x4.extract_lane(d0, 1));
    store<f32>(f32RowAt(y, i + 2, n, j), load<f32>(f32RowAt(y, i + 2, n, j)) + f32x4.extract_lane(d0, 2));
    store<f32>(f32RowAt(y, i + 3, n, j), load<f32>(f32RowAt(y, i + 3, n, j)) + f32x4.extract_lane(d0, 3));
  }
}

/**
 * y[m, n] = x[m, k] · w[n, k]ᵀ + bias[n] (bias 0: no bias). x, w, y row-major, y distinct from x.
 * m, k, n >= 1. Every row sums in the same order (bias, then each block of K_BLOCK inputs), so
 * rows past the last multiple of 4, which take the one-row path, match what they give in a group.
 */
export function denseLayer(x: usize, m: i32, k: i32, w: usize, n: i32, bias: usize, y: usize): void {
  const m4 = m & ~3;
  if (m4 > 0) {
    for (let i = 0; i < m4; i++) {
      const yRow = f32RowAt(y, i, n, 0);
      for (let j = 0; j < n; j++) store<f32>(f32At(yRow, j), bias != 0 ? load<f32>(f32At(bias, j)) : 0);
    }
    for (let k0 = 0; k0 < k; k0 += K_BLOCK) {
      const kc = min<i32>(K_BLOCK, k - k0);
      for (let j0 = 0; j0 < n; j0 += N_BLOCK) {
        const j1 = min<i32>(n, j0 + N_BLOCK);
        for (let i = 0; i < m4; i += 4) accumulateRowBlock(x, i, k, k0, kc, w, j0, j1, n, y);
      }
    }
  }
  for (let i = m4; i < m; i++) rowTimesWeights(f32RowAt(x, i, k, 0), k, w, n, bias, f32RowAt(y, i, n, 0));
}

/** y[c, r] = x[r, c]: a row-major [rows, cols] matrix transposed (Gemm's transA on a computed tensor). */
export function transpose(x: usize, rows: i32, cols: i32, y: usize): void {
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) store<f32>(f32RowAt(y, c, rows, r), load<f32>(f32RowAt(x, r, cols, c)));
  }
}
