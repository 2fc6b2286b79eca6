import { createLoopbackClient, prepareHttpRequest } from '../serve/http-latency';
import { rowsCase } from '../serve/serve-inputs';
import { median, nearestRank } from '../server/load-stats';
import { runLoad, type LoadPoint } from '../server/load-run';
import { prepareLoadRequest, workloadById } from '../server/server-workloads';
import { askChild, startBenchChild } from '../server/bench-children';
import { describePoint } from '../server/point-format';
import type { BatchStats } from './batch-stats-child';
import { startGpuTaskProcess, type GpuTaskProcess } from './gpu-task-process';

/** The model, clients and request the batching phase loads the GPU task with (issue 8's benchmark). */
export const BATCHING_MODEL = 'mlp-medium';
export const BATCHING_CLIENTS = 64;
const MLP_MEDIUM_WIDTH = 784;

export interface BatchingPlan {
  /** Rounds of (batching on, batching off) load points, interleaved so a neighbour's load hits both alike. */
  readonly rounds: number;
  readonly pointMs: number;
  readonly rampMs: number;
  /** Sequential requests timed for one full batch. */
  readonly batchSamples: number;
}

/** One full batch on the task with batching off (it runs as it arrives): round trip and the server's `infer` stage. */
export interface FullBatchTime {
  readonly rows: number;
  readonly roundTripP50Ms: number;
  readonly roundTripP99Ms: number;
  readonly inferP50Ms: number;
}

export interface BatchingMeasurement {
  readonly clients: number;
  readonly maxQueueDelayMs: number;
  readonly maxBatchSize: number;
  readonly threads: string;
  readonly providers: Record<string, string> | undefined;
  readonly on: readonly LoadPoint[];
  readonly off: readonly LoadPoint[];
  /** The largest batch the clients can form (one request each in the queue) and the model's max batch. */
  readonly fullBatch: FullBatchTime;
  readonly maxBatch: FullBatchTime;
  /** One more point with batching on, on the same server in a bench child that counts the batches formed. */
  readonly inside: { readonly point: LoadPoint; readonly stats: BatchStats };
}

/**
 * 64 keep-alive clients, each sending batch-1 binary requests to `mlp-medium` back to back, on
 * two GPU task processes started at once (HOTPATH_DYNAMIC_BATCHING true and false), in
 * interleaved rounds; then the time of one full batch on the unbatched task: the 64 rows the
 * clients can have queued (and the model's max batch, 256), sent alone.
 */
export async function runBatchingPhase(plan: BatchingPlan, log: (line: string) => void, manifest: { maxQueueDelayMicroseconds: number; maxBatchSize: number }): Promise<BatchingMeasurement> {
  const env = { HOTPATH_MODELS: BATCHING_MODEL };
  const tasks: GpuTaskProcess[] = [];
  try {
    const batched = await startGpuTaskProcess({ ...env, HOTPATH_DYNAMIC_BATCHING: 'true' });
    tasks.push(batched);
    const unbatched = await startGpuTaskProcess({ ...env, HOTPATH_DYNAMIC_BATCHING: 'false' });
    tasks.push(unbatched);
    const request = prepareLoadRequest(workloadById('mlp-medium-b1-binary'));
    const load = { connections: BATCHING_CLIENTS, durationMs: plan.pointMs, rampMs: plan.rampMs };
    const on: LoadPoint[] = [];
    const off: LoadPoint[] = [];
    for (let round = 1; round <= plan.rounds; round++) {
      for (const [name, task, points] of [['on', batched, on], ['off', unbatched, off]] as const) {
        const point = await runLoad(task.url, request, { ...load, rssRoot: task.pid });
        points.push(point);
        log(`batching ${name.padEnd(3)} round ${round}: ${describePoint(point)}`);
      }
    }
    const fullBatch = await timeFullBatch(unbatched.url, BATCHING_CLIENTS, plan.batchSamples);
    const maxBatch = await timeFullBatch(unbatched.url, manifest.maxBatchSize, plan.batchSamples);
    log(`full batch (${fullBatch.rows} rows, batching off): round trip p50 ${fullBatch.roundTripP50Ms.toFixed(2)} ms, infer ${fullBatch.inferP50Ms.toFixed(2)} ms; ${maxBatch.rows} rows: ${maxBatch.roundTripP50Ms.toFixed(2)} ms`);
    const inside = await lookInside(request, load, log);
    return {
      inside,
      clients: BATCHING_CLIENTS,
      maxQueueDelayMs: manifest.maxQueueDelayMicroseconds / 1000,
      maxBatchSize: manifest.maxBatchSize,
      threads: process.env.HOTPATH_WASM_THREADS ?? 'default (cores)',
      providers: batched.server.parameters?.providers,
      on,
      off,
      fullBatch,
      maxBatch,
    };
  } finally {
    await Promise.all(tasks.map((t) => t.stop()));
  }
}

/** The batches the batcher forms under the same load: startGpuTask (what start-gpu-task.ts runs) with its onBatch hook, in a child. */
async function lookInside(request: ReturnType<typeof prepareLoadRequest>, load: { connections: number; durationMs: number; rampMs: number }, log: (line: string) => void): Promise<BatchingMeasurement['inside']> {
  const child = await startBenchChild('batch-stats', 'bench/gpu-task/batch-stats-child.ts', [], { HOTPATH_MODELS: BATCHING_MODEL, HOTPATH_DYNAMIC_BATCHING: 'true' });
  try {
    // The ramp's batches are not counted: reset once every connection is in (after the ramp).
    const loading = runLoad(child.url!, request, load);
    await new Promise((r) => setTimeout(r, load.rampMs));
    await askChild(child, { type: 'reset' }, 5000);
    const point = await loading;
    const stats = await askChild<BatchStats>(child, { type: 'stats' }, 5000);
    log(`batching inside: ${stats.batches} batches of median ${stats.rowsPerBatchMedian} rows (max ${stats.rowsPerBatchMax}), run p50 ${stats.runMsP50.toFixed(2)} ms, oldest wait p50 ${stats.oldestWaitMsP50.toFixed(2)} ms; ${describePoint(point)}`);
    return { point, stats };
  } finally {
    await child.stop();
  }
}

/** `samples` sequential requests of `rows` rows on one keep-alive connection, after 3 not timed. */
async function timeFullBatch(url: string, rows: number, samples: number): Promise<FullBatchTime> {
  const prepared = prepareHttpRequest(rowsCase(BATCHING_MODEL, MLP_MEDIUM_WIDTH, rows), 'binary');
  const client = createLoopbackClient(url);
  try {
    const trips: number[] = [];
    const infers: number[] = [];
    for (let i = 0; i < samples + 3; i++) {
      const started = performance.now();
      const { serverTiming } = await client.send(prepared);
      if (i < 3) continue;
      trips.push(performance.now() - started);
      const infer = /(?:^|, )infer;dur=([\d.]+)/.exec(serverTiming);
      if (infer) infers.push(Number(infer[1]));
    }
    const sorted = [...trips].sort((a, b) => a - b);
    return { rows, roundTripP50Ms: nearestRank(sorted, 0.5), roundTripP99Ms: nearestRank(sorted, 0.99), inferP50Ms: infers.length > 0 ? median(infers) : NaN };
  } finally {
    client.close();
  }
}
