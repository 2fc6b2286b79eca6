/**
 * The router in front of the GPU task itself (startGpuTask, what gpu-task/start-gpu-task.ts
 * runs: native backend, provider self-test, dynamic batcher) on 127.0.0.1, when the task's
 * dynamic batcher refuses with 503 "exceeds maximum queue size" (its queue, not the server's
 * admission bound, which routing-faults.test.ts covers): a batch that fits locally falls back,
 * one that does not gets 503 with the task's Retry-After; under concurrent requests each id is
 * answered once with its own rows, and the task ran exactly the rows of the answers it served
 * (none run twice, none lost).
 *
 * iris-classifier: threshold 4 (5+ rows go to the task), 16 rows may run locally; on the task,
 * dynamic batching with max_queue_size 1 and a long queue delay, so a request waiting there
 * fills the queue.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { RemoteRoutingConfig } from '../../../lib/config/serving-config';
import type { RunningOipServer } from '../../../lib/server/oip-server';
import type { RemoteRoutingRouter } from '../../../lib/serving/remote-routing-router';
import { startGpuTask, type FormedBatch } from '../../../gpu-task/gpu-task-server';
import { buildHttpApiEvent } from '../../support/api-gateway-http-event';
import { createInProcessApi, resultBytes, type InProcessApi } from '../../support/in-process-api';
import { routingModelsDir } from './routing-models-dir';

const QUEUE_DELAY_MS = 1_500;
const quiet = { info() {}, warn() {}, error() {} };
const settings = (url: string): RemoteRoutingConfig => ({
  url, encoding: 'binary', gzip: false, apiKey: undefined, timeoutMs: 5_000,
  breakerFailures: 3, breakerHalfOpenMs: 200, fallbackMaxBatch: 16, calibrate: false,
});

const batches: FormedBatch[] = [];
let task: RunningOipServer;
let api: InProcessApi;

beforeAll(async () => {
  const modelsDir = routingModelsDir((model) => (model.name !== 'iris-classifier' ? model : {
    ...model, routing: { preferRemoteAboveBatch: 4 }, dynamicBatching: { maxQueueDelayMicroseconds: QUEUE_DELAY_MS * 1000, maxQueueSize: 1 },
  }));
  // The native task first: every runtime in this process shares onnxruntime-common's backend registry.
  task = await startGpuTask({
    env: { HOTPATH_PROVIDERS: 'cpu' }, config: { modelsDir, models: ['iris-classifier'], wasmThreads: 1 }, logger: quiet, port: 0,
    onBatch: (batch) => void batches.push(batch),
  });
  api = await createInProcessApi({ models: ['iris-classifier'], modelsDir, remote: settings(task.url) });
}, 120_000);
afterAll(async () => {
  (api?.runtime.router as RemoteRoutingRouter | undefined)?.close();
  await api?.runtime.registry.dispose();
  await task?.close(0);
});

const samples = [[5.1, 3.5, 1.4, 0.2], [7.0, 3.2, 4.7, 1.4], [6.3, 3.3, 6.0, 2.5]];
const expectedLabels = (rows: number) => Array.from({ length: rows }, (_, i) => i % 3);
const irisBody = (rows: number, id?: string) => JSON.stringify({
  ...(id !== undefined ? { id } : {}),
  inputs: [{ name: 'input', shape: [rows, 4], datatype: 'FP32', data: Array.from({ length: rows }, (_, i) => samples[i % 3]!) }],
  outputs: [{ name: 'label' }],
});

interface Answer {
  readonly status: number;
  readonly route: string | undefined;
  readonly retryAfter: string | undefined;
  readonly body: { id?: string; error?: string; outputs?: { data: number[] }[] };
}

async function classify(rows: number, id?: string): Promise<Answer> {
  const event = buildHttpApiEvent({ method: 'POST', target: '/v2/models/iris-classifier/infer', headers: [['content-type', 'application/json']], body: Buffer.from(irisBody(rows, id)) });
  const result = (await api.invoke(event)) as APIGatewayProxyStructuredResultV2;
  const headers = (result.headers ?? {}) as Record<string, string>;
  return { status: result.statusCode!, route: headers['x-hotpath-route'], retryAfter: headers['retry-after'], body: JSON.parse(resultBytes(result).toString('utf8')) };
}

/** The route the instance's own session answers on (iris-classifier's backend: local-wasm or local-kernel). */
function localRoute(): string {
  const entry = api.runtime.registry.entries.find((e) => e.manifest.name === 'iris-classifier');
  if (!entry?.state.ready) throw new Error('iris-classifier is not loaded in the Lambda core');
  return entry.state.backend.route;
}

/** A request straight to the task that waits in its queue (QUEUE_DELAY_MS) and so fills it. */
async function fillTaskQueue(): Promise<{ answer: Promise<Response> }> {
  const queued = batches.length;
  const answer = fetch(`${task.url}/v2/models/iris-classifier/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: irisBody(1) });
  // A few hundred bytes on loopback to a server in this process: queued well within 200 ms, and it waits QUEUE_DELAY_MS there.
  await new Promise((r) => setTimeout(r, 200));
  expect(batches.length).toBe(queued);
  // Wrapped: an async function returning the promise itself would wait for it.
  return { answer };
}

describe('the router in front of the GPU task when its dynamic batcher queue is full', () => {
  it('falls back with the task\'s 503 as the reason, and refuses a batch too big to fall back with the task\'s Retry-After', async () => {
    // Prepare
    const holder = await fillTaskQueue();

    // Act
    const fitting = await classify(8);
    const tooBig = await classify(32);
    const held = await holder.answer;

    // Assess
    expect({ status: fitting.status, route: fitting.route }).toEqual({ status: 200, route: `${localRoute()} (fallback: gpu-task HTTP 503)` });
    expect(fitting.body.outputs?.[0]?.data).toEqual(expectedLabels(8));
    expect(tooBig.status).toBe(503);
    expect(Number(tooBig.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(tooBig.body.error).toMatch(/request exceeds maximum queue size \(1 requests queued/);
    expect(tooBig.body.error).toMatch(/it is over the 16 rows this instance may run locally/);
    expect(held.status).toBe(200);
  }, 30_000);

  it('answers each of 24 concurrent request ids once with its own rows, and the task ran exactly the rows it answered', async () => {
    // Prepare: 8-row requests (remote-bound, small enough to fall back), all at once.
    await new Promise((r) => setTimeout(r, 250)); // past the half-open wait, should the previous test have opened the circuit
    const rowsBefore = batches.reduce((n, b) => n + b.rows, 0);
    const ids = Array.from({ length: 24 }, (_, i) => `queue-full-${i}`);

    // Act
    const answers = await Promise.all(ids.map(async (id) => ({ id, answer: await classify(8, id) })));
    while (task.inflight() > 0) await new Promise((r) => setTimeout(r, 5));

    // Assess: one answer per id, its own; the task's batches hold the rows of the answers it served, no more, no fewer.
    expect(answers.map((a) => a.answer.status)).toEqual(Array(24).fill(200));
    expect(answers.map((a) => a.answer.body.id).sort()).toEqual([...ids].sort());
    for (const { answer } of answers) expect(answer.body.outputs?.[0]?.data).toEqual(expectedLabels(8));
    const routes = answers.map((a) => a.answer.route);
    const served = routes.filter((r) => r === 'gpu-task').length;
    expect(served).toBeGreaterThanOrEqual(1);
    const fallbacks = ['HTTP 503', 'circuit open', 'circuit half-open'].map((reason) => `${localRoute()} (fallback: gpu-task ${reason})`);
    expect(routes.filter((r) => r !== 'gpu-task').every((r) => fallbacks.includes(r!))).toBe(true);
    expect(routes).toContain(fallbacks[0]);
    expect(batches.reduce((n, b) => n + b.rows, 0) - rowsBefore).toBe(8 * served);
  }, 30_000);
});
