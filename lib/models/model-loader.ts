import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { InferenceBackend } from '../backends/inference-backend';
import type { TensorSignature } from '../protocol/tensor';
import { ModelVerificationError } from '../errors/hotpath-error';
import { allocateNumeric } from '../protocol/datatypes';
import type { HostTensor } from '../protocol/tensor';
import { elementCount } from '../protocol/tensor';
import type { StructuredLogger } from '../telemetry/structured-logger';
import type { ManifestModel, ModelManifest } from './model-manifest-types';
import { ModelRegistry, type RegisteredModel } from './model-registry';
import type { FetchedArtifact, S3ModelArtifacts } from './s3-model-artifacts';

export type ModelRegistryLogger = Pick<StructuredLogger, 'info' | 'error'>;

export interface LoadModelsOptions {
  readonly modelsDir: string;
  readonly manifest: ModelManifest;
  /** `default`, `*`, or names. Unselected models are listed but never loaded: an instance pays only for what HOTPATH_MODELS names. */
  readonly selection: 'default' | '*' | readonly string[];
  /** Backend per manifest platform; given the entry too, where the backend depends on the model (a kernel plan, lib/serving/model-backend-selection.ts). */
  readonly backendFor: (platform: string, model: ManifestModel) => InferenceBackend | undefined;
  readonly warmup: boolean;
  readonly logger: ModelRegistryLogger;
  /** List the selected models as not ready yet instead of loading them (HOTPATH_INIT=lazy: the first request loads them). */
  readonly deferred?: boolean;
  /** Fetches the artifacts of models with manifest `s3Prefix` (downloaded into /tmp, verified); without it such models are refused. */
  readonly s3Artifacts?: S3ModelArtifacts;
}

const NOT_LOADED = { loadMs: 0, warmupMs: 0, readMs: 0, verifyMs: 0, sessionMs: 0 } as const;

/**
 * Loads the selected models from the manifest. Each is verified (size, sha256, and the
 * declared inputs/outputs against what the backend reads from the artifact) and warmed up
 * with one run; a model that fails any step is refused with a logged reason and reported as
 * not ready, while the others still serve.
 */
export async function loadModelRegistry(options: LoadModelsOptions): Promise<ModelRegistry> {
  const selected = selectedModelNames(options.manifest, options.selection);
  const entries: RegisteredModel[] = [];
  // Sequential on purpose: on 1-2 vCPUs parallel loads only interleave, and the log reads in order.
  for (const model of options.manifest.models) {
    if (!selected.has(model.name)) {
      entries.push({ manifest: model, selected: false, state: { ready: false, reason: 'not loaded on this instance (see HOTPATH_MODELS)' }, ...NOT_LOADED });
      continue;
    }
    if (options.deferred) {
      entries.push({ manifest: model, selected: true, state: { ready: false, reason: 'loads on the first request (HOTPATH_INIT=lazy)' }, ...NOT_LOADED });
      continue;
    }
    entries.push(await loadOne(model, options));
  }
  const unknown = [...selected].filter((name) => !options.manifest.models.some((m) => m.name === name));
  for (const name of unknown) options.logger.error(`HOTPATH_MODELS names model '${name}', which the manifest does not have`);
  return new ModelRegistry(entries);
}

/**
 * Names of the models a selection (HOTPATH_MODELS) asks for: `default` the manifest's
 * serveByDefault models, `*` all of them, otherwise the names given (some possibly unknown).
 */
export function selectedModelNames(manifest: ModelManifest, selection: LoadModelsOptions['selection']): Set<string> {
  if (selection === '*') return new Set(manifest.models.map((m) => m.name));
  if (selection === 'default') return new Set(manifest.models.filter((m) => m.serveByDefault).map((m) => m.name));
  return new Set(selection);
}

async function loadOne(model: ManifestModel, options: LoadModelsOptions): Promise<RegisteredModel> {
  const started = performance.now();
  const label = `${model.name}@${model.version}`;
  try {
    const backend = options.backendFor(model.platform, model);
    if (!backend) throw new ModelVerificationError(`model '${label}': no backend serves platform '${model.platform}'`);
    const fromS3 = model.s3Prefix === undefined ? undefined : await fetchFromS3(model, label, options.s3Artifacts);
    const path = fromS3?.path ?? join(options.modelsDir, model.file);
    const bytes = fromS3?.bytes ?? await readFile(path).catch((error: unknown) => {
      throw new ModelVerificationError(`model '${label}': file '${model.file}' in the models dir cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`, error);
    });
    const readDone = performance.now();
    // An S3 artifact was checked as it arrived (or as it was read back from /tmp).
    if (!fromS3) verifyArtifact(model, label, bytes);
    const verifyDone = performance.now();
    const session = await backend.load({
      name: model.name, version: model.version, path, bytes, inputs: model.inputs, outputs: model.outputs, ...(model.optimized ? { optimized: model.optimized } : {}),
      warmupInputs: warmupInputs(model),
    });
    const sessionDone = performance.now();
    const warmStart = performance.now();
    try {
      verifySignatures(label, 'input', model.inputs, session.inputs);
      verifySignatures(label, 'output', model.outputs, session.outputs);
      if (options.warmup) {
        await session.run(warmupInputs(model)).catch((error: unknown) => {
          throw new ModelVerificationError(`model '${label}': the warm-up run failed (check the manifest's warmupShapes/warmupFill): ${(error as Error).message}`, error);
        });
      }
    } catch (error) {
      await session.dispose();
      throw error;
    }
    const done = performance.now();
    const loaded: RegisteredModel = {
      manifest: model, selected: true, state: { ready: true, session, backend }, loadMs: done - started, warmupMs: options.warmup ? done - warmStart : 0,
      readMs: readDone - started, verifyMs: verifyDone - readDone, sessionMs: sessionDone - verifyDone,
    };
    options.logger.info(`model '${label}' ready`, {
      model: model.name, version: model.version, route: backend.route, ...(session.executionProvider ? { provider: session.executionProvider.provider } : {}),
      loadMs: round(loaded.loadMs), warmupMs: round(loaded.warmupMs),
      readMs: round(loaded.readMs), verifyMs: round(loaded.verifyMs), sessionMs: round(loaded.sessionMs),
      ...(fromS3 ? { s3: fromS3.source, s3ClientMs: round(fromS3.clientMs), s3DownloadMs: round(fromS3.downloadMs), s3ReadMs: round(fromS3.readMs), s3Bytes: model.bytes } : {}),
    });
    return loaded;
  } catch (error) {
    const reason = withoutModelsDir(error instanceof Error ? error.message : String(error), options.modelsDir);
    options.logger.error(`model '${label}' refused: ${reason}`, { model: model.name, version: model.version, error });
    return { manifest: model, selected: true, state: { ready: false, reason }, ...NOT_LOADED, loadMs: performance.now() - started };
  }
}

function fetchFromS3(model: ManifestModel, label: string, artifacts: S3ModelArtifacts | undefined): Promise<FetchedArtifact> {
  if (!artifacts) throw new ModelVerificationError(`model '${label}': its artifact is in S3 (${model.s3Prefix}${model.file}) and this runtime fetches none; serve it where the serving runtime loads it (Lambda, npm start)`);
  return artifacts.fetch(model, label);
}

/**
 * The reason as callers may see it (`GET /v2/models/{m}/ready`, 503 bodies): the models dir's
 * absolute path cut off, wherever a backend or runtime quoted it, so files read relative to it.
 */
function withoutModelsDir(reason: string, modelsDir: string): string {
  const prefix = `${resolve(modelsDir)}${sep}`;
  return reason.split(prefix).join('');
}

function verifyArtifact(model: ManifestModel, label: string, bytes: Uint8Array): void {
  if (bytes.byteLength !== model.bytes) {
    throw new ModelVerificationError(`model '${label}': file has ${bytes.byteLength} bytes, manifest says ${model.bytes}`);
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== model.sha256) {
    throw new ModelVerificationError(`model '${label}': sha256 of the file is ${sha256}, manifest says ${model.sha256}`);
  }
}

/**
 * The manifest may narrow a variable dim of the file (-1 in the file, fixed in the manifest)
 * but must not contradict a fixed one, rename, drop or retype a tensor.
 */
function verifySignatures(label: string, kind: string, declared: readonly TensorSignature[], actual: readonly TensorSignature[]): void {
  const actualByName = new Map(actual.map((s) => [s.name, s]));
  for (const signature of declared) {
    const real = actualByName.get(signature.name);
    if (!real) throw new ModelVerificationError(`model '${label}': manifest declares ${kind} '${signature.name}', the file has ${actual.map((s) => s.name).join(', ')}`);
    if (real.datatype !== signature.datatype) {
      throw new ModelVerificationError(`model '${label}': ${kind} '${signature.name}' is ${real.datatype} in the file, manifest says ${signature.datatype}`);
    }
    const compatible = real.shape.length === signature.shape.length && real.shape.every((d, i) => d === -1 || d === signature.shape[i]);
    if (!compatible) {
      throw new ModelVerificationError(
        `model '${label}': ${kind} '${signature.name}' has shape ${JSON.stringify(real.shape)} in the file, manifest says ${JSON.stringify(signature.shape)}`,
      );
    }
  }
  if (kind === 'input' && declared.length !== actual.length) {
    throw new ModelVerificationError(`model '${label}': the file has inputs ${actual.map((s) => s.name).join(', ')}, manifest declares ${declared.map((s) => s.name).join(', ')}`);
  }
}

/** Constant inputs of the declared shapes (or the manifest's warmupShapes): variable dims become 1 (first) or 32 (others, e.g. image sides). */
function warmupInputs(model: ManifestModel): HostTensor[] {
  return model.inputs.map((signature) => {
    const shape = model.warmupShapes?.[signature.name] ?? signature.shape.map((d, i) => (d === -1 ? (i === 0 ? 1 : 32) : d));
    const count = elementCount(shape);
    const fill = model.warmupFill?.[signature.name] ?? 0;
    if (signature.datatype === 'BYTES') return { name: signature.name, datatype: 'BYTES', shape, data: Array.from({ length: count }, () => new Uint8Array(0)) };
    const data = allocateNumeric(signature.datatype, count);
    if (fill !== 0) (data as { fill(v: number | bigint): unknown }).fill(data instanceof BigInt64Array || data instanceof BigUint64Array ? BigInt(fill) : fill);
    return { name: signature.name, datatype: signature.datatype, shape, data };
  });
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

