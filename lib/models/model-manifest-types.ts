import type { TensorSignature } from '../backends/inference-backend';

/** onnxruntime graph-optimisation levels a served file can have been saved at (not `all`: its layout transforms are CPU-specific). */
export type OptimizationLevel = 'basic' | 'extended';

/**
 * One model as `layers/models/manifest.json` declares it. The manifest is the contract the
 * registry verifies at load: a wrong sha256, or inputs/outputs that contradict the artifact,
 * refuse that model (loudly) while the others still serve.
 */
export interface ManifestModel {
  readonly name: string;
  readonly version: string;
  /** `onnx_onnxv1` for ONNX graphs; `hotpath_kernel` for models served by our WASM kernels. */
  readonly platform: string;
  /** Artifact path relative to the manifest's folder. */
  readonly file: string;
  readonly sha256: string;
  readonly bytes: number;
  /**
   * ONNX only: the file is the graph onnxruntime saved after optimising at this level at build
   * (`npm run build:layers`); the WASM backend creates its session with graph optimisation
   * disabled instead of running those passes again. Absent: a graph as authored.
   */
  readonly optimized?: OptimizationLevel;
  readonly inputs: readonly TensorSignature[];
  readonly outputs: readonly TensorSignature[];
  /** Largest first dimension accepted in one request (0: the model has no batch dimension). */
  readonly maxBatchSize: number;
  /** Served when HOTPATH_MODELS is `default` (the benchmark-only models are not). */
  readonly serveByDefault: boolean;
  readonly description?: string;
  /** Where the artifact came from and under what license. */
  readonly source?: { readonly origin: string; readonly license: string };
  /** Class labels for classifier outputs, keyed by output name. */
  readonly labels?: Readonly<Record<string, readonly string[]>>;
  /** Inputs whose values must be finite (NaN/Infinity refused with the element's index). Default: every float input. */
  readonly finiteInputs?: readonly string[];
  /**
   * Constant fill per input for the INIT warm-up run (default 0); variable dims warm up as 1
   * for the first dim and 32 elsewhere. E.g. Silero VAD needs `sr` = 16000.
   */
  readonly warmupFill?: Readonly<Record<string, number>>;
  /** Shape per input for the warm-up run where the variable-dim default doesn't fit (Silero VAD: input [1, 576]). */
  readonly warmupShapes?: Readonly<Record<string, readonly number[]>>;
  /** Routing hints for the router (e.g. batch size above which the GPU tier pays). */
  readonly routing?: { readonly preferRemoteAboveBatch?: number };
  /** Free-form facts the build measured (training accuracy, parameter count, ...). */
  readonly metrics?: Readonly<Record<string, number | string>>;
}

export interface ModelManifest {
  readonly schemaVersion: 1;
  readonly models: readonly ManifestModel[];
}
