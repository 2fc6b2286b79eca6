/** Latency percentiles of one load point, in ms. */
export interface LatencyPercentiles {
  readonly n: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/**
 * Collects per-response latencies (ms, full precision) without boxing them: a load point at
 * 60k req/s records 600k values in 10 s. autocannon's own histogram rounds to whole ms, too
 * coarse for sub-millisecond answers.
 */
export class LatencyRecorder {
  private values = new Float64Array(1 << 16);
  private length = 0;

  record(ms: number): void {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = ms;
  }

  get count(): number {
    return this.length;
  }

  /** Nearest-rank percentiles, as bench/serve/latency-sampler.ts computes them; undefined when nothing was recorded. */
  percentiles(): LatencyPercentiles | undefined {
    if (this.length === 0) return undefined;
    const sorted = this.values.slice(0, this.length).sort();
    return { n: this.length, p50: nearestRank(sorted, 0.5), p99: nearestRank(sorted, 0.99), max: sorted[sorted.length - 1]! };
  }
}

/** The nearest-rank `p` quantile of ascending values. */
export function nearestRank(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) throw new Error('quantile of no values');
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/** The median of a few values (the rounds of one framework, the windows of a loop). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** What a load point looks like once every connection has had its first answer. */
export interface SteadyState {
  /** ms from the start of the point until the last connection's first answer; undefined when some connection never got one. */
  readonly lastFirstAnswerMs: number | undefined;
  /** Length of the steady window, ms (the whole point when it never became steady). */
  readonly windowMs: number;
  /** 2xx answers within the window. */
  readonly ok: number;
  readonly latency: LatencyPercentiles | undefined;
  /** Latency of every 2xx answer of the point, the connection ramp included. */
  readonly latencyWithRamp: LatencyPercentiles | undefined;
}

/**
 * Splits a load point at the moment every connection has had its first answer. A node server
 * busy with CPU-bound requests reaches connections opened all at once one after another, a
 * round of requests apart, and serves them round-robin from then on; counted in, that ramp
 * is the p99 of a 10 s point. Both views are kept: bench:server reports the time to the last
 * first answer and the p99 with the ramp beside the steady figures.
 */
export class SteadyStateTracker<Connection> {
  private readonly answered = new Set<Connection>();
  private steadyFrom: number | undefined;
  private readonly steady = new LatencyRecorder();
  private readonly all = new LatencyRecorder();
  private okInWindow = 0;

  constructor(private readonly connections: number, private readonly startedAt: number) {}

  /** One answer on `connection` at `at` (same clock as `startedAt`), `latencyMs` after its request went out. */
  answer(connection: Connection, at: number, latencyMs: number, ok: boolean): void {
    if (this.steadyFrom === undefined) {
      this.answered.add(connection);
      if (this.answered.size >= this.connections) this.steadyFrom = at;
    } else if (ok) {
      this.okInWindow++;
      this.steady.record(latencyMs);
    }
    if (ok) this.all.record(latencyMs);
  }

  /** The split, with the point ending at `endedAt`. */
  result(endedAt: number): SteadyState {
    const latencyWithRamp = this.all.percentiles();
    if (this.steadyFrom === undefined) {
      return { lastFirstAnswerMs: undefined, windowMs: endedAt - this.startedAt, ok: this.all.count, latency: latencyWithRamp, latencyWithRamp };
    }
    return { lastFirstAnswerMs: this.steadyFrom - this.startedAt, windowMs: endedAt - this.steadyFrom, ok: this.okInWindow, latency: this.steady.percentiles(), latencyWithRamp };
  }
}
