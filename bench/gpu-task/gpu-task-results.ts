import type { BenchResult } from '../bench-results';
import { median } from '../server/load-stats';
import type { LoadPoint } from '../server/load-run';
import type { BatchingMeasurement } from './batching-phase';
import { costRows, loadedTaskCost, TASK_ON_CPU_LABEL, type CostRow, type LoadedTaskCost } from './route-cost-table';
import type { RoutingMeasurement, RoutingSeries } from './routing-phase';

/** Batching on over off, throughput (issue 8's target). */
export const BATCHING_TARGET_RATIO = 3;

/** The batching phase's figures: medians over the rounds. */
export interface BatchingSummary {
  readonly onReqPerSec: number;
  readonly offReqPerSec: number;
  readonly ratio: number;
  readonly onP50: number;
  readonly onP99: number;
  readonly offP50: number;
  readonly offP99: number;
  /** max_queue_delay + 2 × the full batch's round trip. */
  readonly p99BoundMs: number;
  readonly errors: number;
}

function medianOf(points: readonly LoadPoint[], pick: (p: LoadPoint) => number | undefined): number {
  const values = points.map(pick).filter((v): v is number => v !== undefined && Number.isFinite(v));
  return values.length === 0 ? NaN : median(values);
}

export function summarizeBatching(m: BatchingMeasurement): BatchingSummary {
  const onReqPerSec = medianOf(m.on, (p) => p.reqPerSec);
  const offReqPerSec = medianOf(m.off, (p) => p.reqPerSec);
  return {
    onReqPerSec,
    offReqPerSec,
    ratio: onReqPerSec / offReqPerSec,
    onP50: medianOf(m.on, (p) => p.latency?.p50),
    onP99: medianOf(m.on, (p) => p.latency?.p99),
    offP50: medianOf(m.off, (p) => p.latency?.p50),
    offP99: medianOf(m.off, (p) => p.latency?.p99),
    p99BoundMs: m.maxQueueDelayMs + 2 * m.fullBatch.roundTripP50Ms,
    errors: [...m.on, ...m.off].reduce((sum, p) => sum + p.errors, 0),
  };
}

const sig = (v: number, digits = 4) => Number(v.toPrecision(digits));

export function batchingResults(m: BatchingMeasurement, s: BatchingSummary): BenchResult[] {
  const base = `batching/mlp-medium/b1/c${m.clients}`;
  return [
    { case: `${base}/on`, metric: 'req_per_s', value: sig(s.onReqPerSec), anchor: 'batching off, same run', anchor_value: sig(s.offReqPerSec), ratio: sig(s.ratio), target_ratio: BATCHING_TARGET_RATIO, met: s.ratio >= BATCHING_TARGET_RATIO, lower_is_better: false, note: TASK_ON_CPU_LABEL },
    { case: `${base}/on`, metric: 'p99_ms', value: sig(s.onP99), anchor: `max_queue_delay ${m.maxQueueDelayMs} ms + 2 x one ${m.fullBatch.rows}-row batch (${sig(m.fullBatch.roundTripP50Ms)} ms round trip)`, anchor_value: sig(s.p99BoundMs), ratio: sig(s.onP99 / s.p99BoundMs), target_ratio: 1, met: s.onP99 <= s.p99BoundMs, lower_is_better: true },
    { case: `${base}/on`, metric: 'p50_ms', value: sig(s.onP50), lower_is_better: true },
    { case: `${base}/off`, metric: 'p50_ms', value: sig(s.offP50), lower_is_better: true },
    { case: `${base}/off`, metric: 'p99_ms', value: sig(s.offP99), lower_is_better: true },
    { case: `${base}`, metric: 'errors', value: s.errors, lower_is_better: true, target_ratio: 0, met: s.errors === 0 },
    { case: `batching/mlp-medium/full-batch-b${m.fullBatch.rows}`, metric: 'round_trip_p50_ms', value: sig(m.fullBatch.roundTripP50Ms), lower_is_better: true, note: `infer stage p50 ${sig(m.fullBatch.inferP50Ms)} ms; batching off, sent alone` },
    { case: `batching/mlp-medium/full-batch-b${m.maxBatch.rows}`, metric: 'round_trip_p50_ms', value: sig(m.maxBatch.roundTripP50Ms), lower_is_better: true, note: `infer stage p50 ${sig(m.maxBatch.inferP50Ms)} ms; the model's max_batch_size` },
  ];
}

/** The series' id in result cases: the model and, when not the calibration's, the shape. */
export function seriesId(s: RoutingSeries): string {
  return s.calibrationShape ? s.model : `${s.model}/${s.shape.replace(/[[\]\s]/g, '').replace(/,/g, 'x')}`;
}

export function routingResults(m: RoutingMeasurement): BenchResult[] {
  const rows: BenchResult[] = [];
  for (const s of m.series) {
    const id = seriesId(s);
    for (const p of s.points) {
      rows.push({ case: `routing/${id}/b${p.rows}/remote`, metric: 'ms_per_row', value: sig(p.remoteMs / p.rows), anchor: 'local (WASM, in-process), same run', anchor_value: sig(p.localMs / p.rows), ratio: sig(p.remoteMs / p.localMs), lower_is_better: true, note: TASK_ON_CPU_LABEL });
    }
    const c = s.comparison;
    rows.push({
      case: `routing/${id}/crossover`, metric: 'rows', value: finite(sig(c.measuredRows, 3)), anchor: `router threshold + 1 (${s.plan.source}, ${finite(s.plan.threshold)})`, anchor_value: finite(c.routerRows),
      ratio: finite(sig(c.factor, 3)), target_ratio: 2, met: c.withinFactor2, lower_is_better: true,
      note: `${s.calibrationShape ? 'the calibration shape' : 'not the calibration shape: the threshold counts rows of 3x32x32'}; measured up to ${s.points[s.points.length - 1]!.rows} rows (max_batch_size ${s.maxBatchSize}); ratio is max(a/b, b/a); -1 is never`,
    });
    for (const c of costRows(s.points, m.routeCost)) {
      for (const route of ['local', 'remote'] as const) {
        for (const architecture of ['arm64', 'x86_64'] as const) {
          rows.push({ case: `cost/${id}/b${c.rows}/${route}/${architecture}`, metric: 'usd_per_million_rows', value: c[route][architecture], lower_is_better: true, ...(route === 'remote' ? { note: TASK_ON_CPU_LABEL } : {}) });
        }
      }
    }
  }
  return rows;
}

export function loadedCostResults(cost: LoadedTaskCost): BenchResult[] {
  return (['arm64', 'x86_64'] as const).map((architecture) => ({
    case: `cost/mlp-medium/b1-c64-batched/remote/${architecture}`, metric: 'usd_per_million_rows', value: cost.remote[architecture], lower_is_better: true,
    note: `${TASK_ON_CPU_LABEL}; task share ${cost.taskUsdPerMillionRows} at ${cost.rowsPerSecond.toFixed(0)} rows/s measured with batching on`,
  }));
}

/** The loaded task's cost from the batching phase: rows/s with batching on, each request's Lambda side waiting its p50. */
export function loadedCostOf(s: BatchingSummary, settings: RoutingMeasurement['routeCost']): LoadedTaskCost {
  return loadedTaskCost(s.onReqPerSec, 1, s.onP50, settings);
}

/** JSON has no Infinity: -1 stands for "never" in the result rows. */
function finite(v: number): number {
  return Number.isFinite(v) ? v : -1;
}

export type { CostRow };
