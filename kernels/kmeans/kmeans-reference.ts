import { referenceAssign } from '../distances/distances-reference';

/**
 * Plain TypeScript Lloyd iterations from given centroids (float64, direct distances, no empty
 * clusters expected): the reference the k-means kernels are tested against.
 */
export function referenceLloyd(
  x: Float32Array, d: number, init: Float32Array, iterations: number,
): { centroids: Float64Array; labels: Int32Array; inertia: number } {
  const k = init.length / d;
  let centroids = Float64Array.from(init);
  for (let it = 0; it < iterations; it++) {
    const { labels } = referenceAssign(x, centroids, d);
    const sums = new Float64Array(k * d);
    const counts = new Float64Array(k);
    labels.forEach((label, i) => {
      counts[label]!++;
      for (let j = 0; j < d; j++) sums[label * d + j]! += x[i * d + j]!;
    });
    const next = new Float64Array(k * d);
    for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) next[c * d + j] = counts[c] ? sums[c * d + j]! / counts[c]! : centroids[c * d + j]!;
    centroids = next;
  }
  const { labels, distances } = referenceAssign(x, centroids, d);
  return { centroids, labels, inertia: distances.reduce((a, b) => a + b, 0) };
}
