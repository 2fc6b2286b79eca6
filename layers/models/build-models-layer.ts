import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import type { TensorSignature } from '../../lib/protocol/tensor';
import type { ManifestModel, ModelManifest } from '../../lib/models/model-manifest-types';
import { REPO_ROOT } from '../layer-paths';
import type { ModelArtifactSpec } from './model-artifact-spec';
import { readOnnxSignature } from './onnx-signature-reader';
import { onnxOptimizerVersion, optimizeOnnxGraph } from './onnx-graph-optimizer';
import { attachKernelPlans } from './kernel-plans';
import { attachSileroKernelPlan } from './model-builders/silero-kernel-artifact';
import { SILERO_VAD_FILE, SILERO_VAD_SHA256 } from './default-models';

export interface BuildModelsLayerOptions {
  readonly specs: readonly ModelArtifactSpec[];
  /** Folder that gets `manifest.json` and `<name>/<version>/<file>` (the layer's `models/`). */
  readonly modelsDir: string;
  /** Where the fingerprints of built artifacts are kept (outside the layer). */
  readonly cacheFile: string;
  /** Rebuild every artifact even when its fingerprint is unchanged. */
  readonly force?: boolean;
  readonly log?: (line: string) => void;
}

export interface ModelBuildReport {
  readonly name: string;
  readonly rebuilt: boolean;
  readonly bytes: number;
  readonly ms: number;
}

/** What the build remembers about an artifact so a warm build can skip it without reading it. */
interface CachedArtifact {
  readonly fingerprint: string;
  readonly file: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly mtimeMs: number;
  readonly metrics?: Readonly<Record<string, number | string>>;
  readonly signature?: { readonly inputs: TensorSignature[]; readonly outputs: TensorSignature[] };
}

type BuildCache = Record<string, CachedArtifact>;

/**
 * Builds the models layer: each artifact (skipped when its fingerprint, size and mtime are
 * unchanged), then `manifest.json` with sha256 and size of the files as written. An ONNX
 * entry whose declared inputs/outputs differ from the file fails the build, naming both.
 * Folders of models no longer listed are removed.
 */
export async function buildModelsLayer(options: BuildModelsLayerOptions): Promise<{ manifest: ModelManifest; reports: ModelBuildReport[] }> {
  const { specs, modelsDir, cacheFile, log = () => {} } = options;
  assertUniqueNames(specs);
  mkdirSync(modelsDir, { recursive: true });
  const cache = options.force ? {} : readCache(cacheFile);
  const nextCache: BuildCache = {};
  const entries: ManifestModel[] = [];
  const reports: ModelBuildReport[] = [];

  for (const spec of specs) {
    const started = performance.now();
    const key = `${spec.name}/${spec.version}`;
    const relativeFile = `${spec.name}/${spec.version}/${spec.file}`;
    const path = join(modelsDir, relativeFile);
    const fingerprint = fingerprintOf(spec);
    let artifact = cache[key];
    const rebuilt = !isCurrent(artifact, fingerprint, relativeFile, path);
    if (rebuilt || !artifact) {
      artifact = await buildArtifact(spec, fingerprint, relativeFile, path);
    }
    nextCache[key] = artifact;
    if (artifact.signature) assertSignatureMatches(spec, artifact.signature);
    entries.push(manifestEntry(spec, artifact));
    const report = { name: spec.name, rebuilt, bytes: artifact.bytes, ms: performance.now() - started };
    reports.push(report);
    log(`${rebuilt ? 'built  ' : 'current'} ${relativeFile} ${(artifact.bytes / 1e6).toFixed(2)} MB in ${report.ms.toFixed(0)} ms`);
  }

  // Each ONNX model's kernel plan where the feed-forward executor takes it with parity (else the reason why not).
  const feedForward = await attachKernelPlans(entries, { modelsDir, cacheFile: join(dirname(cacheFile), 'kernel-plans.json'), log });
  // Silero VAD's kernel artifact (weights extracted from the pinned graph) and, unless excluded, its plan.
  const models = await attachSileroKernelPlan(feedForward, { specs, modelsDir, sourceFile: SILERO_VAD_FILE, sourceSha256: SILERO_VAD_SHA256, cacheFile: join(dirname(cacheFile), 'silero-kernel.json'), log });
  removeUnlistedModels(modelsDir, specs, log);
  const manifest: ModelManifest = { schemaVersion: 1, models };
  writeIfChanged(join(modelsDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  mkdirSync(dirname(cacheFile), { recursive: true });
  writeIfChanged(cacheFile, `${JSON.stringify(nextCache, null, 2)}\n`);
  return { manifest, reports };
}

async function buildArtifact(spec: ModelArtifactSpec, fingerprint: string, relativeFile: string, path: string): Promise<CachedArtifact> {
  const source = await spec.build();
  if (spec.optimize && spec.platform !== 'onnx_onnxv1') throw new Error(`model '${spec.name}': only ONNX artifacts can be optimized`);
  const built = spec.optimize ? { ...source, bytes: await optimizeOnnxGraph(source.bytes, spec.optimize) } : source;
  mkdirSync(dirname(path), { recursive: true });
  // Write then rename, so a concurrent build or a server starting up never reads half a model.
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, built.bytes);
  renameSync(temporary, path);
  return {
    fingerprint,
    file: relativeFile,
    sha256: createHash('sha256').update(built.bytes).digest('hex'),
    bytes: built.bytes.byteLength,
    mtimeMs: statSync(path).mtimeMs,
    ...(built.metrics ? { metrics: built.metrics } : {}),
    ...(spec.platform === 'onnx_onnxv1' ? { signature: readOnnxSignature(built.bytes) } : {}),
  };
}

function manifestEntry(spec: ModelArtifactSpec, artifact: CachedArtifact): ManifestModel {
  const { metrics, ...fields } = spec.manifest;
  const mergedMetrics = { ...metrics, ...artifact.metrics };
  return {
    name: spec.name,
    version: spec.version,
    platform: spec.platform,
    file: artifact.file,
    sha256: artifact.sha256,
    bytes: artifact.bytes,
    ...(spec.optimize ? { optimized: spec.optimize } : {}),
    ...fields,
    ...(Object.keys(mergedMetrics).length > 0 ? { metrics: mergedMetrics } : {}),
  };
}

/** The fingerprint covers the builder's sources (by content), its parameters, the artifact's place and the optimiser (level, onnxruntime-node version). */
function fingerprintOf(spec: ModelArtifactSpec): string {
  const hash = createHash('sha256');
  const optimize = spec.optimize ? { level: spec.optimize, onnxruntimeNode: onnxOptimizerVersion() } : null;
  hash.update(JSON.stringify({ name: spec.name, version: spec.version, file: spec.file, params: spec.fingerprint.params ?? null, ...(optimize ? { optimize } : {}) }));
  for (const file of [...spec.fingerprint.sourceFiles].sort()) {
    // Relative to the repository, so a clone elsewhere keeps the same fingerprints.
    hash.update(`\0${relative(REPO_ROOT, file).split(sep).join('/')}\0`);
    hash.update(readFileSync(file));
  }
  return hash.digest('hex');
}

function isCurrent(artifact: CachedArtifact | undefined, fingerprint: string, relativeFile: string, path: string): boolean {
  if (!artifact || artifact.fingerprint !== fingerprint || artifact.file !== relativeFile || !existsSync(path)) return false;
  const stat = statSync(path);
  return stat.size === artifact.bytes && stat.mtimeMs === artifact.mtimeMs;
}

function assertSignatureMatches(spec: ModelArtifactSpec, actual: { inputs: TensorSignature[]; outputs: TensorSignature[] }): void {
  const declared = { inputs: spec.manifest.inputs, outputs: spec.manifest.outputs };
  if (JSON.stringify(declared) !== JSON.stringify({ inputs: actual.inputs, outputs: actual.outputs })) {
    throw new Error(
      `model '${spec.name}': the manifest declares ${describeSignature(declared)} but the ONNX file declares ` +
        `${describeSignature(actual)}; declare exactly what the file says (-1 for a symbolic dimension)`,
    );
  }
}

function describeSignature(signature: { inputs: readonly TensorSignature[]; outputs: readonly TensorSignature[] }): string {
  const one = (t: TensorSignature): string => `${t.name} ${t.datatype} [${t.shape.join(',')}]`;
  return `inputs (${signature.inputs.map(one).join('; ')}) outputs (${signature.outputs.map(one).join('; ')})`;
}

function assertUniqueNames(specs: readonly ModelArtifactSpec[]): void {
  const seen = new Set<string>();
  for (const spec of specs) {
    const key = `${spec.name}/${spec.version}`;
    if (seen.has(key)) throw new Error(`model '${key}' is listed twice`);
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(spec.name) || !/^[0-9]+$/.test(spec.version)) {
      throw new Error(`model '${key}': names are lowercase [a-z0-9._-], versions are integers`);
    }
    seen.add(key);
  }
}

function removeUnlistedModels(modelsDir: string, specs: readonly ModelArtifactSpec[], log: (line: string) => void): void {
  const listed = new Set(specs.map((spec) => `${spec.name}/${spec.version}`));
  for (const name of readdirSync(modelsDir, { withFileTypes: true })) {
    if (!name.isDirectory()) continue;
    const versions = readdirSync(join(modelsDir, name.name));
    for (const version of versions) {
      if (listed.has(`${name.name}/${version}`)) continue;
      rmSync(join(modelsDir, name.name, version), { recursive: true, force: true });
      log(`removed ${name.name}/${version} (no longer listed)`);
    }
    if (readdirSync(join(modelsDir, name.name)).length === 0) rmSync(join(modelsDir, name.name), { recursive: true, force: true });
  }
}

function readCache(cacheFile: string): BuildCache {
  try {
    return JSON.parse(readFileSync(cacheFile, 'utf8')) as BuildCache;
  } catch {
    return {};
  }
}

/** Writes `content` to `path` (then renames, so no reader sees half a file), leaving the file and its mtime alone when the content is the same. */
export function writeIfChanged(path: string, content: string): void {
  if (existsSync(path) && readFileSync(path, 'utf8') === content) return;
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, content);
  renameSync(temporary, path);
}
