import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { kernelPlanSuffix, registerKernelExecutor, type KernelModelKind } from '../../../lib/backends/kernel-backend';
import { WasmBackend } from '../../../lib/backends/wasm-backend';
import { loadServingConfig } from '../../../lib/config/serving-config';
import type { ManifestModel, ModelManifest } from '../../../lib/models/model-manifest-types';
import { createServingRuntime, type ServingRuntime } from '../../../lib/serving/serving-runtime';

const BUILT_MODELS = resolve('layers/models/build/models');
const quiet = { info() {}, error() {} };

/** A test executor: answers iris's signature with the plan file's bytes as the probabilities of every row, label 2. */
const constantExecutor: KernelModelKind = {
  kind: 'test-constant',
  fileSuffix: kernelPlanSuffix('test-constant'),
  load(bytes, model) {
    const probabilities = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + 12));
    return {
      inputs: model.inputs,
      outputs: model.outputs,
      run(inputs) {
        const rows = inputs[0]!.shape[0]!;
        const p = new Float32Array(rows * 3);
        for (let r = 0; r < rows; r++) p.set(probabilities, r * 3);
        return [
          { name: 'probabilities', datatype: 'FP32', shape: [rows, 3], data: p },
          { name: 'label', datatype: 'INT64', shape: [rows], data: new BigInt64Array(rows).fill(2n) },
        ];
      },
      dispose() {},
    };
  },
};

describe('serving-runtime kernel plans', () => {
  let modelsDir: string;
  let runtime: ServingRuntime | undefined;

  beforeAll(() => {
    registerKernelExecutor(constantExecutor);
    const built = JSON.parse(readFileSync(join(BUILT_MODELS, 'manifest.json'), 'utf8')) as ModelManifest;
    const iris = built.models.find((m) => m.name === 'iris-classifier')!;
    modelsDir = mkdtempSync(join(tmpdir(), 'hotpath-kernel-plan-'));
    const plan = new Uint8Array(new Float32Array([0.25, 0.25, 0.5]).buffer);
    const planFile = `iris-classifier/1/model${kernelPlanSuffix('test-constant')}`;
    mkdirSync(dirname(join(modelsDir, planFile)), { recursive: true });
    writeFileSync(join(modelsDir, planFile), plan);
    copyFileSync(join(BUILT_MODELS, iris.file), join(modelsDir, iris.file));
    const { kernel: _builtPlan, kernelRefused: _refused, ...onnx } = iris;
    const withPlan: ManifestModel = {
      ...onnx,
      kernel: { executor: 'test-constant', file: planFile, sha256: createHash('sha256').update(plan).digest('hex'), bytes: plan.byteLength, reason: 'test plan' },
    };
    const unknownExecutor: ManifestModel = { ...onnx, name: 'iris-elsewhere', kernel: { ...withPlan.kernel!, executor: 'not-registered', file: 'x/1/model.not-registered.bin' } };
    mkdirSync(join(modelsDir, 'iris-elsewhere/1'), { recursive: true });
    copyFileSync(join(BUILT_MODELS, iris.file), join(modelsDir, 'iris-elsewhere/1/model.onnx'));
    const manifest: ModelManifest = { schemaVersion: 1, models: [withPlan, { ...unknownExecutor, file: 'iris-elsewhere/1/model.onnx' }] };
    writeFileSync(join(modelsDir, 'manifest.json'), JSON.stringify(manifest));
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await runtime?.registry.dispose();
    runtime = undefined;
  });

  afterAll(() => rmSync(modelsDir, { recursive: true, force: true }));

  async function start(env: Record<string, string>, models: readonly string[]): Promise<ServingRuntime> {
    runtime = await createServingRuntime(loadServingConfig(env, { modelsDir, models, wasmThreads: 1 }), quiet);
    return runtime;
  }

  it('serves a model with a plan on its executor and never initialises onnxruntime-web', async () => {
    // Prepare
    const init = jest.spyOn(WasmBackend.prototype, 'init');

    // Act
    const served = await start({}, ['iris-classifier']);
    const entry = served.registry.findReady('iris-classifier');
    const [probabilities, label] = await entry.state.session.run([{ name: 'input', datatype: 'FP32', shape: [2, 4], data: new Float32Array(8) }]);

    // Assess
    expect(entry.state.backend.route).toBe('local-kernel');
    expect(entry.manifest.parameters).toMatchObject({ backend: 'kernel:test-constant', backend_reason: 'test plan' });
    expect(Array.from(probabilities!.data as Float32Array)).toEqual([0.25, 0.25, 0.5, 0.25, 0.25, 0.5]);
    expect(label).toMatchObject({ datatype: 'INT64', shape: [2] });
    expect(init).not.toHaveBeenCalled();
  });

  it('serves it on onnxruntime-web when HOTPATH_WASM_MODELS names it, with the same signature', async () => {
    // Act
    const served = await start({ HOTPATH_WASM_MODELS: 'iris-classifier' }, ['iris-classifier']);
    const entry = served.registry.findReady('iris-classifier');
    const [probabilities, label] = await entry.state.session.run([{ name: 'input', datatype: 'FP32', shape: [2, 4], data: new Float32Array([5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3]) }]);

    // Assess
    expect(entry.state.backend.route).toBe('local-wasm');
    expect(entry.manifest.parameters).toMatchObject({ backend: 'onnxruntime-web', backend_reason: 'HOTPATH_WASM_MODELS names it (its kernel plan: test plan)' });
    expect({ p: probabilities!.datatype, shape: probabilities!.shape, label: label!.datatype, labels: Array.from(label!.data as BigInt64Array) }).toEqual({ p: 'FP32', shape: [2, 3], label: 'INT64', labels: [0n, 2n] });
  });

  it('serves a plan whose executor is not registered on onnxruntime-web, saying so', async () => {
    // Act
    const served = await start({}, ['iris-elsewhere']);
    const entry = served.registry.findReady('iris-elsewhere');

    // Assess
    expect(entry.state.backend.route).toBe('local-wasm');
    expect(entry.manifest.parameters!.backend_reason).toBe("the manifest's kernel executor 'not-registered' is not in this build");
  });
});
