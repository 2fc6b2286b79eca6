import { rowAddress, f32Address, i32Address } from '../../distances/assembly/vector-offsets';

/**
 * Adds each row of x (n × d) into sums[labels[i]] (k × d) and counts[labels[i]] += 1; rows
 * labelled -1 are skipped. Callers zero sums and counts first. SIMD over d with a scalar tail.
 */
export function accumulateClusterSums(x: usize, n: i32, d: i32, labels: usize, sums: usize, counts: usize): void {
  const d4 = d & ~3;
  for (let i = 0; i < n; i++) {
    const label = load<i32>(i32Address(labels, i));
    if (label < 0) continue;
    const src = rowAddress(x, i, d);
    const dst = rowAddress(sums, label, d);
    let j = 0;
    for (; j < d4; j += 4) {
      v128.store(f32Address(dst, j), f32x4.add(v128.load(f32Address(dst, j)), v128.load(f32Address(src, j))));
    }
    for (; j < d; j++) store<f32>(f32Address(dst, j), load<f32>(f32Address(dst, j)) + load<f32>(f32Address(src, j)));
    store<i32>(i32Address(counts, label), load<i32>(i32Address(counts, label)) + 1);
  }
}

/**
 * Keeps f64 per-cluster sums (k × d) and counts in step with labels, touching only the rows whose
 * label changed since the last call: for each row with labels[i] ≠ previous[i], x_i moves from
 * sums[previous[i]] (skipped when -1) to sums[labels[i]], and previous[i] becomes labels[i]. With
 * previous all -1 and sums zeroed this accumulates every row. f64 keeps the running sums exact
 * enough that they match a fresh f32 summation to well within f32 rounding. Returns the number
 * of rows moved.
 */
export function moveClusterSums(x: usize, n: i32, d: i32, labels: usize, previous: usize, sums: usize, counts: usize): i32 {
  const d4 = d & ~3;
  let moved = 0;
  for (let i = 0; i < n; i++) {
    const label = load<i32>(i32Address(labels, i));
    const old = load<i32>(i32Address(previous, i));
    if (label == old) continue;
    moved++;
    store<i32>(i32Address(previous, i), label);
    const src = rowAddress(x, i, d);
    const dst = f64RowAddress(sums, label, d);
    let j = 0;
    if (old >= 0) {
      const from = f64RowAddress(sums, old, d);
      for (; j < d4; j += 4) {
        const v = v128.load(f32Address(src, j));
        const lo = f64x2.promote_low_f32x4(v);
        const hi = f64x2.promote_low_f32x4(v128.swizzle(v, i8x16(8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7)));
        const a = f64Address(from, j);
        const b = f64Address(dst, j);
        v128.store(a, f64x2.sub(v128.load(a), lo));
        v128.store(a, f64x2.sub(v128.load(a, 16), hi), 16);
        v128.store(b, f64x2.add(v128.load(b), lo));
        v128.store(b, f64x2.add(v128.load(b, 16), hi), 16);
      }
      for (; j < d; j++) {
        const v = <f64>load<f32>(f32Address(src, j));
        store<f64>(f64Address(from, j), load<f64>(f64Address(from, j)) - v);
        store<f64>(f64Address(dst, j), load<f64>(f64Address(dst, j)) + v);
      }
      store<i32>(i32Address(counts, old), load<i32>(i32Address(counts, old)) - 1);
    } else {
      for (; j < d4; j += 4) {
        const v = v128.load(f32Address(src, j));
        const lo = f64x2.promote_low_f32x4(v);
        const hi = f64x2.promote_low_f32x4(v128.swizzle(v, i8x16(8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7)));
        const b = f64Address(dst, j);
        v128.store(b, f64x2.add(v128.load(b), lo));
        v128.store(b, f64x2.add(v128.load(b, 16), hi), 16);
      }
      for (; j < d; j++) store<f64>(f64Address(dst, j), load<f64>(f64Address(dst, j)) + <f64>load<f32>(f32Address(src, j)));
    }
    store<i32>(i32Address(counts, label), load<i32>(i32Address(counts, label)) + 1);
  }
  return moved;
}

/** Byte address of row `row` of a row-major f64 matrix with `d` columns. */
// @ts-ignore: decorator
@inline function f64RowAddress(base: usize, row: i32, d: i32): usize {
  return base + ((<usize>row * <usize>d) << 3);
}

/** Byte address of f64 element `i` of a vector. */
// @ts-ignore: decorator
@inline function f64Address(base: usize, i: i32): usize {
  return base + (<usize>i << 3);
}
