/**
 * Issue 8's faults, each against a real remote OIP server on 127.0.0.1 (the native backend:
 * the GPU task's runtime, on CPU here), seen through the Lambda door (the real handler chain,
 * in-process, with the context's remaining time): the task down at INIT and later, slow past
 * the deadline, answering 500, a malformed body, the connection reset mid-answer, 503 queue
 * full, a provider self-test that fails. Each gets the right fallback or error; then a mixed
 * run counts the answers per request id (none lost, none twice, none crossed).
 *
 * iris-classifier has threshold 4 (batches of 5+ rows go to the task) and the instance may
 * run 16 rows locally when the task is unavailable: 8 rows fall back, 32 rows get 503.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { connect, type Socket } from 'node:net';
import { CircuitState } from 'cockatiel';
import type { RemoteRoutingConfig } from '../../../lib/config/serving-config';
import { startOipServer, type RunningOipServer } from '../../../lib/server/oip-server';
import type { RemoteRoutingRouter } from '../../../lib/serving/remote-routing-router';
import { createApiHandler } from '../../../functions/http/api-handler-factory';
import { loadServingConfig } from '../../../lib/config/serving-config';
import { createServingRuntime } from '../../../lib/serving/serving-runtime';
import { createTelemetry } from '../../../lib/telemetry/lambda-telemetry';
import { buildHttpApiEvent } from '../../support/api-gateway-http-event';
import { startFaultProxy, type Fault, type FaultProxy } from '../../support/fault-proxy';
import { createInProcessApi, resultBytes, type InProcessApi } from '../../support/in-process-api';
import { routingModelsDir, withThresholds } from './routing-models-dir';

const HALF_OPEN_MS = 300;
const quiet = { info() {}, warn() {}, error() {} };
const settings = (url: string): RemoteRoutingConfig => ({
  url, encoding: 'binary', gzip: false, apiKey: undefined, timeoutMs: 1_000,
  breakerFailures: 3, breakerHalfOpenMs: HALF_OPEN_MS, fallbackMaxBatch: 16, calibrate: false,
});

let remote: RunningOipServer;
let busyRemote: RunningOipServer;
let refusingRemote: RunningOipServer;
let proxy: FaultProxy;
let lateProxy: FaultProxy;
let api: InProcessApi;
let modelsDir: string;

beforeAll(async () => {
  // The native servers first: every runtime in this process shares onnxruntime-common's backend registry.
  const native = { onnxBackend: 'native' as const, wasmThreads: 1, models: ['iris-classifier'] };
  remote = await startOipServer({ port: 0, logger: quiet, config: native });
  // Admits one request at a time: a second one gets the server's real 503 with Retry-After.
  busyRemote = await startOipServer({ port: 0, logger: quiet, config: { ...native, maxInflight: 1 } });
  // Asked to serve on WebGPU only (no adapter here): the provider self-test refuses it, so the model is refused.
  refusingRemote = await startOipServer({ port: 0, logger: quiet, config: { ...native, providers: ['webgpu'] } });
  proxy = await startFaultProxy(remote.url);
  lateProxy = await startFaultProxy(remote.url);
  modelsDir = routingModelsDir(withThresholds({ 'iris-classifier': 4 }));
  api = await lambdaWithRemote(proxy.url);
}, 240_000);
afterEach(() => proxy.setFault({ kind: 'pass' }));
afterAll(async () => {
  for (const door of [api]) (door?.runtime.router as RemoteRoutingRouter | undefined)?.close();
  await proxy?.close();
  await lateProxy?.close();
  for (const server of [remote, busyRemote, refusingRemote]) await server?.close(0);
});

function lambdaWithRemote(url: string): Promise<InProcessApi> {
  return createInProcessApi({ models: ['iris-classifier'], modelsDir, remote: settings(url) });
}

const samples = [[5.1, 3.5, 1.4, 0.2], [7.0, 3.2, 4.7, 1.4], [6.3, 3.3, 6.0, 2.5]];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Answer {
  readonly status: number;
  readonly route: string | undefined;
  readonly retryAfter: string | undefined;
  readonly body: { id?: string; error?: string; outputs?: { name: string; shape: number[]; data: number[] }[] };
  readonly ms: number;
}

/** POST iris rows (one sample per species, cycling: labels 0, 1, 2, ...) through the Lambda handler with `remainingMs` left. */
async function classify(door: InProcessApi, rows: number, options: { id?: string; remainingMs?: number } = {}): Promise<Answer> {
  const body = JSON.stringify({
    ...(options.id !== undefined ? { id: options.id } : {}),
    inputs: [{ name: 'input', shape: [rows, 4], datatype: 'FP32', data: Array.from({ length: rows }, (_, i) => samples[i % 3]!) }],
    outputs: [{ name: 'label' }],
  });
  const event = buildHttpApiEvent({ method: 'POST', target: '/v2/models/iris-classifier/infer', headers: [['content-type', 'application/json']], body: Buffer.from(body) });
  const started = performance.now();
  const result = (await door.invoke(event, options.remainingMs)) as APIGatewayProxyStructuredResultV2;
  const headers = (result.headers ?? {}) as Record<string, string>;
  return { status: result.statusCode!, route: headers['x-hotpath-route'], retryAfter: headers['retry-after'], body: JSON.parse(resultBytes(result).toString('utf8')), ms: performance.now() - started };
}

const labels = (answer: Answer) => answer.body.outputs?.[0]?.data;
const expectedLabels = (rows: number) => Array.from({ length: rows }, (_, i) => i % 3);
const circuitOf = (door: InProcessApi) => (door.runtime.router as RemoteRoutingRouter).circuitOf('iris-classifier', '1');

/** 8 rows fall back with this route and the right labels; 32 rows get 503 with Retry-After. */
async function expectFallbackAndRefusal(door: InProcessApi, reason: string): Promise<void> {
  const fallback = await classify(door, 8);
  expect({ status: fallback.status, route: fallback.route }).toEqual({ status: 200, route: `local-kernel (fallback: gpu-task ${reason})` });
  expect(labels(fallback)).toEqual(expectedLabels(8));
  const refused = await classify(door, 32);
  expect(refused.status).toBe(503);
  expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
  expect(refused.body.error).toMatch(/a batch of 32 rows goes to the remote route gpu-task \(above 4 rows\), which is unavailable .*it is over the 16 rows this instance may run locally/);
}

/** The task healthy again: after the half-open wait a probe succeeds and the circuit closes. */
async function recover(door: InProcessApi): Promise<void> {
  proxy.setFault({ kind: 'pass' });
  await sleep(HALF_OPEN_MS + 20);
  const probe = await classify(door, 8);
  expect(probe.route).toBe('gpu-task');
  expect(circuitOf(door)).toBe(CircuitState.Closed);
}

describe('routing faults, against real servers, through the Lambda door', () => {
  it('serves large batches on the task when it is healthy', async () => {
    const local = await classify(api, 4);
    const remoteAnswer = await classify(api, 32);
    expect([local.route, remoteAnswer.route]).toEqual(['local-kernel', 'gpu-task']);
    expect(labels(remoteAnswer)).toEqual(expectedLabels(32));
  });

  it('task down at INIT: starts with the circuit open, falls back or refuses, and routes to the task once it is up', async () => {
    // Prepare: the instance starts while the task is down.
    await lateProxy.stop();
    const door = await lambdaWithRemote(lateProxy.url);
    try {
      // Assess: no request waits for a connection that cannot be made.
      expect(circuitOf(door)).toBe(CircuitState.Open);
      await expectFallbackAndRefusal(door, 'circuit open');
      // Act: the task comes up; after the half-open wait the next large batch probes it.
      await lateProxy.start();
      await sleep(HALF_OPEN_MS + 20);
      const probe = await classify(door, 32);
      expect(probe.route).toBe('gpu-task');
      expect(labels(probe)).toEqual(expectedLabels(32));
      expect(circuitOf(door)).toBe(CircuitState.Closed);
    } finally {
      (door.runtime.router as RemoteRoutingRouter).close();
      await door.runtime.registry.dispose();
    }
  });

  it('task down later: each failed call falls back (unreachable), 3 open the circuit, and it closes when the task is back', async () => {
    await proxy.stop();
    const failed = [await classify(api, 8), await classify(api, 8), await classify(api, 8)];
    expect(failed.map((a) => a.route)).toEqual(Array(3).fill('local-kernel (fallback: gpu-task unreachable)'));
    expect(circuitOf(api)).toBe(CircuitState.Open);
    await expectFallbackAndRefusal(api, 'circuit open');
    await proxy.start();
    await recover(api);
  });

  it('slow past the deadline: a batch that fits locally is answered locally before the deadline, a larger one gets 504 at it', async () => {
    // Prepare: answers come 3 s late; the function has 1 s left (the door keeps 250 ms to answer).
    proxy.setFault({ kind: 'delay', ms: 3_000 });
    // Act
    const fitting = await classify(api, 8, { remainingMs: 1_000 });
    const tooBig = await classify(api, 32, { remainingMs: 1_000 });
    // Assess
    expect({ status: fitting.status, route: fitting.route }).toEqual({ status: 200, route: 'local-kernel (fallback: gpu-task timeout)' });
    expect(labels(fitting)).toEqual(expectedLabels(8));
    expect(fitting.ms).toBeLessThan(750);
    expect(tooBig.status).toBe(504);
    expect(tooBig.body.error).toMatch(/deadline passed/);
    expect(tooBig.ms).toBeGreaterThanOrEqual(740);
    expect(tooBig.ms).toBeLessThan(1_000);
  });

  it('answering 500: falls back with the status as the reason, refuses what does not fit', async () => {
    proxy.setFault({ kind: 'status', status: 500, body: JSON.stringify({ error: 'internal error' }) });
    await expectFallbackAndRefusal(api, 'HTTP 500');
    await recover(api);
  });

  it('a malformed body: falls back as a malformed answer', async () => {
    proxy.setFault({ kind: 'malformed', body: '{"model_name": "iris-classifier", "outputs": [{"name": "label", "shape": [8], "datatyp' });
    await expectFallbackAndRefusal(api, 'malformed answer');
    await recover(api);
  });

  it('the connection reset mid-answer: falls back as a connection reset', async () => {
    proxy.setFault({ kind: 'reset-mid-response' });
    await expectFallbackAndRefusal(api, 'connection reset');
    await recover(api);
  });

  it('503 queue full (the task at its admission bound): falls back, and the refusal passes on the task\'s Retry-After', async () => {
    // Prepare: an instance that found the task ready at INIT; then a request holds the task's only slot (its head and part of its body sent).
    const door = await lambdaWithRemote(busyRemote.url);
    const holder: Socket = connect(busyRemote.port, '127.0.0.1');
    await new Promise((resolve) => holder.once('connect', resolve));
    holder.write('POST /v2/models/iris-classifier/infer HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{');
    while (busyRemote.inflight() === 0) await sleep(5);
    try {
      // Act / Assess
      await expectFallbackAndRefusal(door, 'HTTP 503');
      const refused = await classify(door, 32);
      expect(refused.body.error).toMatch(/server busy: 1 requests in flight, the limit is 1/);
    } finally {
      holder.destroy();
      (door.runtime.router as RemoteRoutingRouter).close();
      await door.runtime.registry.dispose();
    }
  });

  it('a provider self-test that fails on the task: the model is not ready there, so the circuit starts open and the probe finds it still refused', async () => {
    const door = await lambdaWithRemote(refusingRemote.url);
    try {
      expect(circuitOf(door)).toBe(CircuitState.Open);
      await expectFallbackAndRefusal(door, 'circuit open');
      await sleep(HALF_OPEN_MS + 20);
      const probe = await classify(door, 8);
      expect(probe.route).toBe('local-kernel (fallback: gpu-task HTTP 503)');
      expect(circuitOf(door)).toBe(CircuitState.Open);
      const refused = await classify(door, 32);
      expect(refused.body.error).toMatch(/no execution provider in HOTPATH_PROVIDERS \(webgpu\) passed its self-test/);
    } finally {
      (door.runtime.router as RemoteRoutingRouter).close();
      await door.runtime.registry.dispose();
    }
  });

  it('meters a fallback: the invocation\'s EMF record has the fallback route as its route dimension', async () => {
    // Prepare: metrics on (tests turn them off), an instance whose task is unreachable (nothing listens on port 1).
    const disabled = process.env.POWERTOOLS_METRICS_DISABLED;
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    const telemetry = createTelemetry();
    const runtime = await createServingRuntime(loadServingConfig(process.env, { wasmThreads: 1, models: ['iris-classifier'], modelsDir, remote: settings('http://127.0.0.1:1') }), telemetry.logger);
    const handler = createApiHandler(runtime, telemetry);
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      // Act
      const door = { invoke: (event: Parameters<InProcessApi['invoke']>[0]) => handler(event, { awsRequestId: 'metered', functionName: 'hotpath-api', getRemainingTimeInMillis: () => 29_000 } as never) } as InProcessApi;
      const answer = await classify(door, 8);
      // Assess
      expect(answer.route).toBe('local-kernel (fallback: gpu-task circuit open)');
      const records = log.mock.calls.map((call) => String(call[0])).filter((line) => line.includes('"_aws"')).map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(records).toContainEqual(expect.objectContaining({ model: 'iris-classifier', route: 'local-kernel (fallback: gpu-task circuit open)', BatchSize: 8 }));
    } finally {
      log.mockRestore();
      if (disabled === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
      else process.env.POWERTOOLS_METRICS_DISABLED = disabled;
      (runtime.router as RemoteRoutingRouter).close();
      await runtime.registry.dispose();
    }
  });

  it('answers every request id exactly once, with its own rows, under a mix of every fault', async () => {
    // Prepare: 60 requests of 1..20 rows (local, fallback-sized and too big to fall back); the task's answers rotate through the faults.
    const faults: Fault[] = [
      { kind: 'pass' }, { kind: 'status', status: 500 }, { kind: 'pass' }, { kind: 'malformed', body: '{"outputs": 1}' },
      { kind: 'pass' }, { kind: 'reset-mid-response' }, { kind: 'delay', ms: 50 }, { kind: 'reset-before-response' },
      { kind: 'status', status: 503, headers: { 'retry-after': '2' } }, { kind: 'delay', ms: 1_500 },
    ];
    proxy.setFault((_, index) => faults[index % faults.length]!);
    const requests = Array.from({ length: 60 }, (_, i) => ({ id: `request-${i}`, rows: (i % 20) + 1 }));
    // Act: all at once, as concurrent invocations.
    const answers = await Promise.all(requests.map(async (r) => ({ ...r, answer: await classify(api, r.rows, { id: r.id }) })));
    // Assess: one answer per id, each with its own id; a 200 carries its own rows' labels and its route, the rest are 503 with Retry-After.
    const perId = new Map<string, number>();
    for (const { answer } of answers) if (answer.body.id !== undefined) perId.set(answer.body.id, (perId.get(answer.body.id) ?? 0) + 1);
    const statuses = new Map<number, number>();
    for (const { id, rows, answer } of answers) {
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      if (answer.status === 200) {
        expect(answer.body.id).toBe(id);
        expect(labels(answer)).toEqual(expectedLabels(rows));
        expect(answer.route).toMatch(rows <= 4 ? /^local-kernel$/ : /^(gpu-task|local-kernel \(fallback: gpu-task (HTTP 500|HTTP 503|malformed answer|connection reset|timeout|circuit open|circuit half-open)\))$/);
      } else {
        expect({ id, rows, status: answer.status, retryAfter: Number(answer.retryAfter) >= 1 }).toEqual({ id, rows, status: 503, retryAfter: true });
        expect(rows).toBeGreaterThan(16);
      }
    }
    const answeredIds = answers.filter((a) => a.answer.status === 200).map((a) => a.id);
    expect([...perId.keys()].sort()).toEqual(answeredIds.sort());
    expect([...perId.values()].every((n) => n === 1)).toBe(true);
    expect(answers).toHaveLength(60);
    expect(statuses.get(200)).toBeGreaterThanOrEqual(48);
    await recover(api);
  });
});
