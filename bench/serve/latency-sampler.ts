/** Bounds of one measured loop: it stops at `count` samples or `maxMs`, whichever comes first. */
export interface LoopBounds {
  readonly count: number;
  readonly maxMs: number;
}

/** Warm-up before measuring: at least `count` calls and `minMs`, at most `maxMs`. */
export interface WarmupBounds {
  readonly count: number;
  readonly minMs: number;
  readonly maxMs: number;
}

export interface LatencySummary {
  readonly n: number;
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
}

/** Nearest-rank percentile of unsorted samples (ms). */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new Error('percentile of no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

export function summarize(samples: readonly number[]): LatencySummary {
  return {
    n: samples.length,
    p50: percentile(samples, 0.5),
    p99: percentile(samples, 0.99),
    mean: samples.reduce((s, v) => s + v, 0) / samples.length,
  };
}

/** Calls `work` until the warm-up bounds are met (onnxruntime-web spikes 5–9 ms while V8 tiers its WASM up). */
export async function warmUp(work: () => Promise<unknown> | unknown, bounds: WarmupBounds): Promise<number> {
  const started = performance.now();
  let calls = 0;
  for (;;) {
    const elapsed = performance.now() - started;
    if (elapsed >= bounds.maxMs || (calls >= bounds.count && elapsed >= bounds.minMs)) return calls;
    await work();
    calls++;
  }
}

/** Wall-clock latency of each call of `work`, in ms, within `bounds`. */
export async function sampleLatency(work: () => Promise<unknown> | unknown, bounds: LoopBounds): Promise<number[]> {
  const samples: number[] = [];
  const started = performance.now();
  while (samples.length < bounds.count && performance.now() - started < bounds.maxMs) {
    const t0 = performance.now();
    await work();
    samples.push(performance.now() - t0);
  }
  return samples;
}

/**
 * Two workloads measured in alternation (A then B, then B then A, ...), so drift and
 * neighbours' load on a shared machine hit both alike; the ratio of their medians is fair.
 */
export async function samplePaired(
  a: () => Promise<unknown> | unknown,
  b: () => Promise<unknown> | unknown,
  bounds: LoopBounds,
): Promise<{ a: number[]; b: number[] }> {
  const samplesA: number[] = [];
  const samplesB: number[] = [];
  const started = performance.now();
  const time = async (work: () => Promise<unknown> | unknown, into: number[]) => {
    const t0 = performance.now();
    await work();
    into.push(performance.now() - t0);
  };
  while (samplesA.length < bounds.count && performance.now() - started < bounds.maxMs) {
    if (samplesA.length % 2 === 0) {
      await time(a, samplesA);
      await time(b, samplesB);
    } else {
      await time(b, samplesB);
      await time(a, samplesA);
    }
  }
  return { a: samplesA, b: samplesB };
}

export function ms(value: number, digits = 3): number {
  return Number(value.toFixed(digits));
}
