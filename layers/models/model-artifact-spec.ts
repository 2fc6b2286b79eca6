import type { ManifestModel } from '../../lib/models/model-manifest-types';
import type { SavedOptimizationLevel } from './onnx-graph-optimizer';

/** What an artifact builder returns: the file's bytes and any facts it measured (accuracy, parameter count). */
export interface BuiltArtifact {
  readonly bytes: Uint8Array;
  readonly metrics?: Readonly<Record<string, number | string>>;
}

/**
 * What decides whether a built artifact is still current. Source files are hashed by
 * content (keep them small: the builder's own modules); large inputs such as a vendored
 * model go in `params` by their pinned hash, so a warm build reads no big file.
 */
export interface ArtifactFingerprint {
  readonly sourceFiles: readonly string[];
  readonly params?: unknown;
}

/** The manifest fields an entry writes by hand; the build fills in name, version, platform, file, sha256, bytes and optimized. */
export type ManifestFields = Omit<ManifestModel, 'name' | 'version' | 'platform' | 'file' | 'sha256' | 'bytes' | 'optimized'>;

/**
 * One model of the models layer: how to make its artifact and what the manifest says about
 * it. ONNX artifacts (`platform: 'onnx_onnxv1'`) have their declared inputs and outputs
 * checked against the file at build; other platforms (`hotpath_kernel`) are trusted.
 *
 * @example
 * // A kernel-served model: a small binary artifact and its manifest fields.
 * const kmeansAssign: ModelArtifactSpec = {
 *   name: 'kmeans-assign', version: '1', platform: 'hotpath_kernel', file: 'centroids.bin',
 *   fingerprint: { sourceFiles: [__filename], params: { k: 32, dims: 64, seed: 7 } },
 *   build: () => ({ bytes: makeCentroids(), metrics: { clusters: 32 } }),
 *   manifest: { inputs: [...], outputs: [...], maxBatchSize: 4096, serveByDefault: true },
 * };
 */
export interface ModelArtifactSpec {
  readonly name: string;
  readonly version: string;
  readonly platform: 'onnx_onnxv1' | 'hotpath_kernel';
  /** File name inside `<name>/<version>/`, e.g. `model.onnx`. */
  readonly file: string;
  readonly fingerprint: ArtifactFingerprint;
  /**
   * ONNX only: ship the graph as onnxruntime-node saves it after this optimisation level
   * (layers/models/onnx-graph-optimizer.ts); the manifest says `optimized` and the WASM backend
   * then skips graph optimisation at session create. The manifest's sha256 is of the optimised file.
   */
  readonly optimize?: SavedOptimizationLevel;
  build(): BuiltArtifact | Promise<BuiltArtifact>;
  /** Manifest fields; `metrics` are merged with (and overridden by) what `build` measured. */
  readonly manifest: ManifestFields;
}
