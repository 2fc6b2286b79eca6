import { WasmBackend } from '../../../lib/backends/wasm-backend';
import type { ServingConfig } from '../../../lib/config/serving-config';
import type { StructuredLogger } from '../../../lib/telemetry/structured-logger';
import { buildRepositoryModels, type RepositoryBuildResult } from './build-repository-models';
import { ModelRepositoryError } from './model-repository-error';
import { repositoryCacheFile } from './repository-cache-file';

/**
 * The long-running server's start with HOTPATH_MODEL_REPOSITORY: builds the repository into
 * the models dir (HOTPATH_MODELS_DIR) before the server reads its manifest, so a repository
 * edited on disk is served by a restart, no build step in between. Incremental: unchanged
 * models are neither re-read nor re-proven. A model that cannot be served is logged with its
 * file and fix and left out while the others serve; a repository with nothing servable stops
 * the start. Does nothing without HOTPATH_MODEL_REPOSITORY.
 *
 * @example
 * await buildRepositoryAtStart(loadServingConfig(process.env, overrides), logger);
 * const server = await startOipServer({ config: overrides, logger });
 */
export async function buildRepositoryAtStart(config: Pick<ServingConfig, 'modelRepository' | 'modelsDir' | 'ortWebDir' | 'wasmThreads'>, logger: Pick<StructuredLogger, 'info' | 'error'>): Promise<RepositoryBuildResult | undefined> {
  const repository = config.modelRepository;
  if (repository === undefined) return undefined;
  const started = performance.now();
  const result = await buildRepositoryModels({
    repository,
    modelsDir: config.modelsDir,
    cacheFile: repositoryCacheFile(config.modelsDir),
    // Set up as the server's own WASM backend will be: onnxruntime-web starts once per process, with the first caller's threads.
    backend: new WasmBackend({ ortWebDir: config.ortWebDir, numThreads: config.wasmThreads }),
    log: (line) => logger.info(`model repository: ${line}`),
  });
  for (const error of result.errors) logger.error(`model repository: refused: ${error.message}`, { file: error.file, ...(error.model ? { model: error.model } : {}) });
  logger.info('model repository built', {
    repository, modelsDir: config.modelsDir, models: result.manifest.models.map((m) => `${m.name}@${m.version}`), refused: result.errors.length,
    ms: Math.round(performance.now() - started),
  });
  if (result.manifest.models.length === 0) {
    throw new ModelRepositoryError(`model repository '${repository}' has no model that can be served${result.errors.length > 0 ? ` (${result.errors.length} refused, see above)` : '; put one at <repository>/<model>/1/model.onnx'}`, { file: repository });
  }
  return result;
}
