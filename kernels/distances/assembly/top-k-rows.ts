import { rowAddress, f32Address, i32Address } from './vector-offsets';

/**
 * Ranking used by top-k: smaller keys first (keys are negated values when `largest`), equal keys
 * by lower index, NaN after every number (NaNs among themselves by lower index).
 */
// @ts-ignore: decorator
@inline function ranksAfter(a: f32, ia: i32, b: f32, ib: i32): bool {
  const aNaN = a != a;
  const bNaN = b != b;
  if (aNaN || bNaN) return aNaN && (!bNaN || ia > ib);
  return a > b || (a == b && ia > ib);
}

// @ts-ignore: decorator
@inline function heapValue(heap: usize, i: i32): f32 {
  return load<f32>(f32Address(heap, i));
}

// @ts-ignore: decorator
@inline function heapIndex(heap: usize, kk: i32, i: i32): i32 {
  return load<i32>(i32Address(heap + (<usize>kk << 2), i));
}

// @ts-ignore: decorator
@inline function heapSet(heap: usize, kk: i32, i: i32, v: f32, idx: i32): void {
  store<f32>(f32Address(heap, i), v);
  store<i32>(i32Address(heap + (<usize>kk << 2), i), idx);
}

/** Restores the heap property (worst at the root) below position `pos` in a heap of `size`. */
function siftDown(heap: usize, kk: i32, size: i32, pos: i32): void {
  const v = heapValue(heap, pos);
  const idx = heapIndex(heap, kk, pos);
  let i = pos;
  while (true) {
    const l = 2 * i + 1;
    if (l >= size) break;
    let c = l;
    const r = l + 1;
    if (r < size && ranksAfter(heapValue(heap, r), heapIndex(heap, kk, r), heapValue(heap, l), heapIndex(heap, kk, l))) c = r;
    const cv = heapValue(heap, c);
    const ci = heapIndex(heap, kk, c);
    if (!ranksAfter(cv, ci, v, idx)) break;
    heapSet(heap, kk, i, cv, ci);
    i = c;
  }
  heapSet(heap, kk, i, v, idx);
}

function siftUp(heap: usize, kk: i32, pos: i32): void {
  const v = heapValue(heap, pos);
  const idx = heapIndex(heap, kk, pos);
  let i = pos;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const pv = heapValue(heap, parent);
    const pi = heapIndex(heap, kk, parent);
    if (!ranksAfter(v, idx, pv, pi)) break;
    heapSet(heap, kk, i, pv, pi);
    i = parent;
  }
  heapSet(heap, kk, i, v, idx);
}

/**
 * For each of n rows of `scores` (n × cols): the kk best columns, best first, as indices
 * (outIdx, n × kk) and values (outVal, n × kk). Best = smallest, or largest when `largest` is 1;
 * ties go to the lower column index; NaN ranks last. Requires 1 ≤ kk ≤ cols and a scratch heap
 * of kk * 8 bytes. A bounded heap keeps the kk best seen so far with the worst at its root.
 */
export function topKRows(scores: usize, n: i32, cols: i32, kk: i32, largest: i32, outIdx: usize, outVal: usize, heap: usize): void {
  const sign: f32 = largest ? -1 : 1;
  for (let row = 0; row < n; row++) {
    const src = rowAddress(scores, row, cols);
    for (let j = 0; j < kk; j++) {
      heapSet(heap, kk, j, sign * load<f32>(f32Address(src, j)), j);
      siftUp(heap, kk, j);
    }
    for (let j = kk; j < cols; j++) {
      const v = sign * load<f32>(f32Address(src, j));
      // j is larger than every index in the heap, so on a tie j ranks after the root: skip.
      if (ranksAfter(heapValue(heap, 0), heapIndex(heap, kk, 0), v, j)) {
        heapSet(heap, kk, 0, v, j);
        siftDown(heap, kk, kk, 0);
      }
    }
    // Pop the worst to the end until the heap is empty: the row comes out best first.
    const dstIdx = rowAddress(outIdx, row, kk);
    const dstVal = rowAddress(outVal, row, kk);
    for (let size = kk; size > 0; size--) {
      store<i32>(i32Address(dstIdx, size - 1), heapIndex(heap, kk, 0));
      store<f32>(f32Address(dstVal, size - 1), sign * heapValue(heap, 0));
      if (size > 1) {
        heapSet(heap, kk, 0, heapValue(heap, size - 1), heapIndex(heap, kk, size - 1));
        siftDown(heap, kk, size - 1, 0);
      }
    }
  }
}
