/** Nearest-rank percentile (p in 0..100) of the values; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** One measured cold start: phase durations in ms (in the order they happened), the total and peak RSS. */
export interface ColdSample {
  readonly ok: true;
  readonly phases: Readonly<Record<string, number>>;
  readonly totalMs: number;
  readonly peakRssMb: number;
}

/** A cold start that did not answer: the process crashed, timed out or answered with an error. */
export interface FailedSample {
  readonly ok: false;
  readonly reason: string;
  readonly stderr: string;
}

export type SampleOutcome = ColdSample | FailedSample;

/** Median, p90 and the per-phase medians of one configuration's samples. */
export interface ColdSummary {
  readonly id: string;
  readonly samples: number;
  readonly failed: number;
  readonly medianMs: number;
  readonly p90Ms: number;
  readonly peakRssMb: number;
  /** Median of each phase over the good samples (their sum is close to, not equal to, medianMs). */
  readonly phaseMedians: Readonly<Record<string, number>>;
  readonly failures: readonly FailedSample[];
  /** Extra columns, e.g. billed ms and cost for the AWS mode. */
  readonly extra?: Readonly<Record<string, number>>;
}

export function summarize(id: string, outcomes: readonly SampleOutcome[], extra?: Record<string, number>): ColdSummary {
  const good = outcomes.filter((o): o is ColdSample => o.ok);
  const failures = outcomes.filter((o): o is FailedSample => !o.ok);
  const phaseNames = [...new Set(good.flatMap((s) => Object.keys(s.phases)))];
  const phaseMedians = Object.fromEntries(phaseNames.map((name) => [name, median(good.map((s) => s.phases[name] ?? 0))]));
  return {
    id,
    samples: outcomes.length,
    failed: failures.length,
    medianMs: median(good.map((s) => s.totalMs)),
    p90Ms: percentile(good.map((s) => s.totalMs), 90),
    peakRssMb: median(good.map((s) => s.peakRssMb)),
    phaseMedians,
    failures,
    ...(extra ? { extra } : {}),
  };
}
