import type { HostTensor, TensorSignature } from '../protocol/tensor';
import type { OptimizationLevel } from '../models/model-manifest-types';

/** What a backend needs to create a session for one model. */
export interface ModelLoadRequest {
  readonly name: string;
  readonly version: string;
  /** Absolute path of the model artifact (an .onnx file for the onnx backends). */
  readonly path: string;
  /** The model file's bytes when the caller already read them (e.g. to verify the hash), so they are not read twice. */
  readonly bytes?: Uint8Array;
  /** The graph was saved already optimised at this onnxruntime level (manifest `optimized`). */
  readonly optimized?: OptimizationLevel;
  readonly inputs: readonly TensorSignature[];
  readonly outputs: readonly TensorSignature[];
  /** The manifest's warm-up inputs (warmupShapes/warmupFill), for a backend that tests its sessions before serving (the native backend's provider self-test). */
  readonly warmupInputs?: readonly HostTensor[];
}

/** Where a session's graph runs, as a self-test proved it from the runtime's own placement record (native backend). */
export interface ExecutionProviderReport {
  /** The provider that serves, e.g. `cuda` or `cpu`. */
  readonly provider: string;
  /** Nodes per onnxruntime provider, read from its profile, e.g. `{ CUDAExecutionProvider: 12 }`. */
  readonly nodesByProvider: Readonly<Record<string, number>>;
  /** Providers tried before it and refused, with the reasons. */
  readonly refused: readonly { readonly provider: string; readonly reason: string }[];
}

/**
 * What a run may be bounded by. A backend that can stop work early (a remote call, a queued
 * batch) honours them itself; the core also enforces both around every run, so a backend that
 * cannot (a synchronous WASM run) still never answers past the deadline.
 */
export interface BackendRunOptions {
  /** Absolute deadline on the `performance.now()` clock (ms). */
  readonly deadline?: number;
  readonly signal?: AbortSignal;
}

/** One loaded model. `run` takes named inputs and returns the requested outputs (all when `outputNames` is omitted). */
export interface BackendSession {
  /** Signatures as the backend reads them from the artifact: the registry checks the manifest against these. */
  readonly inputs: readonly TensorSignature[];
  readonly outputs: readonly TensorSignature[];
  /** Native sessions: the execution provider the graph runs on (absent for backends without providers). */
  readonly executionProvider?: ExecutionProviderReport;
  run(inputs: readonly HostTensor[], outputNames?: readonly string[], options?: BackendRunOptions): Promise<HostTensor[]>;
  dispose(): Promise<void>;
}

/**
 * The one backend contract (as onnxruntime-common does it): `wasm` (onnxruntime-web),
 * `native` (onnxruntime-node), `kernel` (our WASM kernels) and `remote` (an Open Inference
 * Protocol client) implement it. Created once per process, at cold start.
 */
export interface InferenceBackend {
  /** The route name reported to callers and metrics, e.g. `local-wasm`. */
  readonly route: string;
  /** Platforms (manifest `platform` values) this backend can run, e.g. `onnx_onnxv1`. */
  readonly platforms: readonly string[];
  init(): Promise<void>;
  load(model: ModelLoadRequest): Promise<BackendSession>;
  /** Called once the instance's models are loaded and warmed (the end of INIT, or the first request under HOTPATH_INIT=lazy). */
  startupDone?(): void;
  dispose(): Promise<void>;
}
