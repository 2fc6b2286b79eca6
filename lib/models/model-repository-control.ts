import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { buildRepositoryModels } from '../../layers/models/model-repository/build-repository-models';
import { listModelFolders } from '../../layers/models/model-repository/model-repository-layout';
import { WasmBackend } from '../backends/wasm-backend';
import { HotpathError, NotFoundError } from '../errors/hotpath-error';
import type { StructuredLogger } from '../telemetry/structured-logger';
import type { ModelManifest } from './model-manifest-types';
import type { ModelRegistry, RegisteredModel } from './model-registry';

/** One row of Triton's repository index (`POST /v2/repository/index`). */
export interface RepositoryIndexEntry {
  readonly name: string;
  /** Absent on a row about the model as a whole (never loaded, unloaded, a failed load). */
  readonly version?: string;
  readonly state: 'READY' | 'UNAVAILABLE';
  /** Why the model is in that state; empty when READY. */
  readonly reason: string;
}

/** What a model control may do with a serving runtime's models (ServingRuntime implements it). */
export interface RuntimeModels {
  readonly registry: ModelRegistry;
  /** Loads, verifies and warms every entry of `manifest` (files under `modelsDir`) on the runtime's backends, without serving them. */
  load(manifest: ModelManifest, modelsDir: string): Promise<ModelRegistry>;
  /**
   * Puts `entries` in place of every version of model `name` in one step (none: the model is
   * no longer served, and `absentReason` is the message of its 404s); the sessions taken out
   * are disposed once every request begun before the swap has finished.
   */
  replace(name: string, entries: readonly RegisteredModel[], absentReason?: string): Promise<void>;
  /** Disposes, now, the replaced sessions still waiting for requests (the server's close). */
  disposeRetired(): Promise<void>;
}

/** Triton's model repository extension on a running server: what `/v2/repository/...` calls. */
export interface ModelRepositoryControl {
  /** The repository folder (HOTPATH_MODEL_REPOSITORY). */
  readonly repository: string;
  /** Every model of the repository and every model served, by version where it has one. */
  index(): RepositoryIndexEntry[];
  /**
   * (Re)loads one model from the repository as it is on disk now: built and proven as at start,
   * then loaded on the serving backends; it replaces the served versions only when every version
   * its policy selects is ready. A failure leaves what served serving and throws a 400 naming it.
   */
  load(name: string): Promise<readonly RegisteredModel[]>;
  /** Stops serving every version of one model (its in-flight requests finish first). */
  unload(name: string): Promise<void>;
  /** Disposes the sessions still waiting to be replaced and removes the staging folder. */
  close(): Promise<void>;
}

/** 400: a model of the repository failed to load; the message says why and what still serves. */
export class ModelLoadError extends HotpathError {
  constructor(message: string) {
    super(message, { status: 400 });
  }
}

export interface ModelRepositoryControlOptions {
  readonly repository: string;
  readonly models: RuntimeModels;
  /** The proof's onnxruntime-web (what Lambda runs), set up as the server's own. */
  readonly ortWebDir: string | undefined;
  readonly wasmThreads: number;
  readonly logger: Pick<StructuredLogger, 'info' | 'error'>;
  /** Where loads build (one folder per model); default a new folder under the OS temp dir, removed at close. */
  readonly stagingDir?: string;
}

/**
 * The server's model control over a Triton-style repository. A load builds the one model with
 * the start's builder (config.pbtxt read, completed from the graph, proven on onnxruntime-web)
 * into a staging folder of its own, loads it there, and swaps it in; loads and unloads run one
 * at a time (two clients loading one model at once load it twice, in turn, never interleaved).
 *
 * @example
 * const control = createModelRepositoryControl({ repository: 'my-models', models, ortWebDir: undefined, wasmThreads: 1, logger });
 * await control.load('iris');   // serves my-models/iris as it is on disk now
 */
export function createModelRepositoryControl(options: ModelRepositoryControlOptions): ModelRepositoryControl {
  const { repository, models, logger } = options;
  const staging = options.stagingDir ?? mkdtempSync(join(tmpdir(), 'hotpath-repository-loads-'));
  const ownsStaging = options.stagingDir === undefined;
  /** Why a model is not served although its folder is there: its last load failed, or it was unloaded. */
  const notes = new Map<string, { kind: 'failed' | 'unloaded'; reason: string }>();
  let prover: WasmBackend | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  const oneAtATime = <T>(operation: () => Promise<T>): Promise<T> => {
    const run = queue.then(operation, operation);
    queue = run.catch(() => undefined);
    return run;
  };
  const hidePaths = (message: string) => [`${resolve(staging)}${sep}`, `${resolve(repository)}${sep}`].reduce((m, prefix) => m.split(prefix).join(''), message);

  async function loadModel(name: string): Promise<readonly RegisteredModel[]> {
    const listing = listModelFolders(repository);
    const misnamed = listing.errors.find((e) => e.model === name);
    if (misnamed) throw new ModelLoadError(hidePaths(misnamed.message));
    if (!listing.folders.some((f) => f.name === name)) {
      throw new NotFoundError(`model '${name}' is not in the model repository; put it at ${name}/1/model.onnx there and load it again (POST /v2/repository/index lists the repository)`);
    }
    const dir = join(staging, name);
    prover ??= new WasmBackend({ ortWebDir: options.ortWebDir, numThreads: options.wasmThreads });
    const built = await buildRepositoryModels({ repository, modelsDir: dir, cacheFile: join(staging, `${name}.cache.json`), backend: prover, models: [name] });
    const reasons = built.errors.map((e) => hidePaths(e.message));
    let loaded: readonly RegisteredModel[] = [];
    if (reasons.length === 0) {
      loaded = (await models.load(built.manifest, dir)).entries;
      for (const entry of loaded) if (!entry.state.ready) reasons.push(`version ${entry.manifest.version}: ${entry.state.reason}`);
    }
    if (reasons.length > 0) {
      for (const entry of loaded) if (entry.state.ready) await entry.state.session.dispose();
      throw await refuse(name, reasons);
    }
    await models.replace(name, loaded);
    notes.delete(name);
    logger.info(`model repository: loaded '${name}'`, { model: name, versions: loaded.map((e) => e.manifest.version) });
    return loaded;
  }

  /** A failed load: what served keeps serving; a model with nothing served says why in its 404s. */
  async function refuse(name: string, reasons: readonly string[]): Promise<ModelLoadError> {
    const serving = models.registry.entries.filter((e) => e.manifest.name === name && e.state.ready).map((e) => e.manifest.version);
    const reason = reasons.join('; ');
    notes.set(name, { kind: 'failed', reason });
    if (!models.registry.entries.some((e) => e.manifest.name === name)) {
      await models.replace(name, [], `model '${name}' failed to load from the model repository: ${reason}; fix it there and POST /v2/repository/models/${name}/load`);
    }
    logger.error(`model repository: '${name}' failed to load`, { model: name, reason, serving });
    const still = serving.length > 0 ? `; version${serving.length > 1 ? 's' : ''} ${serving.join(', ')} loaded before still serve${serving.length > 1 ? '' : 's'}` : '';
    return new ModelLoadError(`failed to load model '${name}': ${reason}${still}`);
  }

  async function unloadModel(name: string): Promise<void> {
    const served = models.registry.entries.some((e) => e.manifest.name === name);
    if (!served && !listModelFolders(repository).folders.some((f) => f.name === name)) {
      throw new NotFoundError(`model '${name}' is neither served here nor in the model repository (POST /v2/repository/index lists them)`);
    }
    await models.replace(name, [], `model '${name}' was unloaded (POST /v2/repository/models/${name}/unload); POST /v2/repository/models/${name}/load serves it again`);
    notes.set(name, { kind: 'unloaded', reason: 'unloaded' });
    logger.info(`model repository: unloaded '${name}'`, { model: name });
  }

  return {
    repository,
    index() {
      const listing = listModelFolders(repository);
      const { entries } = models.registry;
      const names = [...new Set([...listing.folders.map((f) => f.name), ...listing.errors.flatMap((e) => (e.model ? [e.model] : [])), ...entries.map((e) => e.manifest.name)])].sort();
      return names.flatMap((name): RepositoryIndexEntry[] => {
        const misnamed = listing.errors.find((e) => e.model === name);
        if (misnamed) return [{ name, state: 'UNAVAILABLE', reason: hidePaths(misnamed.message) }];
        const rows = entries.filter((e) => e.manifest.name === name).map((e): RepositoryIndexEntry => ({
          name, version: e.manifest.version, state: e.state.ready ? 'READY' : 'UNAVAILABLE', reason: e.state.ready ? '' : e.state.reason,
        }));
        const note = notes.get(name);
        if (note?.kind === 'failed') rows.push({ name, state: 'UNAVAILABLE', reason: `the last load failed: ${note.reason}` });
        if (rows.length === 0) rows.push({ name, state: 'UNAVAILABLE', reason: note?.reason ?? `not loaded; POST /v2/repository/models/${name}/load serves it` });
        return rows;
      });
    },
    load: (name) => oneAtATime(() => loadModel(name)),
    unload: (name) => oneAtATime(() => unloadModel(name)),
    async close() {
      await queue;
      await models.disposeRetired();
      if (ownsStaging) rmSync(staging, { recursive: true, force: true });
    },
  };
}
