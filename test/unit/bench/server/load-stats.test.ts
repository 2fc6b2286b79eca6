import { LatencyRecorder, median, nearestRank, SteadyStateTracker } from '../../../../bench/server/load-stats';
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

describe('SteadyStateTracker', () => {
  it('starts the window at the last connection\'s first answer and keeps the ramp in the with-ramp view', () => {
    const tracker = new SteadyStateTracker<string>(2, 1000);
    tracker.answer('a', 1010, 10, true);
    tracker.answer('a', 1020, 10, true);
    tracker.answer('b', 1500, 500, true); // b's first answer: the window opens here
    tracker.answer('a', 1510, 12, true);
    tracker.answer('b', 1520, 14, true);
    tracker.answer('a', 1530, 9, false);
    const state = tracker.result(2500);
    expect(state.lastFirstAnswerMs).toBe(500);
    expect(state.steady).toBe(true);
    expect(state.windowMs).toBe(1000);
    expect(state.ok).toBe(2);
    expect(state.latency).toEqual({ n: 2, p50: 12, p99: 14, max: 14 });
    expect(state.latencyWithRamp).toEqual({ n: 5, p50: 12, p99: 500, max: 500 });
  });

  it('falls back to the whole point when some connection never answered', () => {
    const tracker = new SteadyStateTracker<string>(3, 0);
    tracker.answer('a', 5, 5, true);
    tracker.answer('b', 9, 9, true);
    const state = tracker.result(100);
    expect(state.lastFirstAnswerMs).toBeUndefined();
    expect(state.steady).toBe(false);
    expect(state.windowMs).toBe(100);
    expect(state.ok).toBe(2);
    expect(state.latency).toEqual(state.latencyWithRamp);
  });

  it('counts a connection whose first answer was an error as answered, and no non-2xx latency', () => {
    const tracker = new SteadyStateTracker<string>(1, 0);
    tracker.answer('a', 3, 3, false);
    tracker.answer('a', 6, 3, false);
    const state = tracker.result(10);
    expect(state.lastFirstAnswerMs).toBe(3);
    expect(state.ok).toBe(0);
    expect(state.latency).toBeUndefined();
  });
});

describe('SteadyStateTracker with a minimum ramp', () => {
  it('opens the window at the first answer after the ramp when every connection answered earlier', () => {
    const tracker = new SteadyStateTracker<string>(1, 0, 100);
    tracker.answer('a', 10, 10, true);
    tracker.answer('a', 90, 80, true); // still in the ramp
    tracker.answer('a', 120, 5, true); // opens the window, not counted in it
    tracker.answer('a', 130, 7, true);
    const state = tracker.result(200);
    expect(state.lastFirstAnswerMs).toBe(10);
    expect(state.windowMs).toBe(80);
    expect(state.ok).toBe(1);
    expect(state.latency).toEqual({ n: 1, p50: 7, p99: 7, max: 7 });
    expect(state.latencyWithRamp?.n).toBe(4);
  });

  it('waits for every connection past the ramp, and reports when the last one first answered', () => {
    const tracker = new SteadyStateTracker<string>(2, 0, 100);
    tracker.answer('a', 150, 10, true);
    tracker.answer('b', 400, 390, true); // the window opens here
    tracker.answer('a', 410, 9, true);
    const state = tracker.result(500);
    expect(state.lastFirstAnswerMs).toBe(400);
    expect(state.windowMs).toBe(100);
    expect(state.ok).toBe(1);
  });
});

describe('SteadyStateTracker with a minimum window', () => {
  it('reports the whole point when the steady window is shorter than the minimum asked', () => {
    const tracker = new SteadyStateTracker<string>(2, 0);
    tracker.answer('a', 10, 10, true);
    tracker.answer('b', 900, 890, true);
    tracker.answer('a', 950, 5, true);
    const state = tracker.result(1000, 500);
    expect(state.steady).toBe(false);
    expect(state.lastFirstAnswerMs).toBe(900);
    expect(state.windowMs).toBe(1000);
    expect(state.ok).toBe(3);
    expect(state.latency).toEqual(state.latencyWithRamp);
  });
});
