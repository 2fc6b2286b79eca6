import { join, resolve } from 'node:path';

/** The repository root (this file lives in `layers/`). */
export const REPO_ROOT = resolve(__dirname, '..');

/** Every model the manifest lists, built here for local serving and the benchmarks (not deployed). */
export const MODELS_LAYER_DIR = join(REPO_ROOT, 'layers', 'models', 'build');
/** `manifest.json` and `<name>/<version>/<file>` live here (HOTPATH_MODELS_DIR's local default). */
export const MODELS_DIR = join(MODELS_LAYER_DIR, 'models');

/**
 * What the deployed models layer zips (serverless.yml `layers.models`): only the models the
 * function serves (HOTPATH_MODELS when the layers were built), linked from MODELS_DIR, and a
 * manifest listing exactly those. Lambda mounts it at /opt, so `models/` becomes `/opt/models`.
 */
export const PRODUCTION_MODELS_LAYER_DIR = join(REPO_ROOT, 'layers', 'models', 'build-production');
export const PRODUCTION_MODELS_DIR = join(PRODUCTION_MODELS_LAYER_DIR, 'models');
/** `build:layers --s3-models`: the artifacts served from S3 instead of the layer, laid out as their keys, for `aws s3 cp --recursive`. */
export const S3_UPLOAD_DIR = join(MODELS_LAYER_DIR, 's3-upload');

/** What the runtime layer zips: `nodejs/node_modules/` is on Lambda's NODE_PATH as `/opt/nodejs/node_modules`. */
export const RUNTIME_LAYER_DIR = join(REPO_ROOT, 'layers', 'onnxruntime-web', 'build');
/** The onnxruntime-web package folder inside the runtime layer (HOTPATH_ORT_WEB_DIR's local default). */
export const RUNTIME_ORT_WEB_DIR = join(RUNTIME_LAYER_DIR, 'nodejs', 'node_modules', 'onnxruntime-web');

/** Build bookkeeping that must not ship in a layer (fingerprints of generated artifacts). */
export const LAYER_BUILD_CACHE_DIR = join(REPO_ROOT, 'layers', '.build-cache');
