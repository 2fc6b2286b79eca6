import { loadServingConfig, type RouteCostSettings } from '../../lib/config/serving-config';
import type { ReadyModel } from '../../lib/serving/inference-router';
import type { HostTensor } from '../../lib/protocol/tensor';
import { RemoteRoutingRouter, routeCostOf, type ModelRouteCost, type ModelRoutePlan } from '../../lib/serving/remote-routing-router';
import { calibrationInputs, type LinearCost } from '../../lib/serving/route-calibration';
import { createServingRuntime } from '../../lib/serving/serving-runtime';
import { textDetectorCase } from '../serve/serve-inputs';
import { median } from '../server/load-stats';
import { startGpuTaskProcess } from './gpu-task-process';
import { compareCrossover, routingBatchSizes, type CrossoverComparison, type RoutePoint } from './route-crossover';

export const ROUTING_MODELS = ['mlp-large', 'text-detector'] as const;
/** text-detector at a page-sized image too: the router's threshold counts rows, measured at the calibration's 32×32. */
const LARGE_IMAGE_SIDE = 320;

export interface RoutingPlan {
  /** Timed requests per route and batch size (after one not timed); the median is kept. */
  readonly samples: number;
  /** Largest batch measured (the model's max batch size when smaller). */
  readonly maxRows: number;
  /** Also measure text-detector at 320×320. */
  readonly largeImages: boolean;
}

/** One model (at one input shape) on both routes. */
export interface RoutingSeries {
  readonly model: string;
  /** `[rows, 3, 32, 32]`-style: the shape of one batch's first input with `rows` for the batch. */
  readonly shape: string;
  readonly maxBatchSize: number;
  readonly points: readonly RoutePoint[];
  /** The router's plan for the model (prepared at start-up as on Lambda: measured, or the manifest's). */
  readonly plan: Pick<ModelRoutePlan, 'threshold' | 'source'> & { readonly local?: LinearCost; readonly remote?: LinearCost };
  /** Whether the router's rows are the same work as these (its calibration's shape). */
  readonly calibrationShape: boolean;
  readonly comparison: CrossoverComparison;
}

export interface RoutingMeasurement {
  readonly series: readonly RoutingSeries[];
  readonly localBackend: string;
  readonly remoteProviders: Record<string, string> | undefined;
  readonly threads: string;
  readonly routeCost: RouteCostSettings;
  /** What model metadata `parameters.route_cost` shows for each model, from this run's start-up measurements. */
  readonly metadata: Record<string, ModelRouteCost | undefined>;
}

/**
 * The Lambda core in this process (createServingRuntime on WASM, HOTPATH_REMOTE_URL pointing at
 * the GPU task's real process, so its RemoteRoutingRouter prepares its thresholds as at INIT),
 * then for each model and batch size 1, 2, 4, ... the median time of the local session's run and
 * of the router's own remote client (binary extension) on the same inputs, in blocks.
 */
export async function runRoutingPhase(plan: RoutingPlan, log: (line: string) => void): Promise<RoutingMeasurement> {
  const task = await startGpuTaskProcess({ HOTPATH_MODELS: ROUTING_MODELS.join(',') });
  try {
    const env = { ...process.env, HOTPATH_MODELS: ROUTING_MODELS.join(','), HOTPATH_BACKEND: 'wasm', HOTPATH_REMOTE_URL: task.url };
    const config = loadServingConfig(env);
    const quiet = { info() {}, warn: (message: string) => log(`lambda core: ${message}`), error: (message: string) => log(`lambda core: ${message}`) };
    const runtime = await createServingRuntime(config, quiet);
    const router = runtime.router;
    if (!(router instanceof RemoteRoutingRouter)) throw new Error('the Lambda core has no remote route (HOTPATH_REMOTE_URL was not read)');
    try {
      const series: RoutingSeries[] = [];
      const metadata: Record<string, ModelRouteCost | undefined> = {};
      for (const name of ROUTING_MODELS) {
        const model = runtime.registry.entries.find((e) => e.manifest.name === name && e.selected && e.state.ready) as ReadyModel | undefined;
        if (model === undefined) throw new Error(`model '${name}' did not load in the Lambda core`);
        const { version, maxBatchSize } = model.manifest;
        metadata[name] = routeCostOf(router, name, version);
        const routerPlan = router.planOf(name, version);
        if (routerPlan === undefined) throw new Error(`the router has no plan for '${name}'`);
        const shapes: { inputs: (rows: number) => HostTensor[]; calibrationShape: boolean }[] = [{ inputs: (rows) => calibrationInputs(model.manifest, rows), calibrationShape: true }];
        if (name === 'text-detector' && plan.largeImages) shapes.push({ inputs: (rows) => [...textDetectorCase(rows, LARGE_IMAGE_SIDE).inputs], calibrationShape: false });
        for (const { inputs, calibrationShape } of shapes) {
          const points: RoutePoint[] = [];
          for (const rows of routingBatchSizes(maxBatchSize, plan.maxRows)) {
            const batch = inputs(rows);
            // A Lambda cannot receive a larger request (HOTPATH_MAX_BODY_BYTES, 6 MB), so it never sends one on.
            if (tensorBytes(batch) > config.maxBodyBytes) {
              log(`routing ${name} ${shapeOf(batch[0]!)}: skipped, ${tensorBytes(batch)} bytes of tensors is over the ${config.maxBodyBytes}-byte request limit`);
              break;
            }
            const point = await timeBothRoutes(rows, plan.samples, () => model.state.session.run(batch), () => router.client.infer({ model: name, version, inputs: batch }, {}));
            points.push(point);
            log(`routing ${name} ${shapeOf(batch[0]!)}: local ${(point.localMs / rows).toFixed(3)} ms/row, remote ${(point.remoteMs / rows).toFixed(3)} ms/row`);
          }
          const shape = shapeOf(inputs(1)[0]!).replace(/^\[1,/, '[rows,');
          series.push({ model: name, shape, maxBatchSize, points, plan: { threshold: routerPlan.threshold, source: routerPlan.source, local: routerPlan.local, remote: routerPlan.remote }, calibrationShape, comparison: compareCrossover(points, routerPlan.threshold) });
        }
      }
      return {
        series,
        localBackend: 'onnxruntime-web (WASM), in-process core',
        remoteProviders: task.server.parameters?.providers,
        threads: process.env.HOTPATH_WASM_THREADS ?? `default (${config.wasmThreads})`,
        routeCost: config.routeCost,
        metadata,
      };
    } finally {
      router.close();
      await runtime.registry.dispose();
    }
  } finally {
    await task.stop();
  }
}

/**
 * Median ms of each route over `samples` runs, one route's runs in a block after two not timed.
 * Blocks, not alternating runs: on 2 cores the thread pool that just ran one route is still
 * busy when the other starts, and alternating runs measured both routes slower than blocks did.
 */
async function timeBothRoutes(rows: number, samples: number, local: () => Promise<unknown>, remote: () => Promise<unknown>): Promise<RoutePoint> {
  return { rows, localMs: await medianBlock(local, samples), remoteMs: await medianBlock(remote, samples) };
}

async function medianBlock(run: () => Promise<unknown>, samples: number): Promise<number> {
  await run();
  await run();
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  return median(times);
}

function tensorBytes(tensors: readonly HostTensor[]): number {
  return tensors.reduce((sum, t) => sum + (ArrayBuffer.isView(t.data) ? t.data.byteLength : 0), 0);
}

function shapeOf(tensor: HostTensor): string {
  return JSON.stringify(tensor.shape);
}
