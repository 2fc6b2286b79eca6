import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';

/** One measured figure in the DESIGN.md benchmark result format. `ratio` is ours over the anchor's, both from the same run. */
export interface BenchResult {
  readonly case: string;
  readonly metric: string;
  readonly value: number;
  readonly anchor?: string;
  readonly anchor_value?: number;
  readonly ratio?: number;
  readonly lower_is_better: boolean;
  readonly target_ratio?: number;
  readonly met?: boolean;
  /** Why a figure is missing, scaled or otherwise qualified (e.g. "anchor not installed: skipped"). */
  readonly note?: string;
}

/** Everything `bench/results/<name>.json` holds. */
export interface BenchResultFile {
  readonly name: string;
  readonly date: string;
  readonly machine: string;
  readonly results: readonly BenchResult[];
}

/** "<cpu model>, <n> cores, node <v>", as the result files name the machine. */
export function describeMachine(): string {
  const cpu = cpus();
  return `${cpu[0]?.model.trim() ?? 'unknown cpu'}, ${cpu.length} cores, node ${process.versions.node}`;
}

/**
 * Builds a result with `ratio` and `met` filled in from the anchor, so every case computes them the same way.
 * @example compareWithAnchor({ case: 'kmeans/balanced', metric: 'median_ms', value: 12, lower_is_better: true }, 'scikit-learn 1.2.1, 1 thread', 10, 1.0)
 */
export function compareWithAnchor(
  ours: Omit<BenchResult, 'anchor' | 'anchor_value' | 'ratio' | 'met' | 'target_ratio'>,
  anchor: string,
  anchorValue: number,
  targetRatio?: number,
): BenchResult {
  const ratio = ours.value / anchorValue;
  const met = targetRatio === undefined ? undefined : ours.lower_is_better ? ratio <= targetRatio : ratio >= targetRatio;
  return { ...ours, anchor, anchor_value: anchorValue, ratio: Number(ratio.toPrecision(4)), target_ratio: targetRatio, met };
}

/** Writes `bench/results/<name>.json` in the DESIGN.md format and returns its path. */
export function writeBenchResults(name: string, results: readonly BenchResult[]): string {
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file: BenchResultFile = { name, date: new Date().toISOString(), machine: describeMachine(), results };
  const path = join(dir, `${name}.json`);
  writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`);
  return path;
}
