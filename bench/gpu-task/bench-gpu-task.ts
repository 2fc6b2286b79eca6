/**
 * `npm run bench:gpu-task`: the GPU container task's two benchmarks (issue 8), on this machine's CPU.
 *   1. batching: 64 clients sending batch-1 requests to `mlp-medium` on the GPU task's real
 *      process, dynamic batching on vs off in the same run; p99 against max_queue_delay + 2× one
 *      full batch, that batch timed in the same run;
 *   2. routing: `mlp-large` and `text-detector`, time per row on the local route (WASM, the
 *      in-process core) and the remote one (the GPU task over HTTP, binary extension) at batch
 *      1, 2, 4, ... up to the model's max batch; the measured crossover against the threshold the
 *      router prepared; USD per million rows per route and batch size (route-cost.ts).
 * Writes bench/results/gpu-task.json and the `## GPU container task` section of BENCHMARKS.md;
 * `--quick` (short points, fewer samples) and `--only batching|routing` write
 * bench/results/gpu-task-quick.json and print the section only. Run it under the bench lock.
 *
 * @example
 * flock /tmp/hotpath-bench.lock npm run bench:gpu-task
 * flock /tmp/hotpath-bench.lock npm run bench:gpu-task -- --quick --only routing
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadServingConfig, type RouteCostSettings } from '../../lib/config/serving-config';
import type { ModelManifest } from '../../lib/models/model-manifest-types';
import { writeBenchResults, type BenchResult } from '../bench-results';
import { loadLine } from '../serve/benchmarks-section';
import { clock } from '../server/bench-progress';
import { BATCHING_MODEL, runBatchingPhase, type BatchingPlan } from './batching-phase';
import { batchingResults, loadedCostOf, loadedCostResults, routingResults, summarizeBatching } from './gpu-task-results';
import { gpuTaskSectionText, writeGpuTaskSection, type GpuTaskSection } from './gpu-task-section';
import { runRoutingPhase, type RoutingPlan } from './routing-phase';

const repoRoot = resolve(__dirname, '../..');
const PARTS = ['batching', 'routing'] as const;
type Part = (typeof PARTS)[number];

interface Plan {
  readonly quick: boolean;
  readonly parts: readonly Part[];
  readonly batching: BatchingPlan;
  readonly routing: RoutingPlan;
}

function parsePlan(argv: readonly string[]): Plan {
  const { values } = parseArgs({ args: [...argv], options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } }, strict: true });
  const parts = values.only === undefined ? [...PARTS] : values.only.split(',').map((p) => p.trim());
  for (const part of parts) if (!PARTS.includes(part as Part)) throw new Error(`--only: '${part}' is not a part; parts: ${PARTS.join(', ')}`);
  const quick = values.quick!;
  return {
    quick,
    parts: parts as Part[],
    batching: quick ? { rounds: 1, pointMs: 3000, rampMs: 1000, batchSamples: 10 } : { rounds: 2, pointMs: 10_000, rampMs: 2000, batchSamples: 30 },
    routing: quick ? { samples: 3, maxRows: 1024, largeImages: false } : { samples: 7, maxRows: 1024, largeImages: true },
  };
}

function batchingSettings(): { maxQueueDelayMicroseconds: number; maxBatchSize: number } {
  const { modelsDir } = loadServingConfig(process.env);
  const manifest = JSON.parse(readFileSync(join(modelsDir, 'manifest.json'), 'utf8')) as ModelManifest;
  const model = manifest.models.find((m) => m.name === BATCHING_MODEL);
  if (model?.dynamicBatching === undefined) throw new Error(`${modelsDir}/manifest.json: '${BATCHING_MODEL}' has no dynamicBatching settings; run npm run build:layers`);
  return { maxQueueDelayMicroseconds: model.dynamicBatching.maxQueueDelayMicroseconds, maxBatchSize: model.maxBatchSize };
}

/** The prices a function with a remote route reads (HOTPATH_REMOTE_TASK_USD_PER_HOUR is read only with HOTPATH_REMOTE_URL set). */
function remoteRouteCost(): RouteCostSettings {
  return loadServingConfig({ ...process.env, HOTPATH_REMOTE_URL: process.env.HOTPATH_REMOTE_URL ?? 'http://127.0.0.1' }).routeCost;
}

function loadRow(when: 'start' | 'end'): BenchResult {
  return { case: `run/load-average-${when}`, metric: 'loadavg_1m', value: Number(loadavg()[0]!.toFixed(2)), lower_is_better: true, note: `1/5/15 min: ${loadLine()} (shared machine)` };
}

async function main(): Promise<void> {
  const plan = parsePlan(process.argv.slice(2));
  const started = performance.now();
  const log = (line: string) => process.stderr.write(`bench:gpu-task [${clock((performance.now() - started) / 1000)}] ${line}\n`);
  log(`${plan.quick ? 'quick run' : 'full run (about 3 minutes)'}: ${plan.parts.join(', ')}; load average ${loadLine()}`);
  const loadAtStart = loadLine();
  const rows: BenchResult[] = [loadRow('start')];
  let batching: GpuTaskSection['batching'];
  let routing: GpuTaskSection['routing'];
  if (plan.parts.includes('batching')) {
    const measurement = await runBatchingPhase(plan.batching, log, batchingSettings());
    const summary = summarizeBatching(measurement);
    batching = { measurement, summary };
    rows.push(...batchingResults(measurement, summary));
  }
  if (plan.parts.includes('routing')) {
    routing = await runRoutingPhase(plan.routing, log);
    rows.push(...routingResults(routing));
  }
  if (batching) {
    const loaded = loadedCostOf(batching.summary, routing?.routeCost ?? remoteRouteCost());
    batching = { ...batching, loaded };
    rows.push(...loadedCostResults(loaded));
  }
  rows.push(loadRow('end'));
  const full = !plan.quick && plan.parts.length === PARTS.length;
  const section: GpuTaskSection = {
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC', loadAtStart, loadAtEnd: loadLine(),
    minutes: (performance.now() - started) / 60_000, quick: plan.quick, batching, routing,
  };
  process.stdout.write(`${gpuTaskSectionText(section)}\n`);
  const path = writeBenchResults(full ? 'gpu-task' : 'gpu-task-quick', rows);
  if (full) log(`wrote ${path} and ${writeGpuTaskSection(repoRoot, section)}`);
  else log(`wrote ${path} (a --quick/--only run: BENCHMARKS.md unchanged)`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench:gpu-task failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exit(1);
  },
);
