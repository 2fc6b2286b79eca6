import { DISTANCE_METRICS } from '../../../kernels/distances/distance-metrics';
import { KernelArgumentError } from '../../../kernels/kernel-arguments/kernel-argument-checks';
import { DistanceKernels, distanceKernels, DEFAULT_THREAD_THRESHOLDS } from '../../../kernels/distances/distances-kernels';
import { referenceTopK } from '../../../kernels/distances/distances-reference';
import { FlatNearestNeighborIndex } from '../../../kernels/distances/flat-nearest-neighbor-index';
import { KernelThreadPool } from '../../../kernels/runtime/kernel-thread-pool';
import { mulberry32 } from '../../../kernels/seeded-random/seeded-random';

/** Deterministic values with ties (a small set of repeated values), zeros and negatives. */
function values(length: number, seed: number, levels = 0): Float32Array {
  const random = mulberry32(seed);
  return Float32Array.from({ length }, () => {
    const u = random();
    return levels > 0 ? Math.floor(u * levels) - Math.floor(levels / 2) : (u - 0.5) * 8;
  });
}

/** Element-wise identity: same bits for numbers (so -0 ≠ 0), NaN where NaN. */
function expectIdentical(got: ArrayLike<number>, want: ArrayLike<number>): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) throw new Error(`element ${i}: got ${got[i]}, single-threaded ${want[i]}`);
  }
}

const SPLIT_ALWAYS = { distanceFlops: 0, topKScores: 0 };

describe('DistanceKernels with threads', () => {
  const single = distanceKernels();
  const two = new DistanceKernels(undefined, { threads: 2, thresholds: SPLIT_ALWAYS });
  const three = new DistanceKernels(undefined, { threads: 3, thresholds: SPLIT_ALWAYS });
  const runRows = jest.spyOn(KernelThreadPool.prototype, 'runRows');

  afterAll(() => runRows.mockRestore());

  // n: 0, 1, N < threads, N not divisible by threads, odd; d: 1, not a multiple of 4, wide; k odd and even.
  const shapes = [
    [0, 3, 5], [1, 1, 1], [2, 5, 3], [3, 4, 7], [5, 9, 13], [7, 17, 2], [13, 8, 67], [33, 3, 260], [101, 33, 64],
  ] as const;

  it.each(DISTANCE_METRICS)('gives the single-threaded %s matrix bit for bit on odd sizes, N < threads and NaN rows', (metric) => {
    for (const [n, k, d] of shapes) {
      const x = values(n * d, n * 31 + d);
      const c = values(k * d, k * 17 + d);
      if (n > 2) x.fill(NaN, d, d + 1); // row 1 has a NaN
      if (n > 4) x.fill(0, 3 * d, 4 * d); // row 3 is zero (cosine distance 1)
      const want = single.distanceMatrix(x, c, d, metric);
      runRows.mockClear();
      expectIdentical(two.distanceMatrix(x, c, d, metric), want);
      expectIdentical(three.distanceMatrix(x, c, d, metric), want);
      if (n > 1) expect(runRows).toHaveBeenCalled();
    }
  });

  it('gives the single-threaded nearest assignment bit for bit, NaN rows labelled -1', () => {
    for (const [n, k, d] of shapes) {
      const x = values(n * d, n + 7 * d, 5);
      const c = values(k * d, k + 3 * d, 5); // integer levels: many exact ties between centroids
      if (n > 2) x[d + 1] = NaN;
      const want = single.assignNearest(x, c, d);
      for (const threaded of [two, three]) {
        const got = threaded.assignNearest(x, c, d);
        expectIdentical(got.labels, want.labels);
        expectIdentical(got.distances, want.distances);
      }
      if (n > 2) expect(want.labels[1]).toBe(-1);
    }
  });

  it.each([1, 7, 64, 1024])('gives the single-threaded top-%i per row with ties and NaN, smallest and largest first', (k) => {
    const cols = 1500;
    for (const n of [1, 2, 3, 9]) {
      const scores = values(n * cols, n * 1000 + k, 40); // 40 levels over 1500 columns: ties everywhere
      for (let i = 0; i < n * cols; i += 97) scores[i] = NaN;
      for (const largest of [false, true]) {
        const want = single.topK(scores, cols, k, { largest });
        for (const threaded of [two, three]) {
          const got = threaded.topK(scores, cols, k, { largest });
          expectIdentical(got.indices, want.indices);
          expectIdentical(got.values, want.values);
        }
        if (n === 3) expect(Array.from(want.indices)).toEqual(Array.from(referenceTopK(scores, cols, k, largest).indices));
      }
    }
  });

  it('splits only from the work thresholds by default', () => {
    const defaults = distanceKernels({ threads: 2 });
    const d = 64;
    const k = 32;
    const small = Math.max(2, Math.floor(DEFAULT_THREAD_THRESHOLDS.distanceFlops / (3 * k * d)) - 1);
    const c = values(k * d, 5);
    runRows.mockClear();
    expectIdentical(defaults.distanceMatrix(values(small * d, 1), c, d, 'squared-l2'), single.distanceMatrix(values(small * d, 1), c, d, 'squared-l2'));
    expect(runRows).not.toHaveBeenCalled();
    const large = small + 64 + 1; // odd, past the threshold
    const x = values(large * d, 2);
    expectIdentical(defaults.distanceMatrix(x, c, d, 'cosine'), single.distanceMatrix(x, c, d, 'cosine'));
    expect(runRows).toHaveBeenCalled();
  });

  it('refuses a bad thread count and an instance with threads, saying what to pass', () => {
    expect(() => new DistanceKernels(undefined, { threads: 0 })).toThrow(/'threads' must be an integer in \[1, 64\], got 0/);
    expect(() => new DistanceKernels(single.instance, { threads: 2 })).toThrow(KernelArgumentError);
    expect(() => new DistanceKernels(single.instance, { threads: 2 })).toThrow(/pass no instance/);
  });
});

describe('FlatNearestNeighborIndex with threads', () => {
  it.each(DISTANCE_METRICS)('searches like one thread, queries split over threads (%s)', (metric) => {
    const d = 37;
    const size = 1201;
    const vectors = values(size * d, 11, 9); // integer levels: tied distances between index vectors
    const queries = values(23 * d, 12, 9);
    queries.fill(NaN, 2 * d, 2 * d + 3);
    const split = new DistanceKernels(undefined, { threads: 3, thresholds: SPLIT_ALWAYS });
    const one = new FlatNearestNeighborIndex(vectors, d, metric);
    const many = new FlatNearestNeighborIndex(vectors, d, metric, split);
    const byOption = new FlatNearestNeighborIndex(vectors, d, metric, { threads: 2 });
    for (const k of [1, 10, 1024]) {
      const want = one.search(queries, k);
      for (const index of [many, byOption]) {
        const got = index.search(queries, k);
        expectIdentical(got.indices, want.indices);
        expectIdentical(got.values, want.values);
      }
    }
    for (const index of [one, many, byOption]) index.dispose();
  });
});
