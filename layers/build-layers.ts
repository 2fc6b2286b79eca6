import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadServingConfig, type ServingConfig } from '../lib/config/serving-config';
import type { ModelManifest } from '../lib/models/model-manifest-types';
import { LAYER_BUILD_CACHE_DIR, MODELS_DIR, PRODUCTION_MODELS_LAYER_DIR, REPO_ROOT, RUNTIME_LAYER_DIR, RUNTIME_ORT_WEB_DIR } from './layer-paths';
import { buildModelsLayer } from './models/build-models-layer';
import { buildProductionModelsLayer, servedModelsFromEnvironment } from './models/build-production-models-layer';
import { MODEL_ARTIFACTS } from './models/default-models';
import { buildRepositoryModels } from './models/model-repository/build-repository-models';
import { assertModelsFitLambda, folderBytes } from './models/model-repository/lambda-size-check';
import { ModelRepositoryError } from './models/model-repository/model-repository-error';
import { repositoryCacheFile } from './models/model-repository/repository-cache-file';
import { buildRuntimeLayer } from './onnxruntime-web/build-runtime-layer';

export interface BuildLayersOptions {
  /** Rebuild every generated model even when its fingerprint is unchanged. */
  readonly force?: boolean;
  /** The models the deployed function serves (HOTPATH_MODELS); the production models layer holds only these. Default `default`. */
  readonly servedModels?: ServingConfig['models'];
  /**
   * Build the models layer from this Triton-style model repository (`<repo>/<model>/<version>/model.onnx`,
   * optional `config.pbtxt`) instead of the built-in models (`--repository`, HOTPATH_MODEL_REPOSITORY).
   */
  readonly repository?: string;
  readonly log?: (line: string) => void;
}

/**
 * Builds the Lambda layers: `layers/onnxruntime-web/build` (the runtime, mounted at
 * /opt/nodejs/node_modules), `layers/models/build` (every model, for local serving and the
 * benchmarks) and from it `layers/models/build-production` (only the served models, linked;
 * the layer the stack deploys at /opt/models). The models are the built-in ones, or those of
 * `repository`, each proven on onnxruntime-web. Incremental: a warm build with nothing changed
 * reads no model file. A repository model that cannot be served fails the build after the
 * others are built, each refusal naming its file and the fix.
 *
 * @example
 * await buildLayers({ log: console.log });
 * await buildLayers({ repository: 'my-models', log: console.log });
 */
export async function buildLayers(options: BuildLayersOptions = {}): Promise<void> {
  const log = options.log ?? (() => {});
  buildRuntimeLayer({ nodeModulesDir: join(REPO_ROOT, 'node_modules'), layerDir: RUNTIME_LAYER_DIR, log });
  let manifest: ModelManifest;
  let refusals: readonly ModelRepositoryError[] = [];
  if (options.repository !== undefined) {
    const built = await buildRepositoryModels({ repository: options.repository, modelsDir: MODELS_DIR, cacheFile: repositoryCacheFile(MODELS_DIR), ortWebDir: RUNTIME_ORT_WEB_DIR, log });
    manifest = built.manifest;
    refusals = built.errors;
  } else {
    manifest = (await buildModelsLayer({ specs: MODEL_ARTIFACTS, modelsDir: MODELS_DIR, cacheFile: join(LAYER_BUILD_CACHE_DIR, 'models.json'), force: options.force, log })).manifest;
  }
  const production = buildProductionModelsLayer({ manifest, sourceModelsDir: MODELS_DIR, layerDir: PRODUCTION_MODELS_LAYER_DIR, selection: options.servedModels ?? 'default', log });
  assertModelsFitLambda(production.manifest, { runtimeLayer: folderBytes(RUNTIME_LAYER_DIR), functionCode: folderBytes(join(REPO_ROOT, 'dist', 'functions')) });
  if (refusals.length > 0) {
    throw new Error(`${refusals.length} of the repository's models were refused (the others are built):\n${refusals.map((e) => `  - ${e.message}`).join('\n')}`);
  }
}

/**
 * `--models-dir DIR` (with a repository): only the models folder, written to DIR, for
 * `HOTPATH_MODELS_DIR=DIR npm start` or a container image; the Lambda layers are left alone.
 */
async function buildRepositoryModelsDir(repository: string, modelsDir: string, log: (line: string) => void): Promise<void> {
  const { manifest, errors } = await buildRepositoryModels({ repository, modelsDir, cacheFile: repositoryCacheFile(modelsDir), log });
  log(`${manifest.models.length} model versions in ${modelsDir}; serve them with HOTPATH_MODELS_DIR=${modelsDir} npm start`);
  if (errors.length > 0) throw new Error(`${errors.length} of the repository's models were refused (the others are built):\n${errors.map((e) => `  - ${e.message}`).join('\n')}`);
}

function readCommandLine(argv: readonly string[]): { force: boolean; repository: string | undefined; modelsDir: string | undefined } {
  const { values } = parseArgs({
    args: [...argv],
    options: { force: { type: 'boolean', default: false }, repository: { type: 'string' }, 'models-dir': { type: 'string' } },
    strict: true,
  });
  // The flag wins over the variable, read (and checked) by the config module like every HOTPATH_* variable.
  const repository = values.repository !== undefined ? resolve(values.repository) : loadServingConfig({ HOTPATH_MODEL_REPOSITORY: process.env.HOTPATH_MODEL_REPOSITORY }).modelRepository;
  const modelsDir = values['models-dir'] !== undefined ? resolve(values['models-dir']) : undefined;
  if (modelsDir !== undefined && repository === undefined) throw new Error('--models-dir needs --repository DIR (or HOTPATH_MODEL_REPOSITORY): it writes that repository\'s models there');
  return { force: values.force ?? false, repository, modelsDir };
}

if (require.main === module) {
  const started = performance.now();
  const log = (line: string): void => console.log(`[build:layers] ${line}`);
  Promise.resolve()
    .then(() => {
      const { force, repository, modelsDir } = readCommandLine(process.argv.slice(2));
      if (repository !== undefined && modelsDir !== undefined) return buildRepositoryModelsDir(repository, modelsDir, log);
      return buildLayers({ force, repository, servedModels: servedModelsFromEnvironment(), log });
    })
    .then(
      () => log(`done in ${(performance.now() - started).toFixed(0)} ms`),
      (error: unknown) => {
        console.error(`[build:layers] FAILED: ${error instanceof Error ? error.message : String(error)}`);
        process.exitCode = 1;
      },
    );
}
