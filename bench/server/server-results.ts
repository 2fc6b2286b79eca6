import { compareWithAnchor, type BenchResult } from '../bench-results';
import type { FrameworkMeasurement } from './framework-phase';
import { FRAMEWORK_LABELS } from './framework-phase';
import type { LoadPoint } from './load-run';
import { median } from './load-stats';
import type { OfflineMeasurement } from './offline-phase';
import type { SweepMeasurement, WorkloadSweep } from './sweep-phase';

/** The concurrency every target is read at. */
export const TARGET_CONNECTIONS = 32;
export const TARGETS = {
  /** Server req/s over bare session.run runs/s, mlp-medium b32 binary. */
  modelBound: { workload: 'mlp-medium-b32-binary', ratio: 0.85 },
  /** Server req/s over the minimal node:http server's, iris b1 JSON. */
  httpBound: { workload: 'iris-classifier-b1-json', ratio: 0.2 },
  p99OverP50: 4,
  peakOverIdleRss: 1.25,
} as const;

const MB = 1024 * 1024;
const round = (value: number, digits = 3) => Number(value.toPrecision(digits + 1));
const mbOf = (bytes: number | undefined) => (bytes === undefined ? NaN : Math.round(bytes / MB));

function statusNote(point: LoadPoint): string {
  const codes = Object.entries(point.statusCodes).map(([code, n]) => `${code}: ${n}`).join(', ');
  const first = point.lastFirstAnswerMs === undefined ? 'some connection never answered' : `the last connection's first answer at ${point.lastFirstAnswerMs.toFixed(0)} ms`;
  const ramp = point.steady
    ? `steady window ${point.steadyWindowS.toFixed(1)} s, opened after the ramp and ${first}; p99 with the ramp ${(point.latencyWithRamp?.p99 ?? NaN).toFixed(2)} ms`
    : `${first}: no steady window of half the point, whole point counted`;
  return `${point.ok} answers in the ${point.durationS.toFixed(1)} s point (${ramp}); status codes {${codes}}; socket errors ${point.socketErrors} (timeouts ${point.timeouts})`
    + (point.stoppedAtRss !== undefined ? `; stopped at ${mbOf(point.stoppedAtRss)} MB RSS` : '');
}

/** The connection ramp of a point: when the last connection got its first answer, and the p99 counting it in. */
function rampRows(prefix: string, point: LoadPoint): BenchResult[] {
  return [
    { case: prefix, metric: 'last_first_answer_ms', value: round(point.lastFirstAnswerMs ?? NaN), lower_is_better: true },
    { case: prefix, metric: 'p99_with_ramp_ms', value: round(point.latencyWithRamp?.p99 ?? NaN), lower_is_better: true },
  ];
}

/** req/s, p50, p99, errors and peak RSS of one point, without anchors. */
function pointRows(prefix: string, point: LoadPoint): BenchResult[] {
  return [
    { case: prefix, metric: 'req_per_s', value: round(point.reqPerSec, 4), lower_is_better: false, note: statusNote(point) },
    { case: prefix, metric: 'p50_ms', value: round(point.latency?.p50 ?? NaN), lower_is_better: true },
    { case: prefix, metric: 'p99_ms', value: round(point.latency?.p99 ?? NaN), lower_is_better: true },
    { case: prefix, metric: 'errors', value: point.errors, lower_is_better: true },
    { case: prefix, metric: 'peak_rss_mb', value: mbOf(point.peakRssBytes), lower_is_better: true },
    ...rampRows(prefix, point),
  ];
}

function serverRows(sweep: SweepMeasurement, w: WorkloadSweep, connections: readonly number[]): BenchResult[] {
  const rows: BenchResult[] = [];
  const idleMb = mbOf(sweep.serverIdleRssBytes);
  w.server.forEach((point, i) => {
    const c = connections[i]!;
    const limit = w.minimal[i]!;
    const name = `server/${w.workload}/c${c}`;
    const atTarget = c === TARGET_CONNECTIONS;
    const httpTarget = atTarget && w.workload === TARGETS.httpBound.workload ? TARGETS.httpBound.ratio : undefined;
    const modelTarget = atTarget && w.workload === TARGETS.modelBound.workload ? TARGETS.modelBound.ratio : undefined;
    const p50 = point.latency?.p50 ?? NaN;
    const p99 = point.latency?.p99 ?? NaN;
    rows.push(
      { ...compareWithAnchor({ case: name, metric: 'req_per_s', value: round(point.reqPerSec, 4), lower_is_better: false }, `minimal node:http server, fixed ${w.answerBytes}-byte answer, same request and connections`, round(limit.reqPerSec, 4), httpTarget), note: statusNote(point) },
      compareWithAnchor({ case: `${name}/model-limit`, metric: 'req_per_s', value: round(point.reqPerSec, 4), lower_is_better: false }, `bare session.run loop, runs/s (${w.session.threads} thread(s), ${w.session.backend}, same inputs)`, round(w.session.runsPerSec, 4), modelTarget),
      compareWithAnchor({ case: name, metric: 'p50_ms', value: round(p50), lower_is_better: true }, 'minimal node:http server p50, same point', round(limit.latency?.p50 ?? NaN)),
      compareWithAnchor({ case: name, metric: 'p99_ms', value: round(p99), lower_is_better: true }, 'p50 of the same point', round(p50), atTarget ? TARGETS.p99OverP50 : undefined),
      { case: name, metric: 'errors', value: point.errors, lower_is_better: true, ...(atTarget ? { met: point.errors === 0 } : {}), note: `non-2xx ${point.non2xx} + socket errors ${point.socketErrors} (timeouts ${point.timeouts})${atTarget ? '; target 0' : ''}` },
      compareWithAnchor({ case: name, metric: 'peak_rss_mb', value: mbOf(point.peakRssBytes), lower_is_better: true }, 'the server\'s RSS once ready, before any load', idleMb, atTarget ? TARGETS.peakOverIdleRss : undefined),
      ...rampRows(name, point),
    );
  });
  return rows;
}

export function sweepResults(sweep: SweepMeasurement, connections: readonly number[]): BenchResult[] {
  const rows: BenchResult[] = [];
  for (const w of sweep.workloads) {
    rows.push(...serverRows(sweep, w, connections));
    w.minimal.forEach((point, i) => rows.push(...pointRows(`minimal-http/${w.workload}/c${connections[i]}`, point)));
    const s = w.session;
    rows.push(
      { case: `session.run/${w.workload}`, metric: 'runs_per_s', value: round(s.runsPerSec, 4), lower_is_better: false, note: `${s.runs} runs in ${(s.elapsedMs / 1000).toFixed(1)} s, median 1 s window ${s.runsPerSecMedianWindow.toFixed(1)} runs/s; ${s.threads} thread(s), ${s.backend}` },
      { case: `session.run/${w.workload}`, metric: 'p50_ms', value: round(s.latency.p50), lower_is_better: true },
      { case: `session.run/${w.workload}`, metric: 'p99_ms', value: round(s.latency.p99), lower_is_better: true },
    );
  }
  return rows;
}

export function offlineResults(offline: OfflineMeasurement, sweep: SweepMeasurement | undefined, offlineConnections: readonly number[], sweepConnections: readonly number[]): BenchResult[] {
  const rows: BenchResult[] = [];
  for (const w of offline.workloads) {
    w.points.forEach((point, i) => {
      const c = offlineConnections[i]!;
      const name = `serverless-offline/${w.workload}/c${c}`;
      const ours = sweep?.workloads.find((s) => s.workload === w.workload)?.server[sweepConnections.indexOf(c)];
      const [reqRow, ...rest] = pointRows(name, point);
      rows.push(ours ? { ...compareWithAnchor({ ...reqRow!, note: undefined }, 'the server, same workload and connections (same run)', round(ours.reqPerSec, 4)), note: reqRow!.note } : reqRow!);
      rows.push(...rest.map((r) => (r.metric === 'peak_rss_mb' ? compareWithAnchor(r, 'serverless-offline tree RSS once ready (one warm instance)', mbOf(offline.idleRssBytes)) : r)));
    });
  }
  return rows;
}

/** Median of a framework's rounds. */
export function frameworkSummary(m: FrameworkMeasurement): { reqPerSec: number; p99: number; p50: number; errors: number } {
  return {
    reqPerSec: median(m.rounds.map((p) => p.reqPerSec)),
    p50: median(m.rounds.map((p) => p.latency?.p50 ?? NaN)),
    p99: median(m.rounds.map((p) => p.latency?.p99 ?? NaN)),
    errors: m.rounds.reduce((sum, p) => sum + p.errors, 0),
  };
}

export function frameworkResults(measurements: readonly FrameworkMeasurement[], connections: number): BenchResult[] {
  const rows: BenchResult[] = [];
  for (const m of measurements) {
    const base = measurements.find((b) => b.workload === m.workload && b.door === 'node-http');
    const ours = frameworkSummary(m);
    const anchor = base ? frameworkSummary(base) : undefined;
    const name = `framework/${m.door}/${m.workload}/c${connections}`;
    const rounds = m.rounds.map((p) => `${p.reqPerSec.toFixed(0)} req/s p99 ${(p.latency?.p99 ?? NaN).toFixed(2)} ms`).join('; ');
    const note = `${FRAMEWORK_LABELS[m.door]}; median of ${m.rounds.length} interleaved rounds (${rounds}); errors ${ours.errors}; idle RSS ${mbOf(m.idleRssBytes)} MB`;
    const label = `${FRAMEWORK_LABELS['node-http']} door, same core and run`;
    rows.push(
      anchor ? { ...compareWithAnchor({ case: name, metric: 'req_per_s', value: round(ours.reqPerSec, 4), lower_is_better: false }, label, round(anchor.reqPerSec, 4)), note } : { case: name, metric: 'req_per_s', value: round(ours.reqPerSec, 4), lower_is_better: false, note },
      anchor ? compareWithAnchor({ case: name, metric: 'p99_ms', value: round(ours.p99), lower_is_better: true }, label, round(anchor.p99)) : { case: name, metric: 'p99_ms', value: round(ours.p99), lower_is_better: true },
      { case: name, metric: 'p50_ms', value: round(ours.p50), lower_is_better: true },
    );
  }
  return rows;
}

/** The five targets at 32 connections, read from the rows (undefined where the run did not measure them). */
export function targetRows(rows: readonly BenchResult[]): BenchResult[] {
  const c = `c${TARGET_CONNECTIONS}`;
  const find = (suffix: string, metric: string) => rows.filter((r) => r.case.endsWith(suffix) && r.metric === metric && r.met !== undefined);
  return [
    ...find(`/${TARGETS.modelBound.workload}/${c}/model-limit`, 'req_per_s'),
    ...find(`/${TARGETS.httpBound.workload}/${c}`, 'req_per_s'),
    ...rows.filter((r) => r.case.startsWith('server/') && r.case.endsWith(`/${c}`) && r.met !== undefined && ['errors', 'p99_ms', 'peak_rss_mb'].includes(r.metric)),
  ];
}
