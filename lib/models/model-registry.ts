import type { BackendSession, InferenceBackend } from '../backends/inference-backend';
import { ModelNotReadyError, NotFoundError } from '../errors/hotpath-error';
import type { ManifestModel } from './model-manifest-types';

export type ModelState =
  | { readonly ready: true; readonly session: BackendSession; readonly backend: InferenceBackend }
  | { readonly ready: false; readonly reason: string };

/** One model version as the registry holds it, with what loading it cost. */
export interface RegisteredModel {
  readonly manifest: ManifestModel;
  readonly state: ModelState;
  /** Whether this instance was asked to load it (HOTPATH_MODELS). */
  readonly selected: boolean;
  /** Read + verify + session create + warm-up, in ms (0 when not loaded). */
  readonly loadMs: number;
  readonly warmupMs: number;
  /** The parts of loadMs before warm-up (0 when not loaded): reading the file, size + sha256, creating the session. */
  readonly readMs: number;
  readonly verifyMs: number;
  readonly sessionMs: number;
}

function compareVersions(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  return Number.isFinite(na) && Number.isFinite(nb) ? na - nb : a.localeCompare(b);
}

/**
 * The models this instance knows, by name and version: lookup only. Loading, verification and
 * warm-up are model-loader.ts's (`loadModelRegistry`), which builds one of these.
 */
export class ModelRegistry {
  constructor(readonly entries: readonly RegisteredModel[]) {}

  /** The named version, or the newest ready version (else the newest) when `version` is undefined. 404 if unknown. */
  find(name: string, version?: string): RegisteredModel {
    const versions = this.entries.filter((e) => e.manifest.name === name);
    if (versions.length === 0) {
      throw new NotFoundError(`model '${name}' is not served here; GET /v2/models lists the models`);
    }
    if (version !== undefined) {
      const match = versions.find((e) => e.manifest.version === version);
      if (!match) {
        throw new NotFoundError(`model '${name}' has no version '${version}'; its versions are: ${versions.map((e) => e.manifest.version).join(', ')}`);
      }
      return match;
    }
    const sorted = [...versions].sort((a, b) => compareVersions(b.manifest.version, a.manifest.version));
    return sorted.find((e) => e.state.ready) ?? sorted[0]!;
  }

  /** Like find, but 503 with the reason when the model is not ready. */
  findReady(name: string, version?: string): RegisteredModel & { state: Extract<ModelState, { ready: true }> } {
    const entry = this.find(name, version);
    if (!entry.state.ready) {
      throw new ModelNotReadyError(`model '${name}' version '${entry.manifest.version}' is not ready: ${entry.state.reason}`);
    }
    return entry as RegisteredModel & { state: Extract<ModelState, { ready: true }> };
  }

  /** Versions of a model, newest first. */
  versionsOf(name: string): string[] {
    return this.entries.filter((e) => e.manifest.name === name).map((e) => e.manifest.version).sort((a, b) => compareVersions(b, a));
  }

  /** True when every model this instance was asked to load is ready. */
  allSelectedReady(): boolean {
    return this.entries.every((e) => e.state.ready || !e.selected);
  }

  async dispose(): Promise<void> {
    for (const entry of this.entries) if (entry.state.ready) await entry.state.session.dispose();
  }
}
