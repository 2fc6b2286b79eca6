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
