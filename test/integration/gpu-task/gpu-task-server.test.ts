/**
 * The GPU task (gpu-task/gpu-task-server.ts) in-process on this CPU-only machine, over real
 * sockets, with the real native backend and models: it refuses the GPU providers it cannot
 * prove, serves on CPU saying so, and batches concurrent requests (each answered once, with its
 * own rows), refusing past the queue bound with 503 + Retry-After and answering 504 for a
 * request whose parameters.timeout ran out in the queue.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadServingConfig } from '../../../lib/config/serving-config';
import type { ManifestModel, ModelManifest } from '../../../lib/models/model-manifest-types';
import type { RunningOipServer } from '../../../lib/server/oip-server';
import { mulberry32 } from '../../../kernels/seeded-random/seeded-random';
import { startGpuTask, type FormedBatch } from '../../../gpu-task/gpu-task-server';

/** The built models layer's files (linked) with a manifest whose dynamicBatching settings this suite chooses. */
function modelsDirWithBatching(settings: Readonly<Record<string, ManifestModel['dynamicBatching']>>): string {
  const built = loadServingConfig({}).modelsDir;
  const dir = mkdtempSync(join(tmpdir(), 'hotpath-gpu-task-models-'));
  for (const entry of readdirSync(built)) if (entry !== 'manifest.json') symlinkSync(join(built, entry), join(dir, entry));
  const manifest = JSON.parse(readFileSync(join(built, 'manifest.json'), 'utf8')) as ModelManifest;
  const models = manifest.models.map(({ dynamicBatching: _ignored, ...model }) => (settings[model.name] ? { ...model, dynamicBatching: settings[model.name] } : model));
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, models }, null, 2));
  return dir;
}

interface LogLine { level: string; message: string }
const lines: LogLine[] = [];
const logger = {
  info: (message: string) => void lines.push({ level: 'info', message }),
  warn: (message: string) => void lines.push({ level: 'warn', message }),
  error: (message: string) => void lines.push({ level: 'error', message }),
};

const batches: FormedBatch[] = [];
let task: RunningOipServer;
let modelsDir: string;

beforeAll(async () => {
  modelsDir = modelsDirWithBatching({
    'mlp-small': { maxQueueDelayMicroseconds: 5_000 },
    'mlp-medium': { maxQueueDelayMicroseconds: 0, maxQueueSize: 1 },
    'iris-classifier': { maxQueueDelayMicroseconds: 400_000 },
  });
  task = await startGpuTask({
    env: { HOTPATH_PROVIDERS: 'cuda,webgpu,cpu' },
    config: { modelsDir, models: ['mlp-small', 'mlp-medium', 'iris-classifier'], wasmThreads: 1, maxInflight: 512 },
    logger,
    port: 0,
    onBatch: (batch) => void batches.push(batch),
  });
}, 120_000);
afterAll(async () => {
  await task?.close(0);
  rmSync(modelsDir, { recursive: true, force: true });
});

function mlpRow(id: number, width: number): number[] {
  const random = mulberry32(id + 7);
  return Array.from({ length: width }, () => random() * 2 - 1);
}

async function inferJson(model: string, body: unknown): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const response = await fetch(`${task.url}/v2/models/${model}/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, headers: response.headers, json: await response.json() as Record<string, unknown> };
}

describe('GPU task server (CPU-only machine)', () => {
  it('refuses cuda and webgpu with their reasons, serves on cpu, and says so as an error at start', async () => {
    // Act
    const server = await (await fetch(`${task.url}/v2`)).json() as { parameters: { providers: Record<string, string>; providers_refused: { provider: string; reason: string }[] } };

    // Assess
    expect(server.parameters.providers).toEqual({ 'iris-classifier@1': 'cpu', 'mlp-small@1': 'cpu', 'mlp-medium@1': 'cpu' });
    expect(server.parameters.providers_refused.map((r) => r.provider)).toEqual(['cuda', 'webgpu']);
    expect(server.parameters.providers_refused[0]!.reason).toContain('Failed to load shared library');
    expect(server.parameters.providers_refused[1]!.reason).toContain('Failed to get a WebGPU adapter');
    expect(lines.some((l) => l.level === 'error' && l.message.startsWith('GPU task serves iris-classifier@1, mlp-small@1, mlp-medium@1 on CPU'))).toBe(true);
  });

  it('batches 64 concurrent batch-1 requests and answers each id once with its own row', async () => {
    // Prepare: each row's answer run alone first.
    const ids = Array.from({ length: 64 }, (_, i) => i);
    const alone = new Map<number, number[]>();
    for (const id of ids) {
      const answer = await inferJson('mlp-small', { id: `solo-${id}`, inputs: [{ name: 'input', shape: [1, 256], datatype: 'FP32', data: mlpRow(id, 256) }] });
      alone.set(id, (answer.json.outputs as { data: number[] }[])[0]!.data);
    }
    batches.length = 0;

    // Act
    const answers = await Promise.all(ids.map((id) => inferJson('mlp-small', { id: `req-${id}`, inputs: [{ name: 'input', shape: [1, 256], datatype: 'FP32', data: mlpRow(id, 256) }] })));

    // Assess
    const perId = new Map<string, number>();
    for (const answer of answers) perId.set(answer.json.id as string, (perId.get(answer.json.id as string) ?? 0) + 1);
    expect([...perId.values()].every((n) => n === 1) && perId.size === 64).toBe(true);
    for (const [index, answer] of answers.entries()) {
      expect(answer.status).toBe(200);
      expect(answer.headers.get('x-hotpath-provider')).toBe('cpu');
      expect(answer.json.id).toBe(`req-${index}`);
      expect((answer.json.outputs as { data: number[] }[])[0]!.data).toEqual(alone.get(index));
    }
    const mlpBatches = batches.filter((b) => b.model === 'mlp-small');
    expect(mlpBatches.reduce((n, b) => n + b.rows, 0)).toBe(64);
    expect(Math.max(...mlpBatches.map((b) => b.requests))).toBeGreaterThan(1);
  });

  it('answers 503 "exceeds maximum queue size" with Retry-After once the queue is full, and runs the rest', async () => {
    // Act
    const answers = await Promise.all(Array.from({ length: 24 }, (_, id) => inferJson('mlp-medium', { inputs: [{ name: 'input', shape: [4, 784], datatype: 'FP32', data: Array.from({ length: 4 }, () => mlpRow(id, 784)) }] })));

    // Assess
    const busy = answers.filter((a) => a.status === 503);
    expect(busy.length).toBeGreaterThan(0);
    expect(answers.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(2);
    expect(answers.every((a) => a.status === 200 || a.status === 503)).toBe(true);
    expect(busy[0]!.json.error).toMatch(/^model 'mlp-medium@1': request exceeds maximum queue size \(1 requests queued/);
    expect(Number(busy[0]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('answers 504 when parameters.timeout runs out while the request waits in the queue', async () => {
    // Prepare: iris waits up to 400 ms for a batch to fill; this request allows 30 ms.
    const started = performance.now();

    // Act
    const answer = await inferJson('iris-classifier', { parameters: { timeout: 30_000 }, inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [5.1, 3.5, 1.4, 0.2] }] });
    const elapsed = performance.now() - started;

    // Assess
    expect(answer.status).toBe(504);
    expect(answer.json.error).toMatch(/^model 'iris-classifier@1': the request's deadline passed after \d+ ms in the dynamic batcher's queue; it never ran/);
    expect(elapsed).toBeLessThan(300);
  });
});
