import type { ServingConfig } from '../config/serving-config';
import type { InferenceBackend } from '../backends/inference-backend';
import { NativeBackend } from '../backends/native-backend';
import { WasmBackend } from '../backends/wasm-backend';
import { readModelManifest } from '../models/model-manifest';
import { loadModelRegistry, type ModelRegistry, type ModelRegistryLogger } from '../models/model-registry';

export const SERVER_NAME = 'hotpath';
export const SERVER_VERSION = '0.1.0';
/** Open Inference Protocol extensions this server implements (`GET /v2`). */
export const SERVER_EXTENSIONS = ['binary_tensor_data', 'model_repository_index'] as const;

/** Everything a request needs, created once per instance during INIT. */
export interface ServingRuntime {
  readonly config: ServingConfig;
  readonly registry: ModelRegistry;
  readonly backends: readonly InferenceBackend[];
  /** ms from the start of runtime creation to all models loaded and warmed. */
  readonly initMs: number;
}

/** Extra backends (e.g. the kernel backend) keyed by the manifest platform they serve. */
export type ExtraBackends = Readonly<Record<string, InferenceBackend>>;

/**
 * Creates the backends, loads and verifies the selected models, and warms them up. Call it
 * at module scope (top-level await) so all of this happens in Lambda's INIT phase.
 */
export async function createServingRuntime(config: ServingConfig, logger: ModelRegistryLogger, extra: ExtraBackends = {}): Promise<ServingRuntime> {
  const started = performance.now();
  const onnxBackend: InferenceBackend = config.onnxBackend === 'native'
    ? new NativeBackend({ intraOpThreads: config.wasmThreads })
    : new WasmBackend({ ortWebDir: config.ortWebDir, numThreads: config.wasmThreads });
  const byPlatform = new Map<string, InferenceBackend>(Object.entries(extra));
  for (const platform of onnxBackend.platforms) byPlatform.set(platform, onnxBackend);
  const manifest = await readModelManifest(config.modelsDir);
  const registry = await loadModelRegistry({
    modelsDir: config.modelsDir,
    manifest,
    selection: config.models,
    backendFor: (platform) => byPlatform.get(platform),
    warmup: config.warmup,
    logger,
  });
  return { config, registry, backends: [...new Set(byPlatform.values())], initMs: performance.now() - started };
}
