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
  /** Whether a steady window of at least the minimum length was seen; when not, the figures are the whole point's. */
  readonly steady: boolean;
  /** Length of the steady window, ms (the whole point when it was not steady). */
  readonly windowMs: number;
  /** 2xx answers within the window. */
  readonly ok: number;
  readonly latency: LatencyPercentiles | undefined;
  /** Latency of every 2xx answer of the point, the connection ramp included. */
  readonly latencyWithRamp: LatencyPercentiles | undefined;
}

/**
 * Splits a load point into its ramp and its steady window: the window opens once every
 * connection has had its first answer and at least `minRampMs` have passed. Node 20 (libuv
 * 1.46) accepts one pending connection per event-loop iteration (`npx tsx
 * bench/server/accept-ramp-probe.ts`), and an iteration of a CPU-bound server runs a request
 * for every connection already served, so connections opened all at once are reached one
 * round apart; counted in, that ramp would be the p99. Both views are kept.
 */
export class SteadyStateTracker<Connection> {
  private readonly answered = new Set<Connection>();
  private allAnsweredAt: number | undefined;
  private steadyFrom: number | undefined;
  private readonly steady = new LatencyRecorder();
  private readonly all = new LatencyRecorder();
  private okInWindow = 0;

  constructor(private readonly connections: number, private readonly startedAt: number, private readonly minRampMs = 0) {}

  /** One answer on `connection` at `at` (same clock as `startedAt`), `latencyMs` after its request went out. */
  answer(connection: Connection, at: number, latencyMs: number, ok: boolean): void {
    if (ok) this.all.record(latencyMs);
    if (this.steadyFrom !== undefined) {
      if (ok) {
        this.okInWindow++;
        this.steady.record(latencyMs);
      }
      return;
    }
    if (this.allAnsweredAt === undefined) {
      this.answered.add(connection);
      if (this.answered.size >= this.connections) this.allAnsweredAt = at;
    }
    if (this.allAnsweredAt !== undefined && at - this.startedAt >= this.minRampMs) this.steadyFrom = at;
  }

  /**
   * The split, with the point ending at `endedAt`. A window shorter than `minWindowMs` (the
   * ramp took most of the point) is no steady state: the whole point is reported instead.
   */
  result(endedAt: number, minWindowMs = 0): SteadyState {
    const latencyWithRamp = this.all.percentiles();
    const lastFirstAnswerMs = this.allAnsweredAt === undefined ? undefined : this.allAnsweredAt - this.startedAt;
    if (this.steadyFrom === undefined || endedAt - this.steadyFrom < minWindowMs) {
      return { lastFirstAnswerMs, steady: false, windowMs: endedAt - this.startedAt, ok: this.all.count, latency: latencyWithRamp, latencyWithRamp };
    }
    return { lastFirstAnswerMs, steady: true, windowMs: endedAt - this.steadyFrom, ok: this.okInWindow, latency: this.steady.percentiles(), latencyWithRamp };
  }
}
