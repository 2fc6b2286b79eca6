import type { TensorSignature } from '../protocol/tensor';

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
  /** Artifact path relative to the manifest's folder (with `s3Prefix`: its key under that prefix, and its path in the S3 models cache folder). */
  readonly file: string;
  /**
   * `s3://bucket/prefix/`: the model's files are in S3 at this prefix + their manifest path
   * (`file`, and `kernel.file` for a kernel plan; e.g. s3://bucket/prefix/text-detector/1/model.onnx),
   * not in the models layer (a model too large for Lambda's 250 MB; `npm run build:layers --
   * --s3-models NAMES --s3-prefix s3://bucket/prefix/` writes it). INIT downloads the file it
   * serves into HOTPATH_S3_MODELS_CACHE_DIR (/tmp) and checks `bytes` and `sha256` before
   * loading (lib/models/s3-model-artifacts.ts).
   */
  readonly s3Prefix?: string;
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
   * What the model needs of its inputs beyond their declared shapes, keyed by input name;
   * checked before the runtime sees the request (see InputConstraint).
   */
  readonly constraints?: Readonly<Record<string, InputConstraint>>;
  /**
   * Constant fill per input for the INIT warm-up run (default 0); variable dims warm up as 1
   * for the first dim and 32 elsewhere. E.g. Silero VAD needs `sr` = 16000.
   */
  readonly warmupFill?: Readonly<Record<string, number>>;
  /** Shape per input for the warm-up run where the variable-dim default doesn't fit (Silero VAD: input [1, 576]). */
  readonly warmupShapes?: Readonly<Record<string, readonly number[]>>;
  /**
   * Server only (the OIP server and the GPU task; Lambda runs one request per instance): queue
   * this model's requests and run them concatenated along the batch dim, with Triton's dynamic
   * batcher semantics (lib/serving/dynamic-batcher.ts). Needs `maxBatchSize` > 0 and a batch
   * dim (-1 first) on every input and output. Triton's config.pbtxt `dynamic_batching` maps onto it.
   */
  readonly dynamicBatching?: DynamicBatchingSettings;
  /** Routing hints for the router (e.g. batch size above which the GPU tier pays). */
  readonly routing?: { readonly preferRemoteAboveBatch?: number };
  /** Free-form facts the build measured (training accuracy, parameter count, ...). */
  readonly metrics?: Readonly<Record<string, number | string>>;
  /** Model-repository models: the config.pbtxt `version_policy` the built versions were chosen by (Triton's default: `{ latest: 1 }`). */
  readonly versionPolicy?: VersionPolicy;
  /** Model-repository models: config.pbtxt `parameters` (string values by key), kept for whoever reads them. */
  readonly parameters?: Readonly<Record<string, string>>;
  /**
   * ONNX only: a kernel plan the build proved against onnxruntime-node (layers/models/kernel-plans.ts).
   * Present: the kernel backend serves the model from `kernel.file` unless HOTPATH_WASM_MODELS
   * names it (then onnxruntime-web serves `file`, as without a plan).
   */
  readonly kernel?: KernelPlanReference;
  /** ONNX only, where `kernel` is absent: why the build's kernel executors do not serve this graph. */
  readonly kernelRefused?: string;
}

/**
 * The kernel artifact of an ONNX model: which executor runs it (registered by name on the kernel
 * backend, lib/backends/kernel-backend.ts), its file (relative to the manifest's folder, named
 * `*.<executor>.bin`) and why the build chose it (the parity figures it measured).
 */
export interface KernelPlanReference {
  /** Kernel executor name, e.g. `feed-forward`. */
  readonly executor: string;
  readonly file: string;
  readonly sha256: string;
  readonly bytes: number;
  /** Why the build chose the kernel backend: what it checked and the figures, e.g. max relative error against onnxruntime-node. */
  readonly reason: string;
}

/** Triton's `version_policy`: the newest `latest` versions, every version folder, or the listed versions. */
export type VersionPolicy =
  | { readonly latest: number }
  | { readonly all: true }
  | { readonly specific: readonly number[] };

/**
 * A rule about one input that its shape cannot state, e.g. Silero VAD's `sr` (8000 or 16000),
 * its window length per rate, or text-detector's sides (multiples of 32). A request that
 * breaks one is refused with a 400 naming the input, the rule and what was sent.
 *
 * @example
 * // Silero VAD: sr is 8000 or 16000 Hz, and the window length follows the rate.
 * constraints: {
 *   sr: { oneOf: [8000, 16000], unit: 'Hz' },
 *   input: { dims: [{ axis: 1, label: 'samples', byValueOf: { input: 'sr', sizes: { 16000: 576, 8000: 288 } } }] },
 * }
 */
export interface InputConstraint {
  /** Every element must be one of these values (numbers; 64-bit integer inputs are compared exactly). */
  readonly oneOf?: readonly number[];
  /** Unit named after the allowed values in messages, e.g. `Hz`. */
  readonly unit?: string;
  /** Rules on single dims of this input. */
  readonly dims?: readonly DimConstraint[];
}

/** A rule on one dim of an input. Every field present must hold; `hint` says how to comply. */
export interface DimConstraint {
  /** The dim, 0-based; the input's rank must be fixed so the axis exists. */
  readonly axis: number;
  /** What the dim is, for messages: `batch`, `height`, `samples`. */
  readonly label?: string;
  /** Smallest size (e.g. 1 where the model cannot take a zero-size tensor). */
  readonly min?: number;
  /** The size must be a multiple of this (e.g. 32 for an image backbone with five stride-2 stages). */
  readonly multipleOf?: number;
  /** The size must equal a dim of another input (Silero VAD: the state's batch is the audio's batch). */
  readonly equalsDimOf?: { readonly input: string; readonly axis: number };
  /**
   * The size is fixed by the value of another, one-element input: `sizes` maps each of its
   * values (as a decimal string) to the size (Silero VAD: sr 16000 → 576 samples, 8000 → 288).
   */
  readonly byValueOf?: { readonly input: string; readonly sizes: Readonly<Record<string, number>> };
  /** Appended to the refusal: what to do instead ("resize or pad the image"). */
  readonly hint?: string;
}

/**
 * Triton's `dynamic_batching` block, field for field (microseconds, as Triton's): a batch
 * goes when it reaches `maxBatchSize`, or a preferred size, or when its oldest request has
 * waited `maxQueueDelayMicroseconds` (the delay applies only while no full or preferred batch
 * can form).
 *
 * @example
 * // config.pbtxt: dynamic_batching { max_queue_delay_microseconds: 2000 preferred_batch_size: [32, 64]
 * //   default_queue_policy { max_queue_size: 512 default_timeout_microseconds: 100000 } }
 * dynamicBatching: { maxQueueDelayMicroseconds: 2000, preferredBatchSizes: [32, 64], maxQueueSize: 512, defaultTimeoutMicroseconds: 100000 }
 */
export interface DynamicBatchingSettings {
  /** How long the oldest queued request may wait for a batch to fill (0: run what is there at once). */
  readonly maxQueueDelayMicroseconds: number;
  /** Batch sizes to send as soon as they can form, each from 1 to maxBatchSize (Triton's `preferred_batch_size`). */
  readonly preferredBatchSizes?: readonly number[];
  /** Requests waiting in the queue (not running) past which new ones get 503 "exceeds maximum queue size"; absent or 0: unbounded. */
  readonly maxQueueSize?: number;
  /** A queued request older than this is rejected with 504 and never runs (absent or 0: only its own deadline applies). */
  readonly defaultTimeoutMicroseconds?: number;
}

export interface ModelManifest {
  readonly schemaVersion: 1;
  readonly models: readonly ManifestModel[];
}
