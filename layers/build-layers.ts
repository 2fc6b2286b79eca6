import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadServingConfig, type ServingConfig } from '../lib/config/serving-config';
import type { ModelManifest } from '../lib/models/model-manifest-types';
import { LAYER_BUILD_CACHE_DIR, MODELS_DIR, PRODUCTION_MODELS_LAYER_DIR, REPO_ROOT, RUNTIME_LAYER_DIR, RUNTIME_ORT_WEB_DIR, S3_UPLOAD_DIR } from './layer-paths';
import { buildModelsLayer } from './models/build-models-layer';
import { buildProductionModelsLayer, servedModelsFromEnvironment } from './models/build-production-models-layer';
import { MODEL_ARTIFACTS } from './models/default-models';
import { buildRepositoryModels } from './models/model-repository/build-repository-models';
import { assertModelsFitLambda, folderBytes } from './models/model-repository/lambda-size-check';
import { ModelRepositoryError } from './models/model-repository/model-repository-error';
import { repositoryCacheFile } from './models/model-repository/repository-cache-file';
import { moveModelsToS3, s3MovesFromEnvironment } from './models/model-repository/s3-models';
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
  /**
   * Models (every version) whose artifacts are served from S3 instead of the models layer
   * (`--s3-models a,b`), with `s3Prefix` (`--s3-prefix s3://bucket/prefix/`): the deployed
   * manifest gets `s3Prefix`, the files go to layers/models/build/s3-upload for `aws s3 cp`.
   */
  readonly s3Models?: readonly string[];
  readonly s3Prefix?: string;
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
  rmSync(S3_UPLOAD_DIR, { recursive: true, force: true });
  if (options.s3Models !== undefined && options.s3Models.length > 0) {
    if (options.s3Prefix === undefined) throw new Error('--s3-models needs --s3-prefix s3://bucket/prefix/ (where the artifacts will be uploaded)');
    manifest = moveModelsToS3(manifest, { names: options.s3Models, prefix: options.s3Prefix, sourceModelsDir: MODELS_DIR, uploadDir: S3_UPLOAD_DIR, log }).manifest;
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

function readCommandLine(argv: readonly string[]): { force: boolean; repository: string | undefined; modelsDir: string | undefined; s3Models: string[] | undefined; s3Prefix: string | undefined } {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      force: { type: 'boolean', default: false }, repository: { type: 'string' }, 'models-dir': { type: 'string' }, 's3-models': { type: 'string' }, 's3-prefix': { type: 'string' },
    },
    strict: true,
  });
  // The flag wins over the variable, read (and checked) by the config module like every HOTPATH_* variable.
  const repository = values.repository !== undefined ? resolve(values.repository) : loadServingConfig({ HOTPATH_MODEL_REPOSITORY: process.env.HOTPATH_MODEL_REPOSITORY }).modelRepository;
  const modelsDir = values['models-dir'] !== undefined ? resolve(values['models-dir']) : undefined;
  if (modelsDir !== undefined && repository === undefined) throw new Error('--models-dir needs --repository DIR (or HOTPATH_MODEL_REPOSITORY): it writes that repository\'s models there');
  // Like --repository: the flags win over HOTPATH_S3_MODELS / HOTPATH_S3_PREFIX (which `npm run package` applies too).
  const flagged = values['s3-models']?.split(',').map((name) => name.trim()).filter((name) => name.length > 0);
  if ((flagged !== undefined) !== (values['s3-prefix'] !== undefined)) throw new Error('--s3-models NAMES and --s3-prefix s3://bucket/prefix/ go together');
  const fromEnv = flagged === undefined ? s3MovesFromEnvironment() : undefined;
  const s3Models = flagged ?? (fromEnv!.names.length > 0 ? [...fromEnv!.names] : undefined);
  if (s3Models !== undefined && modelsDir !== undefined) throw new Error('--s3-models is for the Lambda layers; --models-dir writes every model into the folder');
  return { force: values.force ?? false, repository, modelsDir, s3Models, s3Prefix: values['s3-prefix'] ?? fromEnv?.prefix };
}

if (require.main === module) {
  const started = performance.now();
  const log = (line: string): void => console.log(`[build:layers] ${line}`);
  Promise.resolve()
    .then(() => {
      const { force, repository, modelsDir, s3Models, s3Prefix } = readCommandLine(process.argv.slice(2));
      if (repository !== undefined && modelsDir !== undefined) return buildRepositoryModelsDir(repository, modelsDir, log);
      return buildLayers({ force, repository, servedModels: servedModelsFromEnvironment(), s3Models, s3Prefix, log });
    })
    .then(
      () => log(`done in ${(performance.now() - started).toFixed(0)} ms`),
      (error: unknown) => {
        console.error(`[build:layers] FAILED: ${error instanceof Error ? error.message : String(error)}`);
        process.exitCode = 1;
      },
    );
}
