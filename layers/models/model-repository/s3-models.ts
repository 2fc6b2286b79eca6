import { copyFileSync, existsSync, linkSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { loadServingConfig } from '../../../lib/config/serving-config';
import type { ModelManifest } from '../../../lib/models/model-manifest-types';
import { parseS3Uri } from '../../../lib/models/s3-uri';
import { ModelRepositoryError } from './model-repository-error';

export interface MoveModelsToS3Options {
  /** Model names (every version of each) whose artifacts go to S3 instead of the models layer (`--s3-models`). */
  readonly names: readonly string[];
  /** `s3://bucket/` or `s3://bucket/prefix/` (`--s3-prefix`): each artifact's key is the prefix plus its manifest `file`. */
  readonly prefix: string;
  /** The full build's models folder, where the artifacts are. */
  readonly sourceModelsDir: string;
  /** Emptied, then filled with the artifacts to upload, laid out as their keys under the prefix. */
  readonly uploadDir: string;
  readonly log?: (line: string) => void;
}

export interface MovedModels {
  /** The manifest with `s3Prefix` on the moved models (the models layer leaves their files out). */
  readonly manifest: ModelManifest;
  /** The command that uploads `uploadDir` to the prefix. */
  readonly uploadCommand: string;
  readonly bytes: number;
}

/**
 * Marks the named models' artifacts as served from S3 (manifest `s3Prefix`: INIT downloads the
 * one it serves into /tmp, lib/models/s3-model-artifacts.ts) and puts their files (the ONNX
 * file, and a kernel plan's file where there is one), hard-linked, in `uploadDir` under their
 * keys below the prefix, to be uploaded with the printed `aws s3 cp`.
 * For models too large for a layer: the build's Lambda-size check names them.
 *
 * @example
 * moveModelsToS3(manifest, { names: ['text-detector'], prefix: 's3://my-models/v1/', sourceModelsDir: MODELS_DIR, uploadDir: S3_UPLOAD_DIR });
 * // text-detector@1: s3Prefix s3://my-models/v1/, served from s3://my-models/v1/text-detector/1/model.onnx
 */
export function moveModelsToS3(manifest: ModelManifest, options: MoveModelsToS3Options): MovedModels {
  const { names, sourceModelsDir, uploadDir, log = () => {} } = options;
  const prefix = options.prefix.endsWith('/') ? options.prefix : `${options.prefix}/`;
  const location = parseS3Uri(`${prefix}x`);
  if (!location || prefix.includes('//', 's3://'.length)) {
    throw new ModelRepositoryError(`--s3-prefix '${options.prefix}' is not s3://bucket/ or s3://bucket/prefix/`, { file: '--s3-prefix' });
  }
  const known = new Set(manifest.models.map((m) => m.name));
  const unknown = names.filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new ModelRepositoryError(`--s3-models names ${unknown.map((n) => `'${n}'`).join(', ')}, which the build does not have; it has ${[...known].join(', ')}`, { file: '--s3-models' });
  }
  rmSync(uploadDir, { recursive: true, force: true });
  const moved = new Set(names);
  let bytes = 0;
  const models = manifest.models.map((model) => {
    if (!moved.has(model.name)) return model;
    for (const file of [model.file, ...(model.kernel ? [model.kernel.file] : [])]) {
      const target = join(uploadDir, file);
      mkdirSync(dirname(target), { recursive: true });
      linkOrCopy(join(sourceModelsDir, file), target);
    }
    bytes += model.bytes + (model.kernel?.bytes ?? 0);
    log(`${model.name}@${model.version}: served from ${prefix}${model.file}${model.kernel ? ` (kernel plan: ${prefix}${model.kernel.file})` : ''} (${(model.bytes / 1e6).toFixed(2)} MB, downloaded into /tmp at INIT)`);
    return { ...model, s3Prefix: prefix };
  });
  const uploadCommand = `aws s3 cp ${relative(process.cwd(), uploadDir) || '.'} ${prefix} --recursive`;
  log(`upload the S3 models before deploying (${(bytes / 1e6).toFixed(2)} MB; the function's role needs s3:GetObject on arn:aws:s3:::${location.bucket}/${prefix.slice(`s3://${location.bucket}/`.length)}*):`);
  log(`  ${uploadCommand}`);
  return { manifest: { ...manifest, models }, uploadCommand, bytes };
}

function linkOrCopy(source: string, target: string): void {
  if (!existsSync(source) || !statSync(source).isFile()) throw new ModelRepositoryError(`model file '${source}' is missing; rebuild the layers`, { file: source });
  try {
    linkSync(source, target);
  } catch {
    copyFileSync(source, target);
  }
}

/** HOTPATH_S3_MODELS / HOTPATH_S3_PREFIX as the config module reads them: what `npm run package` (and build:layers without the flags) moves to S3. */
export function s3MovesFromEnvironment(env: NodeJS.ProcessEnv = process.env): { names: readonly string[]; prefix: string | undefined } {
  const { buildMoves, buildPrefix } = loadServingConfig({ HOTPATH_S3_MODELS: env.HOTPATH_S3_MODELS, HOTPATH_S3_PREFIX: env.HOTPATH_S3_PREFIX }).s3Models;
  return { names: buildMoves, prefix: buildPrefix };
}
