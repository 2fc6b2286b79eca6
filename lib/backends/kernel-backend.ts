import { readFile } from 'node:fs/promises';
import { distanceKernels } from '../../kernels/distances/distances-kernels';
import { decodeFlatIndex } from '../../kernels/distances/flat-index-artifact';
import { FlatNearestNeighborIndex } from '../../kernels/distances/flat-nearest-neighbor-index';
import { MAX_TOP_K } from '../../kernels/distances/distances-kernels';
import { readNpy } from '../../kernels/runtime/npy-file-format';
import { kernelSimdLevel, type KernelSimdLevel } from '../../kernels/runtime/load-kernel-module';
import { InvalidRequestError, ModelVerificationError } from '../errors/hotpath-error';
import type { HostTensor } from '../protocol/tensor';
import type { BackendSession, InferenceBackend, ModelLoadRequest } from './inference-backend';
import type { TensorSignature } from '../protocol/tensor';
import { silenceDetectorKind } from './kernel-models/silence-detector-model';
import { feedForwardExecutor } from './kernel-models/feed-forward-model';
import { sileroVadExecutor } from './kernel-models/silero-vad-model';

/** One kernel model, loaded: synchronous run over host tensors. */
export interface KernelModel {
  readonly inputs: readonly TensorSignature[];
  readonly outputs: readonly TensorSignature[];
  run(inputs: readonly HostTensor[]): HostTensor[];
  dispose(): void;
}

/** A kind of kernel model, recognized by its artifact file's suffix (e.g. `.centroids.npy`). */
export interface KernelModelKind {
  readonly kind: string;
  readonly fileSuffix: string;
  load(bytes: Uint8Array, model: ModelLoadRequest, options: KernelModelOptions): KernelModel;
}

/** What the backend passes every kernel model at load. */
export interface KernelModelOptions {
  /** Threads for kernels with a parallel path (distances, assignment, search); they split rows only above their measured work thresholds. */
  readonly threads: number;
}

/** Finds input `name` and checks it is FP32 [-1, d] (or [d] for one row); returns its rows. */
function matrixInput(inputs: readonly HostTensor[], name: string, d: number): { rows: number; data: Float32Array } {
  const t = inputs.find((i) => i.name === name);
  if (!t) throw new InvalidRequestError(`input '${name}' is missing (inputs given: ${inputs.map((i) => `'${i.name}'`).join(', ') || 'none'})`);
  if (t.datatype !== 'FP32' || !(t.data instanceof Float32Array)) throw new InvalidRequestError(`input '${name}': expected datatype FP32, got ${t.datatype}`);
  const shape = t.shape.length === 1 ? [1, t.shape[0]!] : t.shape;
  if (shape.length !== 2 || shape[1] !== d) throw new InvalidRequestError(`input '${name}': expected shape [-1,${d}], got [${t.shape.join(',')}]`);
  for (let i = 0; i < t.data.length; i++) {
    if (!Number.isFinite(t.data[i]!)) throw new InvalidRequestError(`input '${name}': element ${i} is ${t.data[i]}; values must be finite`);
  }
  return { rows: shape[0]!, data: t.data };
}

/** k-means assignment: nearest centroid (squared L2) of each row. Artifact: float32 .npy [K, D] of centroids. */
export const kmeansAssignKind: KernelModelKind = {
  kind: 'kmeans-assign',
  fileSuffix: '.centroids.npy',
  load(bytes, model, options) {
    const { shape, data } = readNpy(bytes);
    if (shape.length !== 2 || shape[0]! < 1 || shape[1]! < 1) throw new ModelVerificationError(`model '${model.name}': centroids must be a [K, D] matrix, got (${shape.join(', ')})`);
    if (!data.every(Number.isFinite)) throw new ModelVerificationError(`model '${model.name}': centroids contain non-finite values`);
    const d = shape[1]!;
    const kernels = distanceKernels({ threads: options.threads });
    return {
      inputs: [{ name: 'vectors', datatype: 'FP32', shape: [-1, d] }],
      outputs: [
        { name: 'label', datatype: 'INT32', shape: [-1] },
        { name: 'distance', datatype: 'FP32', shape: [-1] },
      ],
      run(inputs) {
        const { rows, data: x } = matrixInput(inputs, 'vectors', d);
        const { labels, distances } = kernels.assignNearest(x, data, d);
        return [
          { name: 'label', datatype: 'INT32', shape: [rows], data: labels },
          { name: 'distance', datatype: 'FP32', shape: [rows], data: distances },
        ];
      },
      dispose() {},
    };
  },
};

/** Exact nearest-neighbour search over a flat index (kernels/distances/flat-index-artifact.ts). Optional input `k` (INT32 [1]). */
export const nearestNeighborsKind: KernelModelKind = {
  kind: 'nearest-neighbors',
  fileSuffix: '.flat-index.bin',
  load(bytes, model, options) {
    let artifact;
    try {
      artifact = decodeFlatIndex(bytes);
    } catch (cause) {
      throw new ModelVerificationError(`model '${model.name}': ${(cause as Error).message}`, cause);
    }
    const { d, rows, metric, defaultK, vectors } = artifact;
    const index = new FlatNearestNeighborIndex(vectors, d, metric, { threads: options.threads });
    return {
      inputs: [{ name: 'queries', datatype: 'FP32', shape: [-1, d] }],
      outputs: [
        { name: 'indices', datatype: 'INT32', shape: [-1, -1] },
        { name: 'scores', datatype: 'FP32', shape: [-1, -1] },
      ],
      run(inputs) {
        const { rows: m, data } = matrixInput(inputs, 'queries', d);
        const kTensor = inputs.find((i) => i.name === 'k');
        let k = defaultK;
        if (kTensor) {
          const v = Number((kTensor.data as ArrayLike<number | bigint>)[0]);
          const max = Math.min(MAX_TOP_K, rows);
          if (!Number.isInteger(v) || v < 1 || v > max) throw new InvalidRequestError(`input 'k': expected an integer in [1, ${max}], got ${v}`);
          k = v;
        }
        const { indices, values } = index.search(data, k);
        return [
          { name: 'indices', datatype: 'INT32', shape: [m, k], data: indices },
          { name: 'scores', datatype: 'FP32', shape: [m, k], data: values },
        ];
      },
      dispose() {
        index.dispose();
      },
    };
  },
};

/** The kernel models this backend serves as `hotpath_kernel` models, by artifact suffix. */
export const KERNEL_MODEL_KINDS: readonly KernelModelKind[] = [kmeansAssignKind, nearestNeighborsKind, silenceDetectorKind];

/** The artifact suffix of a kernel executor's plans: manifest `kernel.file` ends with it (`model.feed-forward.bin`). */
export function kernelPlanSuffix(executor: string): string {
  return `.${executor}.bin`;
}

/**
 * Kernel executors by name: each runs the kernel plans (manifest `kernel`) the models-layer
 * build wrote for ONNX graphs it proved the executor can run. Adding an executor is one
 * registerKernelExecutor call; its `fileSuffix` must be kernelPlanSuffix(its kind).
 */
const KERNEL_EXECUTORS = new Map<string, KernelModelKind>();

/**
 * Registers an executor for the kernel plans named `executor.kind` (replacing one of that name).
 *
 * @example
 * registerKernelExecutor({ kind: 'silero-vad-v5', fileSuffix: kernelPlanSuffix('silero-vad-v5'), load: loadSileroPlan });
 */
export function registerKernelExecutor(executor: KernelModelKind): void {
  if (executor.fileSuffix !== kernelPlanSuffix(executor.kind)) {
    throw new Error(`kernel executor '${executor.kind}': fileSuffix must be '${kernelPlanSuffix(executor.kind)}', got '${executor.fileSuffix}'`);
  }
  KERNEL_EXECUTORS.set(executor.kind, executor);
}

/** Whether an executor of this name is registered (the backend selection keeps a model on onnxruntime-web otherwise). */
export function hasKernelExecutor(name: string): boolean {
  return KERNEL_EXECUTORS.has(name);
}

/** The registered executors, in registration order. */
export function kernelExecutors(): readonly KernelModelKind[] {
  return [...KERNEL_EXECUTORS.values()];
}

registerKernelExecutor(feedForwardExecutor);
registerKernelExecutor(sileroVadExecutor);

/**
 * Serves our WASM kernels as models (platform `hotpath_kernel`, route `local-kernel`), and ONNX
 * models through the kernel plans the build proved for them (manifest `kernel`, chosen per model
 * by lib/serving/model-backend-selection.ts): the artifact's file suffix picks the kernel model
 * kind or the registered executor, so adding one is one entry.
 */
export class KernelBackend implements InferenceBackend {
  readonly route = 'local-kernel';
  readonly platforms = ['hotpath_kernel'] as const;

  /** SIMD level of the kernel builds this process runs (`relaxed-simd` on Node 22 unless HOTPATH_KERNEL_SIMD=simd). */
  get simdLevel(): KernelSimdLevel {
    return kernelSimdLevel();
  }
  readonly #kinds: readonly KernelModelKind[] | undefined;

  readonly #threads: number;

  /** `kinds` replaces the built-in kinds and the registered executors (tests); by default both, the registry read at each load. */
  constructor(kinds?: readonly KernelModelKind[], options: Partial<KernelModelOptions> = {}) {
    this.#kinds = kinds;
    this.#threads = options.threads ?? 1;
  }

  get #available(): readonly KernelModelKind[] {
    return this.#kinds ?? [...KERNEL_MODEL_KINDS, ...kernelExecutors()];
  }

  async init(): Promise<void> {
    distanceKernels();
  }

  async load(model: ModelLoadRequest): Promise<BackendSession> {
    const kinds = this.#available;
    const kind = kinds.find((k) => model.path.endsWith(k.fileSuffix));
    if (!kind) {
      throw new ModelVerificationError(
        `model '${model.name}': no kernel model kind for artifact ${model.path}; expected a file ending in ${kinds.map((k) => k.fileSuffix).join(', ')}`,
      );
    }
    const bytes = model.bytes ?? new Uint8Array(await readFile(model.path));
    const loaded = kind.load(bytes, model, { threads: this.#threads });
    return {
      inputs: loaded.inputs,
      outputs: loaded.outputs,
      async run(inputs, outputNames) {
        const outputs = loaded.run(inputs);
        if (!outputNames) return outputs;
        for (const name of outputNames) {
          if (!outputs.some((o) => o.name === name)) throw new InvalidRequestError(`output '${name}' does not exist; model '${model.name}' has ${outputs.map((o) => `'${o.name}'`).join(', ')}`);
        }
        return outputs.filter((o) => outputNames.includes(o.name));
      },
      async dispose() {
        loaded.dispose();
      },
    };
  }

  async dispose(): Promise<void> {}
}
