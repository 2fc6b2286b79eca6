import type { ServingConfig } from '../config/serving-config';
import type { InferenceBackend } from '../backends/inference-backend';
import { hasKernelExecutor, KernelBackend } from '../backends/kernel-backend';
import { NativeBackend } from '../backends/native-backend';
import { setKernelBuildDir, setKernelSimdLevel } from '../../kernels/runtime/load-kernel-module';
import { WasmBackend } from '../backends/wasm-backend';
import { readModelManifest } from '../models/model-manifest';
import { loadModelRegistry, type LoadModelsOptions, type ModelRegistryLogger } from '../models/model-loader';
import type { ModelRegistry } from '../models/model-registry';
import type { ModelRepositoryControl, RuntimeModels } from '../models/model-repository-control';
import { replaceModelVersions } from '../models/model-registry-swap';
import { createS3ModelArtifacts } from '../models/s3-model-artifacts';
import { SessionRetirement } from '../models/session-retirement';
import { localRouter, type InferenceRouter } from './inference-router';
import { createRemoteRoutingRouter } from './remote-routing-router';
import { isKernelServed, selectModelBackends } from './model-backend-selection';
import type { ModelManifest } from '../models/model-manifest-types';

export const SERVER_NAME = 'hotpath';
export const SERVER_VERSION = '0.1.0';
/** Open Inference Protocol extensions this server implements (`GET /v2`). */
export const SERVER_EXTENSIONS = ['binary_tensor_data', 'model_repository_index'] as const;
/** Listed beside SERVER_EXTENSIONS by a runtime that serves Triton's model repository extension (`runtime.repository`). */
export const MODEL_REPOSITORY_EXTENSION = 'model_repository';

/** Everything a request needs, created once per instance during INIT. */
export interface ServingRuntime {
  readonly config: ServingConfig;
  /** The models; under HOTPATH_INIT=lazy it lists them as not ready until `ensureLoaded` has run. */
  readonly registry: ModelRegistry;
  readonly backends: readonly InferenceBackend[];
  /**
   * Picks and runs the route of each request: the local session, or with HOTPATH_REMOTE_URL the
   * remote route for batches above each model's threshold (RemoteRoutingRouter), prepared
   * (thresholds measured) as soon as the models are loaded.
   */
  readonly router: InferenceRouter;
  /** ms from the start of runtime creation to the end of INIT's work (all models loaded and warmed when eager). */
  readonly initMs: number;
  /**
   * Resolves once the selected models are loaded: at once under HOTPATH_INIT=eager; under
   * lazy the first call loads them (concurrent callers share that load). Handlers await it
   * before routing.
   */
  ensureLoaded(): Promise<void>;
  /**
   * Triton's model repository extension (index, load, unload), where the runtime was created
   * with one: the OIP server with HOTPATH_MODEL_REPOSITORY. Absent on Lambda.
   */
  readonly repository?: ModelRepositoryControl;
  /**
   * Marks one request in flight until the returned function is called (the OIP server's door,
   * before routing): sessions a repository load or unload replaces are disposed only once every
   * request begun before the swap has finished. A no-op without a repository.
   */
  beginRequest(): () => void;
}

/** Creates a runtime's model repository control from the runtime's models (lib/server/oip-server.ts). */
export type ModelRepositoryControlFactory = (models: RuntimeModels) => ModelRepositoryControl;

const NOTHING_TO_FINISH = () => {};

/** Backends that replace or add to the built-in ones (wasm or native for ONNX, kernel), keyed by the manifest platform they serve. */
export type ExtraBackends = Readonly<Record<string, InferenceBackend>>;

/**
 * Creates the backends, loads and verifies the selected models, and warms them up. Call it
 * at module scope (top-level await) so all of this happens in Lambda's INIT phase; with
 * HOTPATH_INIT=lazy it only reads the manifest and leaves the loading to the first request.
 */
export async function createServingRuntime(
  config: ServingConfig, logger: ModelRegistryLogger, extra: ExtraBackends = {}, repository?: ModelRepositoryControlFactory,
): Promise<ServingRuntime> {
  const started = performance.now();
  // Both onnxruntime backends load their runtime at the first model they serve (WasmBackend.init), so an
  // instance whose selected models all run on kernel plans never loads or starts onnxruntime-web.
  const onnxBackend: InferenceBackend = config.onnxBackend === 'native'
    ? new NativeBackend({ intraOpThreads: config.wasmThreads, providers: config.providers, tolerance: config.providerTolerance, logger })
    : new WasmBackend({ ortWebDir: config.ortWebDir, numThreads: config.wasmThreads });
  setKernelBuildDir(config.kernelsDir);
  setKernelSimdLevel(config.kernelSimd);
  const kernelBackend = new KernelBackend(undefined, { threads: config.wasmThreads });
  const byPlatform = new Map<string, InferenceBackend>();
  for (const backend of [onnxBackend, kernelBackend]) {
    for (const platform of backend.platforms) byPlatform.set(platform, backend);
  }
  for (const [platform, backend] of Object.entries(extra)) byPlatform.set(platform, backend);
  const onnxServing = byPlatform.get('onnx_onnxv1')!;
  const onnxRuntime = onnxServing instanceof WasmBackend ? 'onnxruntime-web' : onnxServing instanceof NativeBackend ? 'onnxruntime-node' : onnxServing.route;
  // Per ONNX model: its kernel plan where the build proved one (and HOTPATH_WASM_MODELS does not name it), else the onnxruntime.
  const served = (read: ModelManifest): ModelManifest => selectModelBackends(read, { onnxRuntime, wasmModels: config.wasmModels, hasExecutor: hasKernelExecutor });
  const manifest = served(await readModelManifest(config.modelsDir));
  const options: LoadModelsOptions = {
    modelsDir: config.modelsDir,
    manifest,
    selection: config.models,
    backendFor: (platform, model) => (isKernelServed(model) ? kernelBackend : byPlatform.get(platform)),
    warmup: config.warmup,
    logger,
    s3Artifacts: createS3ModelArtifacts(config.s3Models),
  };
  const lazy = config.initStrategy === 'lazy';
  const backends = [...new Set(byPlatform.values())];
  const startupDone = () => {
    for (const backend of backends) backend.startupDone?.();
  };
  const remoteRouter = config.remote === undefined ? undefined : createRemoteRoutingRouter(config.remote, logger, config.routeCost);
  let registry = await loadModelRegistry({ ...options, deferred: lazy });
  let loading: Promise<void> | undefined;
  if (!lazy) {
    startupDone();
    await remoteRouter?.prepare(registry);
    loading = Promise.resolve();
  }
  const retirement = new SessionRetirement(logger);
  const models: RuntimeModels = {
    get registry() {
      return registry;
    },
    load: (loadManifest, modelsDir) => loadModelRegistry({ ...options, manifest: served(loadManifest), modelsDir, selection: '*' }),
    async replace(name, entries, absentReason) {
      const next = replaceModelVersions(registry, name, entries, absentReason);
      registry = next.registry;
      void retirement.retire(next.retired);
      // The remote route's thresholds, measured for the new sessions; the swap stands whatever the remote says.
      await remoteRouter?.prepare(next.registry).catch((error: unknown) => logger.error(`remote route: thresholds not measured after '${name}' was replaced`, { error }));
    },
    disposeRetired: () => retirement.disposeAll(),
  };
  const initMs = performance.now() - started;
  return {
    config,
    get registry() {
      return registry;
    },
    backends,
    router: remoteRouter ?? localRouter,
    initMs,
    ensureLoaded: function ensureModelsLoaded() {
      loading ??= loadModelRegistry(options).then(async (loaded) => {
        registry = loaded;
        startupDone();
        await remoteRouter?.prepare(loaded);
      });
      return loading;
    },
    ...(repository ? { repository: repository(models) } : {}),
    beginRequest: repository ? () => retirement.begin() : () => NOTHING_TO_FINISH,
  };
}
