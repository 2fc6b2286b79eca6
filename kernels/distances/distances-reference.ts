import type { DistanceMetric } from './distance-metrics';

/**
 * Plain TypeScript references for the distances family, computed in float64 with the direct
 * formulas (Σ(x−c)², Σxc, 1 − Σxc/(‖x‖‖c‖)); the kernels are tested against these.
 */
export function referenceDistance(x: ArrayLike<number>, xi: number, c: ArrayLike<number>, cj: number, d: number, metric: DistanceMetric): number {
  let dot = 0;
  let sq = 0;
  let xx = 0;
  let cc = 0;
  for (let t = 0; t < d; t++) {
    const a = x[xi * d + t]!;
    const b = c[cj * d + t]!;
    dot += a * b;
    sq += (a - b) * (a - b);
    xx += a * a;
    cc += b * b;
  }
  if (metric === 'squared-l2') return sq;
  if (metric === 'inner-product') return dot;
  return xx === 0 || cc === 0 ? (Number.isNaN(dot) ? NaN : 1) : 1 - dot / Math.sqrt(xx * cc);
}

/** n × k matrix of referenceDistance. */
export function referenceDistanceMatrix(x: ArrayLike<number>, c: ArrayLike<number>, d: number, metric: DistanceMetric): Float64Array {
  const n = x.length / d;
  const k = c.length / d;
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) out[i * k + j] = referenceDistance(x, i, c, j, d, metric);
  return out;
}

/** Top-k by full sort: smaller (or larger) first, lower index on ties, NaN last. */
export function referenceTopK(scores: ArrayLike<number>, cols: number, k: number, largest: boolean): { indices: Int32Array; values: Float64Array } {
  const n = scores.length / cols;
  const indices = new Int32Array(n * k);
  const values = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    const order = Array.from({ length: cols }, (_, j) => j);
    const key = (j: number): number => (largest ? -1 : 1) * scores[i * cols + j]!;
    order.sort((a, b) => {
      const ka = key(a);
      const kb = key(b);
      const na = Number.isNaN(ka);
      const nb = Number.isNaN(kb);
      if (na || nb) return na && nb ? a - b : na ? 1 : -1;
      return ka - kb || a - b;
    });
    for (let t = 0; t < k; t++) {
      indices[i * k + t] = order[t]!;
      values[i * k + t] = scores[i * cols + order[t]!]!;
    }
  }
  return { indices, values };
}

/** Nearest centroid by direct squared L2 (first minimum; -1 when every distance is NaN). */
export function referenceAssign(x: ArrayLike<number>, c: ArrayLike<number>, d: number): { labels: Int32Array; distances: Float64Array } {
  const n = x.length / d;
  const k = c.length / d;
  const labels = new Int32Array(n).fill(-1);
  const distances = new Float64Array(n).fill(NaN);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      const v = referenceDistance(x, i, c, j, d, 'squared-l2');
      if (v < distances[i]! || (labels[i] === -1 && !Number.isNaN(v))) {
        distances[i] = v;
        labels[i] = j;
      }
    }
  }
  return { labels, distances };
}
