/**
 * The routing router (lib/serving/remote-routing-router.ts) in the tensor-level core: a local
 * WASM runtime routes to a real OIP server on the native backend (the GPU task's runtime, on
 * CPU here) through the fault proxy. Thresholds from the manifest and from start-up
 * measurements, the circuit breaker's open / half-open / closed cycle, fallbacks and refusals.
 */
import { CircuitState } from 'cockatiel';
import { loadServingConfig, type RemoteRoutingConfig } from '../../../lib/config/serving-config';
import { DeadlineExceededError } from '../../../lib/errors/hotpath-error';
import type { HostTensor } from '../../../lib/protocol/tensor';
import { startOipServer, type RunningOipServer } from '../../../lib/server/oip-server';
import { infer } from '../../../lib/serving/infer';
import { RemoteRoutingRouter, RemoteUnavailableError } from '../../../lib/serving/remote-routing-router';
import { crossoverRows } from '../../../lib/serving/route-calibration';
import { createServingRuntime, type ServingRuntime } from '../../../lib/serving/serving-runtime';
import { startFaultProxy, type FaultProxy } from '../../support/fault-proxy';
import { routingModelsDir, withThresholds } from './routing-models-dir';

const HALF_OPEN_MS = 300;
const FALLBACK_MAX_BATCH = 16;
const quiet = { info() {}, warn() {}, error() {} };
const logged: { level: string; message: string; extra: Record<string, unknown> }[] = [];
const recorder = {
  info: (message: string, extra: Record<string, unknown> = {}) => logged.push({ level: 'info', message, extra }),
  warn: (message: string, extra: Record<string, unknown> = {}) => logged.push({ level: 'warn', message, extra }),
  error: (message: string, extra: Record<string, unknown> = {}) => logged.push({ level: 'error', message, extra }),
};

let remote: RunningOipServer;
let proxy: FaultProxy;
let runtime: ServingRuntime;
let router: RemoteRoutingRouter;

beforeAll(async () => {
  // The native server first: both runtimes share onnxruntime-common's backend registry.
  remote = await startOipServer({ port: 0, logger: quiet, config: { onnxBackend: 'native', wasmThreads: 1, models: ['iris-classifier', 'mlp-large'] } });
  proxy = await startFaultProxy(remote.url);
  const settings: RemoteRoutingConfig = {
    url: proxy.url, encoding: 'binary', gzip: false, apiKey: undefined, timeoutMs: 1_000,
    breakerFailures: 3, breakerHalfOpenMs: HALF_OPEN_MS, fallbackMaxBatch: FALLBACK_MAX_BATCH, calibrate: true,
  };
  const modelsDir = routingModelsDir(withThresholds({ 'iris-classifier': 4 }));
  runtime = await createServingRuntime(loadServingConfig({}, { wasmThreads: 1, models: ['iris-classifier', 'mlp-large'], modelsDir, remote: settings }), recorder);
  router = runtime.router as RemoteRoutingRouter;
}, 180_000);
afterEach(() => proxy.setFault({ kind: 'pass' }));
afterAll(async () => {
  router?.close();
  await runtime?.registry.dispose();
  await proxy?.close();
  await remote?.close(0);
});

const samples = [[5.1, 3.5, 1.4, 0.2], [7.0, 3.2, 4.7, 1.4], [6.3, 3.3, 6.0, 2.5]];
/** `rows` iris rows cycling through one sample per species; their labels are 0, 1, 2, 0, ... */
const iris = (rows: number): HostTensor[] => [{ name: 'input', datatype: 'FP32', shape: [rows, 4], data: Float32Array.from(Array.from({ length: rows }, (_, i) => samples[i % 3]!).flat()) }];
const labelsOf = (rows: number) => Array.from({ length: rows }, (_, i) => BigInt(i % 3));
const classify = (rows: number, parameters?: Record<string, unknown>) => infer(runtime, { model: 'iris-classifier', inputs: iris(rows), outputs: [{ name: 'label' }], parameters });
const irisCircuit = () => router.circuitOf('iris-classifier', '1');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Three 500s in a row: the iris circuit opens. */
async function openIrisCircuit(): Promise<void> {
  proxy.setFault({ kind: 'status', status: 500 });
  for (let i = 0; i < 3; i++) await classify(8);
  expect(irisCircuit()).toBe(CircuitState.Open);
}

async function closeIrisCircuit(): Promise<void> {
  proxy.setFault({ kind: 'pass' });
  await sleep(HALF_OPEN_MS + 20);
  expect((await classify(8)).route).toBe('gpu-task');
  expect(irisCircuit()).toBe(CircuitState.Closed);
}

describe('RemoteRoutingRouter', () => {
  it('sends batches above the manifest threshold to the GPU task and the others to the local session, with the same answers', async () => {
    // Act
    const small = await classify(4);
    const sentBefore = proxy.requests.length;
    const large = await classify(5);
    // Assess
    expect(router.planOf('iris-classifier', '1')).toMatchObject({ threshold: 4, source: 'manifest' });
    expect(small.route).toBe('local-kernel');
    expect(large.route).toBe('gpu-task');
    expect(proxy.requests.length).toBe(sentBefore + 1);
    expect(Array.from(small.outputs[0]!.data as BigInt64Array)).toEqual(labelsOf(4));
    expect(Array.from(large.outputs[0]!.data as BigInt64Array)).toEqual(labelsOf(5));
  });

  it('derives the threshold of a model without one from the per-row costs measured at start-up', async () => {
    // Assess: the plan is the crossover of the two measured lines...
    const plan = router.planOf('mlp-large', '1')!;
    expect(plan.source).toBe('measured');
    expect(plan.threshold).toBe(crossoverRows(plan.local!, plan.remote!));
    expect(logged).toContainEqual(expect.objectContaining({ message: 'remote route threshold', extra: expect.objectContaining({ model: 'mlp-large', source: 'measured' }) }));
    // ...and the router follows it (on this machine native CPU beats WASM per row: the crossover is finite).
    expect(Number.isFinite(plan.threshold)).toBe(true);
    const run = (rows: number) => infer(runtime, { model: 'mlp-large', inputs: [{ name: 'input', datatype: 'FP32', shape: [rows, 1024], data: new Float32Array(rows * 1024).fill(0.5) }] });
    expect((await run(plan.threshold + 1)).route).toBe('gpu-task');
    if (plan.threshold >= 1) expect((await run(plan.threshold)).route).toBe('local-kernel');
  });

  it('opens the circuit after 3 failures in a row, falls back without calling while open, and refuses what does not fit locally with 503 + Retry-After', async () => {
    // Prepare: the task answers 500.
    proxy.setFault({ kind: 'status', status: 500 });
    const sentBefore = proxy.requests.length;
    // Act: three failing calls, then one with the circuit open.
    const failing = [await classify(8), await classify(8), await classify(8)];
    const whileOpen = await classify(8);
    const refused = await classify(32).catch((e: unknown) => e);
    // Assess
    expect(failing.map((a) => a.route)).toEqual(Array(3).fill('local-kernel (fallback: gpu-task HTTP 500)'));
    expect(whileOpen.route).toBe('local-kernel (fallback: gpu-task circuit open)');
    expect(proxy.requests.length - sentBefore).toBe(3);
    for (const answer of [...failing, whileOpen]) expect(Array.from(answer.outputs[0]!.data as BigInt64Array)).toEqual(labelsOf(8));
    expect(refused).toBeInstanceOf(RemoteUnavailableError);
    expect(refused).toMatchObject({ status: 503, retryAfterSeconds: 1 });
    expect((refused as Error).message).toMatch(/model 'iris-classifier': a batch of 32 rows goes to the remote route gpu-task \(above 4 rows\), which is unavailable \(circuit open: .*answered HTTP 500.*\); it is over the 16 rows this instance may run locally/);
    expect(logged).toContainEqual(expect.objectContaining({ level: 'warn', message: 'remote route: circuit opened', extra: expect.objectContaining({ model: 'iris-classifier' }) }));
    expect(logged).toContainEqual(expect.objectContaining({ level: 'warn', message: 'remote route unavailable, running locally', extra: expect.objectContaining({ reason: 'circuit open', rows: 8 }) }));
    expect(router.counts.fallback).toMatchObject({ 'HTTP 500': 3, 'circuit open': 1 });
    expect(router.counts.refused).toBe(1);
    await closeIrisCircuit();
  });

  it('re-opens the circuit when the half-open probe fails, and closes it when a later probe succeeds', async () => {
    await openIrisCircuit();
    await sleep(HALF_OPEN_MS + 20);
    const failedProbe = await classify(8);
    expect(failedProbe.route).toBe('local-kernel (fallback: gpu-task HTTP 500)');
    expect(irisCircuit()).toBe(CircuitState.Open);
    await closeIrisCircuit();
  });

  it('lets one request probe while half-open and sends the others local at once instead of queueing them behind it', async () => {
    await openIrisCircuit();
    await sleep(HALF_OPEN_MS + 20);
    proxy.setFault({ kind: 'delay', ms: 200 });
    const started = performance.now();
    const answers = await Promise.all([classify(8), classify(8), classify(8)]);
    const routes = answers.map((a) => a.route).sort();
    expect(routes).toEqual(['gpu-task', 'local-kernel (fallback: gpu-task circuit half-open)', 'local-kernel (fallback: gpu-task circuit half-open)']);
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(irisCircuit()).toBe(CircuitState.Closed);
  });

  it('falls back on a 4xx without counting it against the circuit (the task is up and judged the request)', async () => {
    proxy.setFault({ kind: 'status', status: 404, body: JSON.stringify({ error: "model 'iris-classifier' is not served here" }) });
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await classify(8));
    expect(answers.map((a) => a.route)).toEqual(Array(5).fill('local-kernel (fallback: gpu-task HTTP 404)'));
    expect(irisCircuit()).toBe(CircuitState.Closed);
  });

  it('passes the task\'s Retry-After on when it refuses a batch the instance cannot run', async () => {
    proxy.setFault({ kind: 'status', status: 503, body: JSON.stringify({ error: 'exceeds maximum queue size' }), headers: { 'retry-after': '7' } });
    const refused = await classify(32).catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 503, retryAfterSeconds: 7, message: expect.stringContaining('exceeds maximum queue size') });
    expect((await classify(8)).route).toBe('local-kernel (fallback: gpu-task HTTP 503)');
    await closeIrisCircuit();
  });

  it('treats an answer that is well-formed but not what the model gives (datatype, batch) as malformed', async () => {
    const answer = (datatype: string, rows: number) => (request: { json?: Record<string, unknown> }) => ({
      kind: 'malformed' as const,
      body: JSON.stringify({ model_name: 'iris-classifier', id: request.json!.id, outputs: [{ name: 'label', shape: [rows], datatype, data: Array(rows).fill(0) }] }),
    });
    proxy.setFault(answer('INT32', 8));
    expect((await classify(8)).route).toBe('local-kernel (fallback: gpu-task malformed answer)');
    proxy.setFault(answer('INT64', 7));
    const fallback = await classify(8);
    expect(fallback.route).toBe('local-kernel (fallback: gpu-task malformed answer)');
    expect(Array.from(fallback.outputs[0]!.data as BigInt64Array)).toEqual(labelsOf(8));
    expect(logged).toContainEqual(expect.objectContaining({ message: 'remote route unavailable, running locally', extra: expect.objectContaining({ reason: 'malformed answer' }) }));
    await closeIrisCircuit();
  });

  it('bounds the remote call by the deadline, keeping a local run in reserve when the request could fall back', async () => {
    // Prepare: the task answers 2 s late; the request allows 600 ms.
    proxy.setFault({ kind: 'delay', ms: 2_000 });
    // Act
    const started = performance.now();
    const fitting = await classify(8, { timeout: 600_000 });
    const fittingMs = performance.now() - started;
    const tooBig = await classify(32, { timeout: 600_000 }).catch((e: unknown) => e);
    const tooBigMs = performance.now() - started - fittingMs;
    // Assess: within the deadline, answered locally; the batch that cannot fall back gets 504 at its deadline.
    expect(fitting.route).toBe('local-kernel (fallback: gpu-task timeout)');
    expect(fittingMs).toBeLessThan(600);
    expect(tooBig).toBeInstanceOf(DeadlineExceededError);
    expect(tooBigMs).toBeGreaterThanOrEqual(590);
    expect(tooBigMs).toBeLessThan(1_000);
    // The request's own short deadline is not the task's failure.
    expect(irisCircuit()).toBe(CircuitState.Closed);
  });

  it('counts the remote timeout (HOTPATH_REMOTE_TIMEOUT_MS) as a failure', async () => {
    proxy.setFault({ kind: 'delay', ms: 2_000 });
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await classify(8));
    expect(answers.map((a) => a.route)).toEqual(Array(3).fill('local-kernel (fallback: gpu-task timeout)'));
    expect(irisCircuit()).toBe(CircuitState.Open);
    await closeIrisCircuit();
  });

  it('measures a model later when the task was down at start-up: local (plain route) until then, measured once it answers', async () => {
    // Prepare: an instance without a manifest threshold for iris starts while its task is down.
    const downProxy = await startFaultProxy(remote.url);
    await downProxy.stop();
    const settings: RemoteRoutingConfig = { url: downProxy.url, encoding: 'binary', gzip: false, apiKey: undefined, timeoutMs: 1_000, breakerFailures: 3, breakerHalfOpenMs: HALF_OPEN_MS, fallbackMaxBatch: 16, calibrate: true };
    const late = await createServingRuntime(loadServingConfig({}, { wasmThreads: 1, models: ['iris-classifier'], remote: settings }), quiet);
    const lateRouter = late.router as RemoteRoutingRouter;
    try {
      expect(lateRouter.planOf('iris-classifier', '1')).toMatchObject({ source: 'pending', threshold: Infinity });
      expect((await infer(late, { model: 'iris-classifier', inputs: iris(32) })).route).toBe('local-kernel');
      // Act: the task comes up; the first request after the half-open wait starts the measurement in the background.
      await downProxy.start();
      await sleep(HALF_OPEN_MS + 20);
      expect((await infer(late, { model: 'iris-classifier', inputs: iris(2) })).route).toBe('local-kernel');
      await lateRouter.settled();
      // Assess
      const plan = lateRouter.planOf('iris-classifier', '1')!;
      expect(plan.source).toBe('measured');
      expect(plan.threshold).toBe(crossoverRows(plan.local!, plan.remote!));
      expect(downProxy.requests.filter((r) => r.path.endsWith('/infer')).length).toBeGreaterThanOrEqual(8);
    } finally {
      lateRouter.close();
      await late.registry.dispose();
      await downProxy.close();
    }
  });

  it('prepares the routes once the models are loaded under HOTPATH_INIT=lazy', async () => {
    const settings: RemoteRoutingConfig = { url: proxy.url, encoding: 'binary', gzip: false, apiKey: undefined, timeoutMs: 1_000, breakerFailures: 3, breakerHalfOpenMs: HALF_OPEN_MS, fallbackMaxBatch: 16, calibrate: false };
    const modelsDir = routingModelsDir(withThresholds({ 'iris-classifier': 2 }));
    const lazy = await createServingRuntime(loadServingConfig({}, { wasmThreads: 1, models: ['iris-classifier'], modelsDir, initStrategy: 'lazy', remote: settings }), quiet);
    const lazyRouter = lazy.router as RemoteRoutingRouter;
    try {
      expect(lazyRouter.planOf('iris-classifier', '1')).toBeUndefined();
      await lazy.ensureLoaded();
      expect(lazyRouter.planOf('iris-classifier', '1')).toMatchObject({ source: 'manifest', threshold: 2 });
      expect((await infer(lazy, { model: 'iris-classifier', inputs: iris(3) })).route).toBe('gpu-task');
    } finally {
      lazyRouter.close();
      await lazy.registry.dispose();
    }
  });

  it('refuses a manifest threshold that is not a non-negative integer, naming the model', async () => {
    const modelsDir = routingModelsDir(withThresholds({ 'iris-classifier': -3 }));
    const settings: RemoteRoutingConfig = { url: proxy.url, encoding: 'binary', gzip: false, apiKey: undefined, timeoutMs: 1_000, breakerFailures: 3, breakerHalfOpenMs: HALF_OPEN_MS, fallbackMaxBatch: 16, calibrate: false };
    await expect(createServingRuntime(loadServingConfig({}, { wasmThreads: 1, models: ['iris-classifier'], modelsDir, remote: settings }), quiet))
      .rejects.toThrow("model 'iris-classifier@1': manifest routing.preferRemoteAboveBatch must be a non-negative integer (rows), got -3");
  });
});
