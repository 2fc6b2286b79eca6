import { compareCrossover, measuredCrossover, routingBatchSizes, type RoutePoint } from '../../../../bench/gpu-task/route-crossover';

/** Points on two straight lines: local `lf + lp·n`, remote `rf + rp·n` ms. */
const lines = (sizes: readonly number[], lf: number, lp: number, rf: number, rp: number): RoutePoint[] =>
  sizes.map((rows) => ({ rows, localMs: lf + lp * rows, remoteMs: rf + rp * rows }));

describe('measuredCrossover', () => {
  it('places the switch where the two lines cross between the measured sizes', () => {
    // Local 1 + 1·n, remote 11 + 0.5·n: equal at n = 20, measured at 16 and 32.
    expect(measuredCrossover(lines([1, 2, 4, 8, 16, 32, 64], 1, 1, 11, 0.5))).toBeCloseTo(20, 10);
  });

  it('is 1 when the remote is faster from one row, Infinity when it never is', () => {
    expect(measuredCrossover(lines([1, 2, 4], 10, 1, 1, 0.5))).toBe(1);
    expect(measuredCrossover(lines([1, 2, 4], 1, 0.5, 10, 1))).toBe(Infinity);
  });

  it('takes the last switch when a noisy point is remote-faster below it', () => {
    const points: RoutePoint[] = [
      { rows: 1, localMs: 2, remoteMs: 3 }, { rows: 2, localMs: 4, remoteMs: 3.5 }, { rows: 4, localMs: 6, remoteMs: 8 }, { rows: 8, localMs: 12, remoteMs: 8 },
    ];
    // Remote minus local: +2 at 4 rows, -4 at 8: crossing at 4 + 4·2/6.
    expect(measuredCrossover(points)).toBeCloseTo(4 + 8 / 6, 10);
  });
});

describe('compareCrossover', () => {
  const points = lines([1, 2, 4, 8, 16, 32, 64], 1, 1, 11, 0.5);

  it('compares the measured crossover with the first batch the router sends remote (threshold + 1)', () => {
    expect(compareCrossover(points, 19)).toEqual({ measuredRows: 20, routerRows: 20, factor: 1, withinFactor2: true });
    expect(compareCrossover(points, 44)).toMatchObject({ routerRows: 45, factor: 2.25, withinFactor2: false });
    expect(compareCrossover(points, 9)).toMatchObject({ routerRows: 10, factor: 2, withinFactor2: true });
  });

  it('agrees when neither sends anything remote up to the largest size measured, and not when only one does', () => {
    const never = lines([1, 2, 4, 8], 1, 0.5, 10, 1);
    expect(compareCrossover(never, 40)).toMatchObject({ measuredRows: Infinity, routerRows: Infinity, factor: 1, withinFactor2: true });
    expect(compareCrossover(never, Infinity)).toMatchObject({ factor: 1, withinFactor2: true });
    expect(compareCrossover(never, 3)).toMatchObject({ routerRows: 4, factor: Infinity, withinFactor2: false });
  });

  it('counts a threshold of 0 as remote from one row', () => {
    expect(compareCrossover(lines([1, 2], 10, 1, 1, 0.5), 0)).toMatchObject({ measuredRows: 1, routerRows: 1, withinFactor2: true });
  });
});

describe('routingBatchSizes', () => {
  it('doubles up to the max batch, ending on it, and stops at the limit', () => {
    expect(routingBatchSizes(8)).toEqual([1, 2, 4, 8]);
    expect(routingBatchSizes(100)).toEqual([1, 2, 4, 8, 16, 32, 64, 100]);
    expect(routingBatchSizes(4096)).toHaveLength(11);
    expect(routingBatchSizes(4096).at(-1)).toBe(1024);
  });
});
