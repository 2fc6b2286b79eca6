import { join } from 'node:path';
import type { ServingConfig } from '../lib/config/serving-config';
import { LAYER_BUILD_CACHE_DIR, MODELS_DIR, PRODUCTION_MODELS_LAYER_DIR, REPO_ROOT, RUNTIME_LAYER_DIR } from './layer-paths';
import { buildModelsLayer } from './models/build-models-layer';
import { buildProductionModelsLayer, servedModelsFromEnvironment } from './models/build-production-models-layer';
import { MODEL_ARTIFACTS } from './models/default-models';
import { buildRuntimeLayer } from './onnxruntime-web/build-runtime-layer';

export interface BuildLayersOptions {
  /** Rebuild every generated model even when its fingerprint is unchanged. */
  readonly force?: boolean;
  /** The models the deployed function serves (HOTPATH_MODELS); the production models layer holds only these. Default `default`. */
  readonly servedModels?: ServingConfig['models'];
  readonly log?: (line: string) => void;
}

/**
 * Builds the Lambda layers: `layers/onnxruntime-web/build` (the runtime, mounted at
 * /opt/nodejs/node_modules), `layers/models/build` (every model, for local serving and the
 * benchmarks) and from it `layers/models/build-production` (only the served models, linked;
 * the layer the stack deploys at /opt/models). Incremental: a warm build with nothing changed
 * reads no model file.
 *
 * @example
 * await buildLayers({ log: console.log });
 */
export async function buildLayers(options: BuildLayersOptions = {}): Promise<void> {
  const log = options.log ?? (() => {});
  buildRuntimeLayer({ nodeModulesDir: join(REPO_ROOT, 'node_modules'), layerDir: RUNTIME_LAYER_DIR, log });
  const { manifest } = await buildModelsLayer({
    specs: MODEL_ARTIFACTS,
    modelsDir: MODELS_DIR,
    cacheFile: join(LAYER_BUILD_CACHE_DIR, 'models.json'),
    force: options.force,
    log,
  });
  buildProductionModelsLayer({ manifest, sourceModelsDir: MODELS_DIR, layerDir: PRODUCTION_MODELS_LAYER_DIR, selection: options.servedModels ?? 'default', log });
}

if (require.main === module) {
  const started = performance.now();
  const log = (line: string): void => console.log(`[build:layers] ${line}`);
  Promise.resolve()
    .then(() => buildLayers({ force: process.argv.includes('--force'), servedModels: servedModelsFromEnvironment(), log }))
    .then(
      () => log(`done in ${(performance.now() - started).toFixed(0)} ms`),
      (error: unknown) => {
        console.error(`[build:layers] FAILED: ${error instanceof Error ? error.message : String(error)}`);
        process.exitCode = 1;
      },
    );
}
