// onnxruntime-node first: it shares one backend registry with onnxruntime-web. (onnxruntime-web
// itself only ever runs in a child process here, from a copy of the built layer.)
import * as ortNode from 'onnxruntime-node';
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { ModelManifest } from '../../../lib/models/model-manifest-types';
import { MODELS_DIR, RUNTIME_LAYER_DIR } from '../../../layers/layer-paths';
import { sampleFeeds, type JsonFeeds, type JsonTensor } from './sample-feeds';

interface RunnerOutput {
  readonly resolved: string;
  readonly commonResolved: string;
  readonly version: string;
  readonly results: Record<string, { inputNames: string[]; outputNames: string[]; outputs: Record<string, JsonTensor> }>;
}

/** Absolute tolerance per model for onnxruntime-web vs onnxruntime-node (summation order differs). */
const TOLERANCE: Record<string, number> = {
  'iris-classifier': 1e-5,
  'silero-vad': 1e-5,
  'text-detector': 1e-4,
  'mlp-small': 1e-4,
  'mlp-medium': 1e-4,
  'mlp-large': 1e-3,
};

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listFiles(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

function maxAbsDifference(a: readonly number[], b: readonly number[]): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

describe('runtime layer (built by npm run build:layers)', () => {
  const manifest = JSON.parse(readFileSync(join(MODELS_DIR, 'manifest.json'), 'utf8')) as ModelManifest;
  const feeds = sampleFeeds();
  let optDir: string;
  let ortWebDir: string;

  beforeAll(() => {
    if (!existsSync(RUNTIME_LAYER_DIR)) throw new Error(`${RUNTIME_LAYER_DIR} is missing: run \`npm run build:layers\` first`);
    // A copy outside the repository stands in for /opt: no node_modules above it to fall back on.
    optDir = mkdtempSync(join(tmpdir(), 'hotpath-opt-'));
    cpSync(RUNTIME_LAYER_DIR, optDir, { recursive: true });
    copyFileSync(join(__dirname, 'ort-web-runner.cjs'), join(optDir, 'ort-web-runner.cjs'));
    ortWebDir = join(optDir, 'nodejs', 'node_modules', 'onnxruntime-web');
  });

  afterAll(() => {
    if (optDir) rmSync(optDir, { recursive: true, force: true });
  });

  function runOrtWeb(job: { models: string[]; numThreads: number; esm?: boolean }): RunnerOutput {
    const jobFile = join(optDir, `job-${job.models.join('-')}-${job.numThreads}-${job.esm ? 'esm' : 'cjs'}.json`);
    writeFileSync(jobFile, JSON.stringify({
      wasmPaths: `${join(ortWebDir, 'dist')}/`,
      numThreads: job.numThreads,
      ...(job.esm ? { esmEntry: join(ortWebDir, 'dist', 'ort.node.min.mjs') } : {}),
      models: job.models.map((name) => ({
        name,
        path: join(MODELS_DIR, manifest.models.find((m) => m.name === name)!.file),
        feeds: feeds[name],
      })),
    }));
    // NODE_PATH is how Lambda puts /opt/nodejs/node_modules on the resolution path.
    const stdout = execFileSync(process.execPath, [join(optDir, 'ort-web-runner.cjs'), jobFile], {
      cwd: optDir,
      env: { PATH: process.env.PATH ?? '', NODE_PATH: join(optDir, 'nodejs', 'node_modules') },
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      timeout: 120_000,
    });
    return JSON.parse(stdout) as RunnerOutput;
  }

  async function runOrtNode(name: string): Promise<Record<string, number[]>> {
    const session = await ortNode.InferenceSession.create(join(MODELS_DIR, manifest.models.find((m) => m.name === name)!.file));
    const ortFeeds: Record<string, ortNode.Tensor> = {};
    for (const [input, t] of Object.entries(feeds[name] as JsonFeeds)) {
      const data = t.type === 'int64' ? BigInt64Array.from(t.data, (v) => BigInt(v)) : Float32Array.from(t.data);
      ortFeeds[input] = new ortNode.Tensor(t.type, data, t.dims);
    }
    const outputs = await session.run(ortFeeds);
    await session.release();
    return Object.fromEntries(Object.entries(outputs).map(([key, tensor]) => [key, Array.from(tensor.data as Float32Array | BigInt64Array, Number)]));
  }

  it('holds only the Node entry, the WASM-SIMD build and onnxruntime-common, about 15 MB', () => {
    // Act
    const files = listFiles(RUNTIME_LAYER_DIR).map((file) => relative(RUNTIME_LAYER_DIR, file));
    const bytes = listFiles(RUNTIME_LAYER_DIR).reduce((sum, file) => sum + statSync(file).size, 0);

    // Assess
    const web = files.filter((f) => f.startsWith('nodejs/node_modules/onnxruntime-web/')).sort();
    expect(web).toEqual([
      'nodejs/node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.mjs',
      'nodejs/node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm',
      'nodejs/node_modules/onnxruntime-web/dist/ort.node.min.js',
      'nodejs/node_modules/onnxruntime-web/dist/ort.node.min.mjs',
      'nodejs/node_modules/onnxruntime-web/package.json',
    ]);
    const others = files.filter((f) => !f.startsWith('nodejs/node_modules/onnxruntime-web/'));
    expect(others.every((f) => f.startsWith('nodejs/node_modules/onnxruntime-common/'))).toBe(true);
    expect(others.some((f) => f.endsWith('.map') || f.endsWith('.d.ts'))).toBe(false);
    expect(bytes / 1e6).toBeGreaterThan(13);
    expect(bytes / 1e6).toBeLessThan(17);
  });

  it('resolves onnxruntime-web and onnxruntime-common from the layer alone and matches onnxruntime-node on every ONNX model', async () => {
    // Act
    const onnxModels = manifest.models.filter((m) => m.platform === 'onnx_onnxv1');
    const web = runOrtWeb({ models: onnxModels.map((m) => m.name), numThreads: 1 });

    // Assess
    expect(web.resolved).toBe(join(ortWebDir, 'dist', 'ort.node.min.js'));
    expect(web.commonResolved.startsWith(join(optDir, 'nodejs', 'node_modules', 'onnxruntime-common'))).toBe(true);
    for (const model of onnxModels) {
      const result = web.results[model.name]!;
      expect(result.inputNames).toEqual(model.inputs.map((i) => i.name));
      expect(result.outputNames).toEqual(model.outputs.map((o) => o.name));
      const native = await runOrtNode(model.name);
      for (const output of model.outputs) {
        const difference = maxAbsDifference(result.outputs[output.name]!.data, native[output.name]!);
        expect({ model: model.name, output: output.name, withinTolerance: difference <= TOLERANCE[model.name]!, difference }).toMatchObject({
          withinTolerance: true,
        });
      }
    }
  });

  it('loads from the ESM entry by absolute path', () => {
    // Act
    const web = runOrtWeb({ models: ['iris-classifier'], numThreads: 1, esm: true });

    // Assess
    expect(web.commonResolved.startsWith(optDir)).toBe(true);
    expect(web.results['iris-classifier']!.outputs.label!.data).toEqual([0, 0, 1, 1, 2, 2]);
  });

  it('runs with two WASM threads (worker_threads from the layer\'s ort-wasm-simd-threaded.mjs)', async () => {
    // Act
    const web = runOrtWeb({ models: ['mlp-medium'], numThreads: 2 });

    // Assess
    const native = await runOrtNode('mlp-medium');
    expect(maxAbsDifference(web.results['mlp-medium']!.outputs.output!.data, native.output!)).toBeLessThanOrEqual(TOLERANCE['mlp-medium']!);
  });
});
