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
