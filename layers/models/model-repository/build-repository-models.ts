import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import type { InferenceBackend } from '../../../lib/backends/inference-backend';
import { WasmBackend } from '../../../lib/backends/wasm-backend';
import { parseModelManifest } from '../../../lib/models/model-manifest';
import type { ManifestModel, ModelManifest } from '../../../lib/models/model-manifest-types';
import { writeIfChanged } from '../build-models-layer';
import { attachKernelPlans } from '../kernel-plans';
import type { OnnxSignature } from '../onnx-signature-reader';
import { completeModelConfig } from './complete-model-config';
import { ModelRepositoryError } from './model-repository-error';
import { DEFAULT_MODEL_FILENAME, listModelFolders, selectModelVersions, type RepositoryModelFolder, type RepositoryModelVersion } from './model-repository-layout';
import { inspectOnnxModel } from './onnx-model-inspection';
import { onnxruntimeWebVersion, proveOnOnnxruntimeWeb } from './prove-on-onnxruntime-web';
import { readTritonModelConfig, type TritonModelConfig } from './triton-model-config';

export interface BuildRepositoryModelsOptions {
  /** The Triton-style repository: `<repository>/<model>/[config.pbtxt]` and `<model>/<version>/model.onnx`. */
  readonly repository: string;
  /** Gets `manifest.json` and `<model>/<version>/<file>` (a models layer's `models/`, or HOTPATH_MODELS_DIR). */
  readonly modelsDir: string;
  /** What a warm build remembers (hashes, signatures, proofs), kept outside the models dir. */
  readonly cacheFile: string;
  /** The runtime the models are proven on; default onnxruntime-web from `ortWebDir` (or node_modules), one thread, as Lambda runs it. */
  readonly backend?: InferenceBackend;
  /** onnxruntime-web package folder for the default backend (the runtime layer's, so the proof runs what Lambda mounts). */
  readonly ortWebDir?: string;
  readonly log?: (line: string) => void;
  /** Build only these model folders (the server's load of one model); the models dir then holds only them. Default: every folder. */
  readonly models?: readonly string[];
}

export interface RepositoryModelReport {
  readonly name: string;
  readonly version: string;
  readonly bytes: number;
  /** Whether onnxruntime-web ran it in this build (false: proven before with the same file, manifest entry and runtime). */
  readonly proved: boolean;
}

export interface RepositoryBuildResult {
  /** The models that built and ran, as written to `<modelsDir>/manifest.json`. */
  readonly manifest: ModelManifest;
  readonly reports: readonly RepositoryModelReport[];
  /** One per model or version left out, each naming the file and the fix. */
  readonly errors: readonly ModelRepositoryError[];
}

/** What a warm build keeps per model version, so an unchanged file is neither re-read nor re-run. */
interface CachedVersion {
  readonly source: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly sha256: string;
  readonly signature: OnnxSignature;
  /** sha256 of the manifest entry and runtime version this file last ran with. */
  readonly proof?: string;
  /** Size and mtime of the copy in the models dir, so an unchanged copy is not read again. */
  readonly placed?: { readonly size: number; readonly mtimeMs: number };
}
type RepositoryCache = Record<string, CachedVersion>;

/**
 * Builds a models folder from a Triton-style model repository: for each model, its
 * config.pbtxt read strictly (or completed from the graph when there is none), the versions
 * its version policy selects, each file's sha256, size and signature, the model proven on
 * onnxruntime-web, the file copied to `<modelsDir>/<model>/<version>/` and the manifest
 * written. A model that fails any step is left out with an error naming the file and the fix;
 * the others still build. Incremental: unchanged files are not re-read or re-run.
 *
 * @example
 * const { manifest, errors } = await buildRepositoryModels({ repository: 'my-models', modelsDir: 'build/models', cacheFile: '.cache/repo.json' });
 * for (const error of errors) console.error(error.message);
 */
export async function buildRepositoryModels(options: BuildRepositoryModelsOptions): Promise<RepositoryBuildResult> {
  const { repository, modelsDir, log = () => {} } = options;
  const listed = listModelFolders(repository);
  const only = options.models;
  const listing = only === undefined ? listed : {
    folders: listed.folders.filter((f) => only.includes(f.name)),
    errors: listed.errors.filter((e) => e.model !== undefined && only.includes(e.model)),
  };
  const errors: ModelRepositoryError[] = [...listing.errors];
  const cache = readCache(options.cacheFile);
  const nextCache: RepositoryCache = {};
  const entries: ManifestModel[] = [];
  const reports: RepositoryModelReport[] = [];
  const runtime = `onnxruntime-web ${onnxruntimeWebVersion(options.ortWebDir)}`;
  let backend = options.backend;
  mkdirSync(modelsDir, { recursive: true });

  for (const folder of listing.folders) {
    const model = readModelFolder(folder, repository);
    errors.push(...model.errors);
    for (const version of model.versions) {
      const key = `${folder.name}/${version.version}`;
      try {
        const read = readVersion(version, folder.name, cache[key]);
        const entry = manifestEntry(folder, version, model.config!, read, repository);
        const target = join(modelsDir, entry.file);
        const placed = placeFile(version.path, target, read);
        const proof = createHash('sha256').update(JSON.stringify({ entry, runtime })).digest('hex');
        const proved = read.proof !== proof;
        if (proved) {
          backend ??= new WasmBackend({ ortWebDir: options.ortWebDir, numThreads: 1 });
          await proveOnOnnxruntimeWeb(entry, modelsDir, backend, version.file, runtime);
        }
        nextCache[key] = { ...read, proof, placed };
        entries.push(entry);
        reports.push({ name: entry.name, version: entry.version, bytes: entry.bytes, proved });
        log(`${proved ? 'proven ' : 'current'} ${version.file} ${(entry.bytes / 1e6).toFixed(2)} MB (max_batch_size ${entry.maxBatchSize}${entry.dynamicBatching ? ', dynamic batching' : ''})`);
      } catch (error) {
        errors.push(error instanceof ModelRepositoryError
          ? error
          : new ModelRepositoryError(`model '${folder.name}': ${version.file}: ${(error as Error).message}`, { file: version.path, model: folder.name, cause: error }));
      }
    }
  }
  if (backend && !options.backend) await backend.dispose();

  // As the built-in layer build does: each ONNX model's feed-forward kernel plan where the executor
  // takes the graph with parity against onnxruntime-node, else `kernelRefused` says why.
  const planned = await attachKernelPlans(entries, { modelsDir, cacheFile: `${options.cacheFile}.kernel-plans.json`, log });
  removeUnlisted(modelsDir, planned, log);
  const manifest = parseModelManifest({ schemaVersion: 1, models: planned } satisfies ModelManifest, join(modelsDir, 'manifest.json'));
  writeIfChanged(join(modelsDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  mkdirSync(dirname(options.cacheFile), { recursive: true });
  writeIfChanged(options.cacheFile, `${JSON.stringify(nextCache, null, 2)}\n`);
  return { manifest, reports, errors };
}

interface ModelFolderRead {
  readonly config: TritonModelConfig | undefined;
  readonly configFile: string | undefined;
  readonly versions: readonly RepositoryModelVersion[];
  readonly errors: readonly ModelRepositoryError[];
}

function readModelFolder(folder: RepositoryModelFolder, repository: string): ModelFolderRead & { config: TritonModelConfig } | ModelFolderRead {
  const configFile = folder.configPath ? relativeTo(repository, folder.configPath) : undefined;
  try {
    const config = folder.configPath ? readTritonModelConfig(readFileSync(folder.configPath, 'utf8'), configFile!) : {};
    const { versions, errors } = selectModelVersions(folder, config.versionPolicy, config.defaultModelFilename ?? DEFAULT_MODEL_FILENAME);
    return { config, configFile, versions, errors };
  } catch (error) {
    const refused = error instanceof ModelRepositoryError
      ? new ModelRepositoryError(error.message.startsWith(`model '${folder.name}'`) ? error.message : `model '${folder.name}': ${error.message}`, { file: error.file, model: folder.name, cause: error })
      : new ModelRepositoryError(`model '${folder.name}': ${(error as Error).message}`, { file: folder.dir, model: folder.name, cause: error });
    return { config: undefined, configFile, versions: [], errors: [refused] };
  }
}

type VersionRead = Omit<CachedVersion, 'proof' | 'placed'> & { readonly proof: string | undefined; readonly placed: CachedVersion['placed'] };

/** sha256 and signature of the version's file, from the cache when its path, size and mtime are unchanged. */
function readVersion(version: RepositoryModelVersion, model: string, cached: CachedVersion | undefined): VersionRead {
  const stat = statSync(version.path);
  if (cached && cached.source === version.path && cached.size === stat.size && cached.mtimeMs === stat.mtimeMs) return cached as VersionRead;
  const bytes = new Uint8Array(readFileSync(version.path));
  const inspection = inspectOnnxModel(bytes, version.file, model);
  return {
    source: version.path, size: stat.size, mtimeMs: stat.mtimeMs,
    sha256: createHash('sha256').update(bytes).digest('hex'), signature: inspection.signature, proof: undefined, placed: undefined,
  };
}

function manifestEntry(folder: RepositoryModelFolder, version: RepositoryModelVersion, config: TritonModelConfig, read: VersionRead, repository: string): ManifestModel {
  const configFile = folder.configPath ? relativeTo(repository, folder.configPath) : undefined;
  const fields = completeModelConfig({
    model: folder.name, config, configFile, modelFile: version.file, signature: read.signature,
    readLabels: (filename) => readLabelFile(folder, filename),
  });
  const entry: ManifestModel = {
    name: folder.name,
    version: version.version,
    platform: 'onnx_onnxv1',
    file: `${folder.name}/${version.version}/${basename(version.path)}`,
    sha256: read.sha256,
    bytes: read.size,
    ...fields,
    serveByDefault: true,
    ...(config.versionPolicy ? { versionPolicy: config.versionPolicy } : {}),
  };
  try {
    parseModelManifest({ schemaVersion: 1, models: [entry] });
  } catch (error) {
    throw new ModelRepositoryError(`model '${folder.name}': ${configFile ?? version.file} gives a manifest entry the server would refuse: ${(error as Error).message.replace(/^manifest: models\[0\] \([^)]*\): /, '')}`, { file: configFile ?? version.path, model: folder.name, cause: error });
  }
  return entry;
}

/** A Triton label file: one label per line, beside config.pbtxt; trailing empty lines are not labels (a line of spaces is: PP-OCR's keys have U+3000). */
function readLabelFile(folder: RepositoryModelFolder, filename: string): { labels: string[]; file: string } {
  const file = `${folder.name}/${filename}`;
  const fail = (what: string): never => {
    throw new ModelRepositoryError(`model '${folder.name}': ${what}`, { file: join(folder.dir, filename), model: folder.name });
  };
  if (filename.length === 0 || filename.includes('/') || filename.includes('\\') || filename.startsWith('.')) {
    fail(`label_filename "${filename}" must be a file name in the model folder (${folder.name}/), not a path`);
  }
  const path = join(folder.dir, filename);
  if (!existsSync(path)) fail(`label_filename "${filename}" names ${file}, which does not exist; put the labels there, one per line`);
  const lines = readFileSync(path, 'utf8').split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const empty = lines.indexOf('');
  if (empty !== -1) fail(`${file} line ${empty + 1} is empty; write one label per line, in class order`);
  return { labels: lines, file };
}

/**
 * Copies the repository's file into the models dir (write then rename, so a server starting up
 * never reads half a model). A copy this build placed before, of the same source, is left alone
 * while its size and mtime are unchanged.
 */
function placeFile(source: string, target: string, read: VersionRead): { size: number; mtimeMs: number } {
  if (read.placed && existsSync(target)) {
    const stat = statSync(target);
    if (stat.size === read.placed.size && stat.mtimeMs === read.placed.mtimeMs && stat.size === read.size) return read.placed;
  }
  mkdirSync(dirname(target), { recursive: true });
  const temporary = `${target}.${process.pid}.tmp`;
  copyFileSync(source, temporary);
  renameSync(temporary, target);
  const stat = statSync(target);
  return { size: stat.size, mtimeMs: stat.mtimeMs };
}

/** Removes from the models dir every file and folder the manifest does not list (older builds, models removed from the repository). */
function removeUnlisted(modelsDir: string, entries: readonly ManifestModel[], log: (line: string) => void): void {
  const kept = new Set(['manifest.json', ...entries.flatMap((e) => (e.kernel ? [e.file, e.kernel.file] : [e.file]))]);
  const visit = (dir: string, prefix: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const relative = `${prefix}${entry.name}`;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        visit(path, `${relative}/`);
        if (readdirSync(path).length === 0) rmSync(path, { recursive: true });
      } else if (!kept.has(relative)) {
        rmSync(path, { force: true });
        log(`removed ${relative} (not in the repository's build)`);
      }
    }
  };
  visit(modelsDir, '');
}

function relativeTo(repository: string, path: string): string {
  return relative(repository, path).split(sep).join('/');
}

function readCache(cacheFile: string): RepositoryCache {
  try {
    return JSON.parse(readFileSync(cacheFile, 'utf8')) as RepositoryCache;
  } catch {
    return {};
  }
}
