/**
 * `npm run bench:server`: the long-running OIP server under load, beside its limits.
 *   1. frameworks: node:http vs fastify vs hono on the same core, 32 connections, interleaved rounds;
 *   2. server: concurrency sweep 1/8/32/64 on iris b1 JSON, mlp-medium b1 and b32 binary, with
 *      bare session.run (the model's limit) and a minimal node:http server (HTTP's limit);
 *   3. offline: serverless-offline (the Lambda emulator) at 1 and 8 connections;
 *   4. gzip: what Content-Encoding costs on a 1M FP32 binary request.
 * Writes bench/results/server.json and the `## Server` section of BENCHMARKS.md (full runs;
 * `--quick`/`--only` runs print only, unless `--write`). About 10 minutes on 2 cores; the plan
 * and its time are printed first. Needs `npm run build` once (models layer, handler bundle).
 *
 * @example
 * npm run bench:server
 * npm run bench:server -- --quick --only frameworks
 * npm run bench:server -- --only server,mlp-medium-b32-binary
 */
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { writeBenchResults, type BenchResult } from '../bench-results';
import { loadLine } from '../serve/benchmarks-section';
import { estimateSeconds, parseBenchArgs, type BenchPlan } from './bench-plan';
import { BenchProgress, clock } from './bench-progress';
import { runFrameworkPhase, type FrameworkMeasurement } from './framework-phase';
import { gzipDecodeResults, measureGzipDecode, type GzipDecodeMeasurement } from './gzip-decode';
import { runOfflinePhase, type OfflineMeasurement } from './offline-phase';
import { msText } from './point-format';
import { processMemory } from './process-memory';
import { frameworkResults, frameworkSummary, offlineResults, sweepResults, targetRows } from './server-results';
import { writeServerSection } from './server-section';
import { runSweepPhase, type SweepMeasurement } from './sweep-phase';

const repoRoot = resolve(__dirname, '../..');

function loadRow(when: 'start' | 'end'): BenchResult {
  return { case: `run/load-average-${when}`, metric: 'loadavg_1m', value: Number(loadavg()[0]!.toFixed(2)), lower_is_better: true, note: `1/5/15 min: ${loadLine()} (shared 2-core machine)` };
}

function printPlan(plan: BenchPlan): number {
  const seconds = estimateSeconds(plan);
  const total = Object.values(seconds).reduce((a, b) => a + b, 0);
  const parts = Object.entries(seconds).filter(([, s]) => s > 0).map(([part, s]) => `${part} ~${clock(s)}`).join(', ');
  process.stderr.write(
    `bench:server: ${parts}; total ~${clock(total)} (min:s)\n`
      + `  ${plan.pointMs / 1000} s points; sweep ${plan.sweepConnections.join('/')} connections on ${plan.workloads.join(', ')}; `
      + `offline ${plan.offlineConnections.join('/')}; frameworks ${plan.frameworkRounds} rounds at ${plan.frameworkConnections} on ${plan.frameworkWorkloads.join(', ')}\n`
      + `  results ${plan.write ? 'written to bench/results/server.json and BENCHMARKS.md' : 'printed only (no --write)'}; load average ${loadLine()}\n`,
  );
  return total;
}

function printFrameworkSummary(measurements: readonly FrameworkMeasurement[]): void {
  for (const m of measurements) {
    const s = frameworkSummary(m);
    process.stderr.write(`  framework ${m.door.padEnd(9)} ${m.workload.padEnd(24)} ${s.reqPerSec.toFixed(0).padStart(6)} req/s  p50 ${msText(s.p50).padStart(6)} ms  p99 ${msText(s.p99).padStart(6)} ms  errors ${s.errors}\n`);
  }
}

async function main(): Promise<void> {
  const plan = parseBenchArgs(process.argv.slice(2));
  const progress = new BenchProgress(printPlan(plan));
  const loadAtStart = loadLine();
  const rows: BenchResult[] = [loadRow('start')];
  let frameworks: FrameworkMeasurement[] | undefined;
  let sweep: SweepMeasurement | undefined;
  let offline: OfflineMeasurement | undefined;
  let gzip: GzipDecodeMeasurement | undefined;

  if (plan.parts.includes('frameworks') && plan.frameworkWorkloads.length > 0) {
    frameworks = await runFrameworkPhase(plan, progress, (pid) => processMemory(pid)?.rssBytes);
    printFrameworkSummary(frameworks);
    rows.push(...frameworkResults(frameworks, plan.frameworkConnections));
  }
  if (plan.parts.includes('server')) {
    sweep = await runSweepPhase(plan, progress);
    rows.push(...sweepResults(sweep, plan.sweepConnections));
  }
  if (plan.parts.includes('offline')) {
    offline = await runOfflinePhase(plan, progress);
    rows.push(...offlineResults(offline, sweep, plan.offlineConnections, plan.sweepConnections));
  }
  if (plan.parts.includes('gzip')) {
    progress.log('gzip: 1M FP32 binary request, inflate + decode vs decode');
    gzip = await measureGzipDecode(plan.quick ? 10 : 30, plan.quick ? 3000 : 10_000);
    rows.push(...gzipDecodeResults(gzip));
    progress.log(`gzip: decode ${msText(gzip.decode.p50)} ms, gzip ${msText(gzip.gzip.p50)} ms, deflate ${msText(gzip.deflate.p50)} ms (medians)`);
  }
  rows.push(loadRow('end'));
  const targets = targetRows(rows);
  for (const t of targets) {
    process.stderr.write(`  target ${t.case} ${t.metric}: ${t.value}${t.anchor_value !== undefined ? ` vs ${t.anchor_value} (ratio ${t.ratio}, target ${t.target_ratio})` : ''} → ${t.met ? 'met' : 'NOT met'}\n`);
  }
  if (!plan.write) {
    progress.log('done (nothing written: --quick/--only run without --write)');
    return;
  }
  const path = writeBenchResults('server', rows);
  const md = writeServerSection(repoRoot, {
    plan, date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC', loadAtStart, loadAtEnd: loadLine(),
    minutes: progress.elapsedSeconds / 60, frameworks, sweep, offline, gzip, targets,
  });
  progress.log(`wrote ${path} and ${md}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench:server failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exit(1);
  },
);
