import { join } from 'node:path';
import { LAYER_BUILD_CACHE_DIR, MODELS_DIR, REPO_ROOT, RUNTIME_LAYER_DIR } from './layer-paths';
import { buildModelsLayer } from './models/build-models-layer';
import { MODEL_ARTIFACTS } from './models/default-models';
import { buildRuntimeLayer } from './onnxruntime-web/build-runtime-layer';

export interface BuildLayersOptions {
  /** Rebuild every generated model even when its fingerprint is unchanged. */
  readonly force?: boolean;
  readonly log?: (line: string) => void;
}

/**
 * Builds both Lambda layers: `layers/onnxruntime-web/build` (the runtime, mounted at
 * /opt/nodejs/node_modules) and `layers/models/build` (manifest + models, mounted at
 * /opt/models). Incremental: a warm build with nothing changed reads no model file.
 *
 * @example
 * await buildLayers({ log: console.log });
 */
export async function buildLayers(options: BuildLayersOptions = {}): Promise<void> {
  const log = options.log ?? (() => {});
  buildRuntimeLayer({ nodeModulesDir: join(REPO_ROOT, 'node_modules'), layerDir: RUNTIME_LAYER_DIR, log });
  await buildModelsLayer({
    specs: MODEL_ARTIFACTS,
    modelsDir: MODELS_DIR,
    cacheFile: join(LAYER_BUILD_CACHE_DIR, 'models.json'),
    force: options.force,
    log,
  });
}

if (require.main === module) {
  const started = performance.now();
  buildLayers({ force: process.argv.includes('--force'), log: (line) => console.log(`[build:layers] ${line}`) }).then(
    () => console.log(`[build:layers] done in ${(performance.now() - started).toFixed(0)} ms`),
    (error: unknown) => {
      console.error(`[build:layers] FAILED: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    },
  );
}
