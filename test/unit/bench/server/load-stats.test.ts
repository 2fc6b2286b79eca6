import { LatencyRecorder, median, nearestRank } from '../../../../bench/server/load-stats';
import { percentile } from '../../../../bench/serve/latency-sampler';

describe('LatencyRecorder', () => {
  it('gives the same nearest-rank p50 and p99 as bench:serve when it has grown past its first buffer', () => {
    const recorder = new LatencyRecorder();
    const values: number[] = [];
    let x = 12345;
    for (let i = 0; i < 200_001; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      const ms = (x / 2 ** 31) * 10;
      values.push(ms);
      recorder.record(ms);
    }
    const summary = recorder.percentiles()!;
    expect(summary.n).toBe(values.length);
    expect(summary.p50).toBe(percentile(values, 0.5));
    expect(summary.p99).toBe(percentile(values, 0.99));
    expect(summary.max).toBe(values.reduce((a, b) => Math.max(a, b)));
  });

  it('returns undefined when nothing was recorded', () => {
    expect(new LatencyRecorder().percentiles()).toBeUndefined();
  });

  it('keeps sub-millisecond values exactly (autocannon rounds its histogram to whole ms)', () => {
    const recorder = new LatencyRecorder();
    for (const ms of [0.25, 0.125, 0.5]) recorder.record(ms);
    expect(recorder.percentiles()).toEqual({ n: 3, p50: 0.25, p99: 0.5, max: 0.5 });
  });
});

describe('nearestRank', () => {
  it('picks the value at rank ceil(p * n)', () => {
    expect(nearestRank([1, 2, 3, 4], 0.5)).toBe(2);
    expect(nearestRank([1, 2, 3, 4], 0.99)).toBe(4);
    expect(nearestRank([7], 0)).toBe(7);
  });

  it('throws on no values', () => {
    expect(() => nearestRank([], 0.5)).toThrow('quantile of no values');
  });
});

describe('median', () => {
  it('averages the middle two when the count is even and takes the middle one when odd', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('throws on no values', () => {
    expect(() => median([])).toThrow('median of no values');
  });
});
