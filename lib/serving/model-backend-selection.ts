import type { ManifestModel, ModelManifest } from '../models/model-manifest-types';

/** What decides, per ONNX model, whether our kernels or an onnxruntime serves it. */
export interface BackendSelectionOptions {
  /**
   * The onnxruntime this instance runs ONNX models on when no kernel does: `onnxruntime-web`
   * (HOTPATH_BACKEND=wasm, the only case a kernel plan is used), `onnxruntime-node` (native), or
   * the name of a backend a caller put in its place (the GPU task's batched native backend).
   */
  readonly onnxRuntime: string;
  /** HOTPATH_WASM_MODELS: models kept on onnxruntime-web although they have a kernel plan. */
  readonly wasmModels: '*' | readonly string[];
  /** Whether the kernel backend has an executor of this name (lib/backends/kernel-backend.ts). */
  readonly hasExecutor: (executor: string) => boolean;
}

/** Keys the selection adds to an ONNX model's `parameters`, shown in model metadata as `parameters.model_parameters`. */
export const BACKEND_PARAMETER = 'backend';
export const BACKEND_REASON_PARAMETER = 'backend_reason';

/**
 * The manifest as this instance serves it. An ONNX model with a kernel plan (manifest `kernel`)
 * whose executor is registered is rewritten to its kernel artifact (`file`, `sha256`, `bytes` of
 * `kernel`, so the loader verifies and reads that file); every ONNX model gets `parameters.backend`
 * (`kernel:<executor>`, `onnxruntime-web`, ...) and `parameters.backend_reason`. Other platforms pass
 * unchanged. Pair with isKernelServed to pick the backend of each entry.
 *
 * @example
 * const served = selectModelBackends(manifest, { onnxRuntime: 'onnxruntime-web', wasmModels: config.wasmModels, hasExecutor: hasKernelExecutor });
 * const backendFor = (platform, model) => (isKernelServed(model) ? kernel : byPlatform.get(platform));
 */
export function selectModelBackends(manifest: ModelManifest, options: BackendSelectionOptions): ModelManifest {
  return { ...manifest, models: manifest.models.map((model) => selectModelBackend(model, options)) };
}

/** True for an entry selectModelBackends pointed at its kernel artifact. */
export function isKernelServed(model: ManifestModel): boolean {
  return model.kernel !== undefined && model.file === model.kernel.file;
}

/** Whether HOTPATH_WASM_MODELS names the model. */
function forcedToWasm(name: string, wasmModels: BackendSelectionOptions['wasmModels']): boolean {
  return wasmModels === '*' || wasmModels.includes(name);
}

function selectModelBackend(model: ManifestModel, options: BackendSelectionOptions): ManifestModel {
  if (model.platform !== 'onnx_onnxv1') return model;
  const { kernel } = model;
  const onnx = (reason: string): ManifestModel => withBackend(model, options.onnxRuntime, reason);
  if (options.onnxRuntime !== 'onnxruntime-web') return onnx(`this instance runs every ONNX model on ${options.onnxRuntime}; kernel plans serve with HOTPATH_BACKEND=wasm`);
  if (!kernel) return onnx(model.kernelRefused ? `no kernel plan: ${model.kernelRefused}` : 'no kernel plan in the manifest');
  if (forcedToWasm(model.name, options.wasmModels)) return onnx(`HOTPATH_WASM_MODELS names it (its kernel plan: ${kernel.reason})`);
  if (!options.hasExecutor(kernel.executor)) return onnx(`the manifest's kernel executor '${kernel.executor}' is not in this build`);
  const { optimized: _graphLevel, ...rest } = model;
  return withBackend({ ...rest, file: kernel.file, sha256: kernel.sha256, bytes: kernel.bytes }, `kernel:${kernel.executor}`, kernel.reason);
}

function withBackend(model: ManifestModel, backend: string, reason: string): ManifestModel {
  return { ...model, parameters: { ...model.parameters, [BACKEND_PARAMETER]: backend, [BACKEND_REASON_PARAMETER]: reason } };
}
