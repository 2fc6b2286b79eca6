import type { BackendRunOptions, BackendSession, InferenceBackend, ModelLoadRequest } from '../backends/inference-backend';
import { DeadlineExceededError, HotpathError, ModelVerificationError, RequestAbortedError, ServerBusyError } from '../errors/hotpath-error';
import type { DynamicBatchingSettings, ManifestModel, ModelManifest } from '../models/model-manifest-types';
import type { HostTensor, TensorData, TensorSignature } from '../protocol/tensor';

/** What a batcher needs to know of its model. */
export interface DynamicBatcherOptions {
  /** `name@version`, for messages. */
  readonly label: string;
  readonly maxBatchSize: number;
  readonly settings: DynamicBatchingSettings;
  /** The model's outputs in order: the union a batch computes when its requests asked for different ones. */
  readonly outputs: readonly TensorSignature[];
  /** Called after every batch ran (or failed): its rows, its requests and how long its oldest request waited (metrics, tests). */
  readonly onBatch?: (batch: { readonly rows: number; readonly requests: number; readonly oldestWaitMs: number; readonly runMs: number }) => void;
}

/** One request waiting in the queue. */
interface Pending {
  readonly inputs: readonly HostTensor[];
  readonly outputNames: readonly string[] | undefined;
  readonly rows: number;
  /** Requests are batched only with requests of the same key: datatypes and non-batch dims of every input. */
  readonly key: string;
  readonly enqueued: number;
  /** Rejected with 504 once the clock passes it, if it has not run yet. */
  readonly deadline: number;
  readonly deadlineIsDefault: boolean;
  readonly signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  readonly resolve: (outputs: HostTensor[]) => void;
  readonly reject: (error: unknown) => void;
}

let soloKeys = 0;

/**
 * Why a model cannot be batched along its first dim, or undefined when it can: every input and
 * output must have a variable (-1) first dim, which the batch concatenates and splits.
 */
export function batchingRefusal(model: Pick<ManifestModel, 'inputs' | 'outputs' | 'maxBatchSize'>): string | undefined {
  if (model.maxBatchSize < 1) return 'maxBatchSize is 0 (no batch dim)';
  for (const [kind, list] of [['input', model.inputs], ['output', model.outputs]] as const) {
    const fixed = list.find((s) => s.shape.length === 0 || s.shape[0] !== -1);
    if (fixed) return `${kind} '${fixed.name}' has shape ${JSON.stringify(fixed.shape)}, no batch dim first (-1) to concatenate and split along`;
  }
  return undefined;
}

/**
 * A BackendSession that queues runs and executes them concatenated along the batch dim, with
 * Triton's dynamic batcher semantics: one batch runs at a time; the next forms from the head of
 * the queue, requests of the same datatypes and non-batch dims only, up to the largest preferred
 * batch size (maxBatchSize when none are given). It goes at once when it is full, when the next
 * request differs, or when a preferred size formed; otherwise it waits until its oldest request
 * has been queued `maxQueueDelayMicroseconds`. Past `maxQueueSize` queued requests a run is refused
 * (503 "exceeds maximum queue size", Retry-After); a request whose deadline (or
 * `defaultTimeoutMicroseconds`) passes in the queue, or whose signal aborts, leaves it and never
 * runs. Each request gets exactly its own rows of every output, or the batch's error, once.
 *
 * @example
 * const batched = createDynamicBatcher(session, { label: 'mlp-small@1', maxBatchSize: 256, settings: { maxQueueDelayMicroseconds: 2000 }, outputs: manifest.outputs });
 * const [output] = await batched.run([{ name: 'input', datatype: 'FP32', shape: [1, 256], data }]);
 */
export function createDynamicBatcher(session: BackendSession, options: DynamicBatcherOptions): BackendSession {
  const { label, settings } = options;
  const preferred = new Set(settings.preferredBatchSizes ?? []);
  const limit = preferred.size > 0 ? Math.max(...preferred) : options.maxBatchSize;
  const delayMs = settings.maxQueueDelayMicroseconds / 1000;
  const defaultTimeoutMs = (settings.defaultTimeoutMicroseconds ?? 0) / 1000;
  const maxQueueSize = settings.maxQueueSize ?? 0;
  const allOutputs = options.outputs.map((o) => o.name);
  const queue: Pending[] = [];
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let timerAt = Infinity;
  let batchMsAverage = 0;
  let disposed = false;

  function enqueue(inputs: readonly HostTensor[], outputNames: readonly string[] | undefined, runOptions: BackendRunOptions): Promise<HostTensor[]> {
    const { signal } = runOptions;
    if (disposed) return Promise.reject(new ServerBusyError(`model '${label}' is shutting down; retry on another instance`, 1));
    if (signal?.aborted) return Promise.reject(new RequestAbortedError());
    const now = performance.now();
    const rows = inputs[0]?.shape[0] ?? 0;
    if (maxQueueSize > 0 && queue.length >= maxQueueSize) {
      const retryAfter = Math.max(1, Math.ceil(((queue.length / Math.max(1, limit)) + 1) * batchMsAverage / 1000));
      return Promise.reject(new ServerBusyError(
        `model '${label}': request exceeds maximum queue size (${maxQueueSize} requests queued, manifest dynamicBatching.maxQueueSize); retry after ${retryAfter} s`, retryAfter,
      ));
    }
    const ownDeadline = runOptions.deadline ?? Infinity;
    const defaultDeadline = defaultTimeoutMs > 0 ? now + defaultTimeoutMs : Infinity;
    return new Promise<HostTensor[]>((resolve, reject) => {
      const pending: Pending = {
        inputs, outputNames, rows, key: batchKey(inputs), enqueued: now,
        deadline: Math.min(ownDeadline, defaultDeadline), deadlineIsDefault: defaultDeadline < ownDeadline,
        signal, onAbort: undefined, resolve, reject,
      };
      if (signal) {
        pending.onAbort = () => {
          const at = queue.indexOf(pending);
          if (at === -1) return;
          queue.splice(at, 1);
          reject(new RequestAbortedError());
          schedule();
        };
        signal.addEventListener('abort', pending.onAbort, { once: true });
      }
      queue.push(pending);
      schedule();
    });
  }

  /** Requests of one key only, in arrival order; a request whose inputs disagree on the batch dim runs alone. */
  function batchKey(inputs: readonly HostTensor[]): string {
    const rows = inputs[0]?.shape[0];
    if (inputs.some((t) => t.shape.length === 0 || t.shape[0] !== rows)) return `solo:${soloKeys++}`;
    return [...inputs].sort((a, b) => (a.name < b.name ? -1 : 1)).map((t) => `${t.name}:${t.datatype}:${t.shape.slice(1).join('x')}`).join('|');
  }

  function leave(pending: Pending): void {
    if (pending.onAbort) pending.signal!.removeEventListener('abort', pending.onAbort);
  }

  function expire(now: number): void {
    for (let i = queue.length - 1; i >= 0; i--) {
      const pending = queue[i]!;
      if (pending.deadline > now) continue;
      queue.splice(i, 1);
      leave(pending);
      const waited = Math.round(now - pending.enqueued);
      pending.reject(new DeadlineExceededError(pending.deadlineIsDefault
        ? `model '${label}': the request waited ${waited} ms in the dynamic batcher's queue, past its default timeout (manifest dynamicBatching.defaultTimeoutMicroseconds ${settings.defaultTimeoutMicroseconds}); it never ran. Retry, or send parameters.timeout (µs)`
        : `model '${label}': the request's deadline passed after ${waited} ms in the dynamic batcher's queue; it never ran. Raise parameters.timeout (µs) or retry when the server is less busy`));
    }
  }

  /** How many requests from the head go now, or when to look again (Triton's GetDynamicBatch). */
  function nextBatch(now: number): { count: number } | { wakeAt: number } {
    const head = queue[0]!;
    let rows = 0;
    let count = 0;
    let bestPreferred = 0;
    let sendNow = false;
    for (const pending of queue) {
      if (count > 0 && (rows + pending.rows > limit || pending.key !== head.key)) {
        sendNow = true;
        break;
      }
      rows += pending.rows;
      count++;
      if (preferred.has(rows)) bestPreferred = count;
    }
    const delayExceeded = delayMs > 0 && now - head.enqueued >= delayMs;
    if (bestPreferred > 0 && !delayExceeded) return { count: bestPreferred };
    if (sendNow || rows >= limit || delayExceeded || delayMs === 0) return { count };
    return { wakeAt: head.enqueued + delayMs };
  }

  function schedule(): void {
    if (disposed) return;
    const now = performance.now();
    expire(now);
    let wakeAt = Infinity;
    if (!running && queue.length > 0) {
      const next = nextBatch(now);
      if ('count' in next) dispatch(queue.splice(0, next.count), now);
      else wakeAt = next.wakeAt;
    }
    for (const pending of queue) wakeAt = Math.min(wakeAt, pending.deadline);
    arm(wakeAt, now);
  }

  function arm(wakeAt: number, now: number): void {
    if (wakeAt === timerAt) return;
    if (timer) clearTimeout(timer);
    timer = undefined;
    timerAt = wakeAt;
    if (wakeAt === Infinity) return;
    timer = setTimeout(() => {
      timer = undefined;
      timerAt = Infinity;
      schedule();
    }, Math.max(0, wakeAt - now));
  }

  function dispatch(batch: Pending[], now: number): void {
    for (const pending of batch) leave(pending);
    const started = performance.now();
    running = runBatch(batch).finally(() => {
      const runMs = performance.now() - started;
      batchMsAverage = batchMsAverage === 0 ? runMs : 0.8 * batchMsAverage + 0.2 * runMs;
      running = undefined;
      options.onBatch?.({ rows: batch.reduce((n, p) => n + p.rows, 0), requests: batch.length, oldestWaitMs: now - batch[0]!.enqueued, runMs });
      schedule();
    });
  }

  async function runBatch(batch: Pending[]): Promise<void> {
    if (batch.length === 1) {
      const [only] = batch;
      try {
        only!.resolve(await session.run(only!.inputs, only!.outputNames));
      } catch (error) {
        only!.reject(error);
      }
      return;
    }
    const names = batch.some((p) => p.outputNames === undefined) ? allOutputs : allOutputs.filter((name) => batch.some((p) => p.outputNames!.includes(name)));
    let split: HostTensor[][];
    try {
      const outputs = await session.run(concatenate(batch), names);
      split = splitOutputs(outputs, batch);
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    for (const [index, pending] of batch.entries()) {
      const byName = new Map(split[index]!.map((t) => [t.name, t]));
      pending.resolve((pending.outputNames ?? allOutputs).map((name) => byName.get(name)!));
    }
  }

  function splitOutputs(outputs: readonly HostTensor[], batch: readonly Pending[]): HostTensor[][] {
    const total = batch.reduce((n, p) => n + p.rows, 0);
    const bad = outputs.find((t) => t.shape[0] !== total);
    if (bad) {
      throw new HotpathError(`model '${label}': output '${bad.name}' has shape ${JSON.stringify(bad.shape)} for a batch of ${total} rows, so it cannot be split back per request; remove dynamicBatching from its manifest entry`, { status: 500 });
    }
    const perRequest: HostTensor[][] = batch.map(() => []);
    for (const tensor of outputs) {
      const rowSize = total === 0 ? 0 : tensor.data.length / total;
      let offset = 0;
      for (const [index, pending] of batch.entries()) {
        perRequest[index]!.push({ name: tensor.name, datatype: tensor.datatype, shape: [pending.rows, ...tensor.shape.slice(1)], data: rowsOf(tensor.data, offset * rowSize, (offset + pending.rows) * rowSize) });
        offset += pending.rows;
      }
    }
    return perRequest;
  }

  return {
    get inputs() {
      return session.inputs;
    },
    get outputs() {
      return session.outputs;
    },
    get executionProvider() {
      return session.executionProvider;
    },
    run(inputs, outputNames, runOptions = {}) {
      return enqueue(inputs, outputNames, runOptions);
    },
    async dispose() {
      disposed = true;
      if (timer) clearTimeout(timer);
      for (const pending of queue.splice(0)) {
        leave(pending);
        pending.reject(new ServerBusyError(`model '${label}' is shutting down; retry on another instance`, 1));
      }
      await running;
      await session.dispose();
    },
  };
}

/** The batch's inputs: each input's requests concatenated along dim 0, in queue order. */
function concatenate(batch: readonly Pending[]): HostTensor[] {
  return batch[0]!.inputs.map((first) => {
    const parts = batch.map((p) => p.inputs.find((t) => t.name === first.name)!);
    const rows = parts.reduce((n, t) => n + t.shape[0]!, 0);
    const shape = [rows, ...first.shape.slice(1)];
    if (Array.isArray(first.data)) return { name: first.name, datatype: first.datatype, shape, data: parts.flatMap((t) => t.data as Uint8Array[]) };
    const Storage = first.data.constructor as new (length: number) => Exclude<TensorData, Uint8Array[]>;
    const data = new Storage(parts.reduce((n, t) => n + t.data.length, 0));
    let offset = 0;
    for (const part of parts) {
      (data as { set(source: ArrayLike<unknown>, offset: number): void }).set(part.data as ArrayLike<unknown>, offset);
      offset += part.data.length;
    }
    return { name: first.name, datatype: first.datatype, shape, data };
  });
}

/** Rows of an output as a view (numeric) or a slice (BYTES): no copy of the numbers. */
function rowsOf(data: TensorData, start: number, end: number): TensorData {
  return Array.isArray(data) ? data.slice(start, end) : data.subarray(start, end);
}

/**
 * The backend with a dynamic batcher on every session whose manifest entry has
 * `dynamicBatching`; other models' sessions are the backend's own. A model that asks for
 * batching and cannot be batched (batchingRefusal) is refused at load with the reason.
 */
export function withDynamicBatching(backend: InferenceBackend, manifest: ModelManifest, onBatch?: (model: string, batch: Parameters<NonNullable<DynamicBatcherOptions['onBatch']>>[0]) => void): InferenceBackend {
  return {
    route: backend.route,
    platforms: backend.platforms,
    init: () => backend.init(),
    ...(backend.startupDone ? { startupDone: () => backend.startupDone!() } : {}),
    dispose: () => backend.dispose(),
    async load(request: ModelLoadRequest): Promise<BackendSession> {
      const session = await backend.load(request);
      const entry = manifest.models.find((m) => m.name === request.name && m.version === request.version);
      if (!entry?.dynamicBatching) return session;
      const label = `${request.name}@${request.version}`;
      const refusal = batchingRefusal(entry);
      if (refusal !== undefined) {
        await session.dispose();
        throw new ModelVerificationError(`model '${label}': its manifest asks for dynamicBatching, which cannot apply: ${refusal}; remove dynamicBatching or give every input and output a batch dim first`);
      }
      return createDynamicBatcher(session, {
        label, maxBatchSize: entry.maxBatchSize, settings: entry.dynamicBatching, outputs: entry.outputs,
        ...(onBatch ? { onBatch: (batch) => onBatch(entry.name, batch) } : {}),
      });
    },
  };
}
