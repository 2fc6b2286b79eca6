import fc from 'fast-check';
import { distanceKernels } from '../../../kernels/distances/distances-kernels';
import { DISTANCE_METRICS, type DistanceMetric } from '../../../kernels/distances/distance-metrics';
import { referenceAssign, referenceDistanceMatrix, referenceTopK } from '../../../kernels/distances/distances-reference';
import { FlatNearestNeighborIndex } from '../../../kernels/distances/flat-nearest-neighbor-index';

/**
 * Values with zeros, negatives and repeats (ties) well represented. Magnitudes below 1e-6 become 0:
 * their squares underflow f32, and a vector whose squared norm underflows is a zero vector to the kernels.
 */
const element = fc
  .oneof(fc.constantFrom(0, -1, 1, 2.5, -0.5), fc.float({ min: -10, max: 10, noNaN: true, noDefaultInfinity: true }))
  .map((v) => (Math.abs(v) < 1e-6 ? 0 : v));

const shapes = fc.record({ n: fc.integer({ min: 0, max: 11 }), k: fc.integer({ min: 1, max: 19 }), d: fc.integer({ min: 1, max: 13 }) });

function matrix(rows: number, d: number): fc.Arbitrary<Float32Array> {
  return fc.array(element, { minLength: rows * d, maxLength: rows * d }).map((v) => Float32Array.from(v));
}

const case_ = shapes.chain(({ n, k, d }) => fc.record({ n: fc.constant(n), k: fc.constant(k), d: fc.constant(d), x: matrix(n, d), c: matrix(k, d) }));

/** Error bound of the f32 norm form ‖x‖² − 2x·c + ‖c‖² relative to the magnitudes involved. */
function tolerance(metric: DistanceMetric, x: Float32Array, i: number, c: Float32Array, j: number, d: number): number {
  let xx = 0;
  let cc = 0;
  for (let t = 0; t < d; t++) {
    xx += x[i * d + t]! ** 2;
    cc += c[j * d + t]! ** 2;
  }
  if (metric === 'cosine') return 1e-4;
  return 1e-5 * (xx + cc) * Math.max(1, d / 4) + 1e-5;
}

describe('DistanceKernels', () => {
  const kernels = distanceKernels();

  it.each(DISTANCE_METRICS)('matches the reference %s on random shapes (odd d, d=1, n<k, zeros, negatives)', (metric) => {
    fc.assert(
      fc.property(case_, ({ n, k, d, x, c }) => {
        const got = kernels.distanceMatrix(x, c, d, metric);
        const want = referenceDistanceMatrix(x, c, d, metric);
        expect(got.length).toBe(n * k);
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < k; j++) {
            const err = Math.abs(got[i * k + j]! - want[i * k + j]!);
            if (!(err <= tolerance(metric, x, i, c, j, d))) throw new Error(`(${i},${j}) got ${got[i * k + j]} want ${want[i * k + j]}`);
          }
        }
        if (metric === 'squared-l2') expect(got.every((v) => v >= 0)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('gives cosine distance 1 for a zero vector and 0 for identical directions', () => {
    const got = kernels.distanceMatrix(new Float32Array([0, 0, 3, 4]), new Float32Array([6, 8, 0, 0]), 2, 'cosine');
    expect(Array.from(got)).toEqual([1, 1, expect.closeTo(0, 6), 1]);
  });

  it('propagates NaN in a row to that row only (NaN policy)', () => {
    const x = new Float32Array([NaN, 1, 1, 1]);
    const c = new Float32Array([1, 1, 2, 2]);
    for (const metric of DISTANCE_METRICS) {
      const got = kernels.distanceMatrix(x, c, 2, metric);
      expect(Number.isNaN(got[0]!) && Number.isNaN(got[1]!)).toBe(true);
      expect(Number.isNaN(got[2]!) || Number.isNaN(got[3]!)).toBe(false);
    }
  });

  it('assigns each row to the nearest centroid, lowest index on ties', () => {
    fc.assert(
      fc.property(case_, ({ n, d, x, c }) => {
        const got = kernels.assignNearest(x, c, d);
        const want = referenceAssign(x, c, d);
        for (let i = 0; i < n; i++) {
          if (got.labels[i] !== want.labels[i]) {
            // f32 rounding may swap near-ties: the chosen centroid must be as near within tolerance
            const wantDist = want.distances[i]!;
            const chosen = referenceDistanceMatrix(x.subarray(i * d, i * d + d), c.subarray(got.labels[i]! * d, got.labels[i]! * d + d), d, 'squared-l2')[0]!;
            expect(chosen - wantDist).toBeLessThanOrEqual(1e-4 * (1 + wantDist) * d);
          }
          expect(got.distances[i]).toBeCloseTo(want.distances[i]!, -Math.log10(1e-3 * (1 + want.distances[i]!)));
        }
      }),
      { numRuns: 150 },
    );
    const tie = kernels.assignNearest(new Float32Array([0, 0]), new Float32Array([1, 0, 0, 1, -1, 0]), 2);
    expect(tie.labels[0]).toBe(0);
  });

  it('labels a NaN row -1 with distance NaN', () => {
    const got = kernels.assignNearest(new Float32Array([NaN, 0, 1, 1]), new Float32Array([0, 0, 1, 1]), 2);
    expect(got.labels[0]).toBe(-1);
    expect(Number.isNaN(got.distances[0]!)).toBe(true);
    expect(got.labels[1]).toBe(1);
  });

  it('returns the k best per row, ties to the lower index, NaN last (k up to cols)', () => {
    const withTies = fc.oneof(fc.constantFrom(0, 1, -1, NaN), fc.float({ noDefaultInfinity: true }));
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }).chain((cols) =>
          fc.record({
            cols: fc.constant(cols),
            n: fc.integer({ min: 0, max: 5 }),
            k: fc.integer({ min: 1, max: cols }),
            largest: fc.boolean(),
            seed: fc.array(withTies, { minLength: 5 * cols, maxLength: 5 * cols }),
          }),
        ),
        ({ cols, n, k, largest, seed }) => {
          const scores = Float32Array.from(seed.slice(0, n * cols));
          const got = kernels.topK(scores, cols, k, { largest });
          const want = referenceTopK(scores, cols, k, largest);
          expect(Array.from(got.indices)).toEqual(Array.from(want.indices));
          expect(Array.from(got.values)).toEqual(Array.from(want.values).map((v) => Math.fround(v)));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('handles k = 1024 over 5000 columns like a full sort', () => {
    const cols = 5000;
    const scores = Float32Array.from({ length: 2 * cols }, (_, i) => Math.round(Math.sin(i * 12.9898) * 1000) / 10);
    const got = kernels.topK(scores, cols, 1024);
    const want = referenceTopK(scores, cols, 1024, false);
    expect(Array.from(got.indices)).toEqual(Array.from(want.indices));
  });

  it('refuses bad arguments with messages that name them', () => {
    expect(() => kernels.distanceMatrix(new Float32Array(5), new Float32Array(4), 2, 'squared-l2')).toThrow(/'x': length 5 is not a multiple of d = 2/);
    expect(() => kernels.distanceMatrix(new Float32Array(4), new Float32Array(4), 2, 'manhattan' as DistanceMetric)).toThrow(/'metric' must be one of/);
    expect(() => kernels.topK(new Float32Array(4), 4, 5)).toThrow(/'k' must be an integer in \[1, 4\]/);
    expect(() => kernels.topK(new Float32Array(2000), 2000, 1025)).toThrow(/'k'/);
    expect(() => kernels.distanceMatrix(new Float32Array(4), new Float32Array(0), 2, 'cosine')).toThrow(/at least one centroid/);
  });
});

describe('FlatNearestNeighborIndex', () => {
  it.each(DISTANCE_METRICS)('finds the same neighbours as a brute-force reference (%s)', (metric) => {
    fc.assert(
      fc.property(
        fc.record({ size: fc.integer({ min: 1, max: 30 }), m: fc.integer({ min: 0, max: 6 }), d: fc.integer({ min: 1, max: 9 }) }).chain(({ size, m, d }) =>
          fc.record({ size: fc.constant(size), d: fc.constant(d), k: fc.integer({ min: 1, max: size }), v: matrix(size, d), q: matrix(m, d) }),
        ),
        ({ size, d, k, v, q }) => {
          // distinct integer-ish values so no near-ties decide the order
          const index = new FlatNearestNeighborIndex(v, d, metric);
          const got = index.search(q, k);
          const want = referenceTopK(referenceDistanceMatrix(q, v, d, metric), size, k, metric === 'inner-product');
          for (let t = 0; t < got.values.length; t++) expect(Math.abs(got.values[t]! - want.values[t]!)).toBeLessThanOrEqual(1e-3 * (1 + Math.abs(want.values[t]!)) * d);
          index.dispose();
        },
      ),
      { numRuns: 60 },
    );
  });

  it('returns exact indices on a well-separated index, larger-first for inner product', () => {
    const v = Float32Array.from({ length: 50 * 3 }, (_, i) => (i % 3 === 0 ? Math.floor(i / 3) : 0));
    const l2 = new FlatNearestNeighborIndex(v, 3, 'squared-l2');
    expect(Array.from(l2.search(new Float32Array([10.2, 0, 0]), 3).indices)).toEqual([10, 11, 9]);
    const ip = new FlatNearestNeighborIndex(v, 3, 'inner-product');
    expect(Array.from(ip.search(new Float32Array([1, 0, 0]), 2).indices)).toEqual([49, 48]);
  });
});
