import { parseModelManifest } from '../../../lib/models/model-manifest';
import type { ManifestModel, ModelManifest } from '../../../lib/models/model-manifest-types';
import { isKernelServed, selectModelBackends, type BackendSelectionOptions } from '../../../lib/serving/model-backend-selection';

const SHA_ONNX = 'a'.repeat(64);
const SHA_PLAN = 'b'.repeat(64);

function onnxModel(name: string, extra: Partial<ManifestModel> = {}): ManifestModel {
  return {
    name, version: '1', platform: 'onnx_onnxv1', file: `${name}/1/model.onnx`, sha256: SHA_ONNX, bytes: 100, optimized: 'extended',
    inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }], outputs: [{ name: 'output', datatype: 'FP32', shape: [-1, 3] }],
    maxBatchSize: 64, serveByDefault: true, ...extra,
  };
}

const PLAN = { executor: 'feed-forward', file: 'm/1/model.feed-forward.bin', sha256: SHA_PLAN, bytes: 40, reason: 'parity: max relative error 1.2e-7' };
const MANIFEST: ModelManifest = {
  schemaVersion: 1,
  models: [
    onnxModel('m', { kernel: PLAN }),
    onnxModel('plain', { kernelRefused: "operator 'Conv' (node conv1) is not one the feed-forward executor runs" }),
    { ...onnxModel('k'), platform: 'hotpath_kernel', file: 'k/1/k.centroids.npy', optimized: undefined },
  ],
};
const WEB: BackendSelectionOptions = { onnxRuntime: 'onnxruntime-web', wasmModels: [], hasExecutor: (name) => name === 'feed-forward' };

describe('selectModelBackends', () => {
  it('points a model with a kernel plan at its kernel artifact when its executor is registered', () => {
    // Act
    const served = selectModelBackends(MANIFEST, WEB).models[0]!;

    // Assess
    expect(served).toMatchObject({ platform: 'onnx_onnxv1', file: PLAN.file, sha256: SHA_PLAN, bytes: 40, parameters: { backend: 'kernel:feed-forward', backend_reason: PLAN.reason } });
    expect(served.optimized).toBeUndefined();
    expect(isKernelServed(served)).toBe(true);
  });

  it('keeps a model on onnxruntime-web when HOTPATH_WASM_MODELS names it or is *', () => {
    // Act
    const named = selectModelBackends(MANIFEST, { ...WEB, wasmModels: ['m'] }).models[0]!;
    const all = selectModelBackends(MANIFEST, { ...WEB, wasmModels: '*' }).models[0]!;

    // Assess
    for (const served of [named, all]) {
      expect(served).toMatchObject({ file: 'm/1/model.onnx', sha256: SHA_ONNX, optimized: 'extended', parameters: { backend: 'onnxruntime-web' } });
      expect(served.parameters!.backend_reason).toBe(`HOTPATH_WASM_MODELS names it (its kernel plan: ${PLAN.reason})`);
      expect(isKernelServed(served)).toBe(false);
    }
  });

  it('says why onnxruntime-web serves when the plan is missing, refused, or its executor is not registered', () => {
    // Act
    const unknownExecutor = selectModelBackends(MANIFEST, { ...WEB, hasExecutor: () => false }).models[0]!;
    const refused = selectModelBackends(MANIFEST, WEB).models[1]!;
    const none = selectModelBackends({ schemaVersion: 1, models: [onnxModel('bare')] }, WEB).models[0]!;

    // Assess
    expect(unknownExecutor.parameters).toEqual({ backend: 'onnxruntime-web', backend_reason: "the manifest's kernel executor 'feed-forward' is not in this build" });
    expect(refused.parameters!.backend_reason).toBe("no kernel plan: operator 'Conv' (node conv1) is not one the feed-forward executor runs");
    expect(none.parameters!.backend_reason).toBe('no kernel plan in the manifest');
    expect([unknownExecutor, refused, none].some(isKernelServed)).toBe(false);
  });

  it('uses no kernel plan when the instance runs ONNX models on onnxruntime-node, and leaves other platforms alone', () => {
    // Act
    const [m, , k] = selectModelBackends(MANIFEST, { ...WEB, onnxRuntime: 'onnxruntime-node' }).models;

    // Assess
    expect(m).toMatchObject({ file: 'm/1/model.onnx', parameters: { backend: 'onnxruntime-node' } });
    expect(k).toBe(MANIFEST.models[2]);
  });

  it('keeps the model parameters a repository config gave', () => {
    // Prepare
    const manifest: ModelManifest = { schemaVersion: 1, models: [onnxModel('m', { kernel: PLAN, parameters: { owner: 'team-a' } })] };

    // Act
    const served = selectModelBackends(manifest, WEB).models[0]!;

    // Assess
    expect(served.parameters).toEqual({ owner: 'team-a', backend: 'kernel:feed-forward', backend_reason: PLAN.reason });
  });
});

describe('manifest kernel plan', () => {
  const parse = (model: unknown) => parseModelManifest({ schemaVersion: 1, models: [model] });

  it('accepts a plan on an ONNX model whose file is named after its executor', () => {
    expect(parse(onnxModel('m', { kernel: PLAN })).models[0]!.kernel).toEqual(PLAN);
  });

  it.each([
    [{ ...PLAN, file: 'm/1/model.bin' }, '"kernel.file" must be a path ending in ".feed-forward.bin"'],
    [{ ...PLAN, executor: 'Feed Forward' }, '"kernel.executor" must be a lower-case name'],
    [{ ...PLAN, sha256: 'xyz' }, '"kernel.sha256" must be 64 lower-case hex digits'],
    [{ ...PLAN, bytes: -1 }, '"kernel.bytes" must be a non-negative integer'],
    [{ ...PLAN, reason: '' }, '"kernel.reason" must be a non-empty string'],
    ['feed-forward', '"kernel" must be an object'],
  ])('refuses a malformed plan %#', (kernel, message) => {
    expect(() => parse(onnxModel('m', { kernel: kernel as never }))).toThrow(message);
  });

  it('refuses kernelRefused beside a plan, and a plan on another platform is left unused', () => {
    const other = parse({ ...onnxModel('k', { kernel: PLAN }), platform: 'hotpath_kernel' });
    expect(selectModelBackends(other, WEB).models[0]).toBe(other.models[0]);
    expect(() => parse(onnxModel('m', { kernel: PLAN, kernelRefused: 'no' }))).toThrow('"kernelRefused" must be a string, and only on a model without "kernel"');
  });
});
