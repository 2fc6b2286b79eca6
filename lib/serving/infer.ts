import { DeadlineExceededError, HotpathError, InvalidRequestError, RequestAbortedError } from '../errors/hotpath-error';
import { runtimeFailureToRequestError } from '../errors/runtime-failure';
import type { ModelRegistry } from '../models/model-registry';
import { classifyOutput } from '../protocol/classification';
import type { HostTensor } from '../protocol/tensor';
import { resolveRequestedOutputs, validateInferInputs } from '../protocol/tensor-validation';
import { StageTimings } from '../telemetry/stage-timings';
import type { InferenceRouter, ReadyModel } from './inference-router';

/**
 * An output the caller wants; `parameters.classification` (what Triton's clients send) or
 * `parameters.class_count` (the name in Triton's extension document) asks for its top classes.
 */
export interface InferOutputRequest {
  readonly name: string;
  readonly parameters?: Readonly<Record<string, unknown>>;
}

/** One inference at tensor level: what every door (API Gateway, the OIP server, batch scoring, streaming) hands the core. */
export interface InferCall {
  readonly model: string;
  readonly version?: string;
  readonly id?: string;
  readonly inputs: readonly HostTensor[];
  /** Undefined or empty: every output of the model. */
  readonly outputs?: readonly InferOutputRequest[];
  /** Request parameters; `timeout` (µs, as Triton's) bounds the request on top of `deadline`. */
  readonly parameters?: Readonly<Record<string, unknown>>;
  /** Absolute deadline on the `performance.now()` clock (ms), set by the door (e.g. Lambda's remaining time). */
  readonly deadline?: number;
  /** Aborted when the caller goes away; the work is abandoned and nothing is answered. */
  readonly signal?: AbortSignal;
  /** Stage durations are appended here (validate, infer, postprocess); a new one when absent. */
  readonly timings?: StageTimings;
}

export interface InferAnswer {
  readonly model: ReadyModel;
  readonly id?: string;
  /** In the order asked for (the model's order when none were named). */
  readonly outputs: readonly HostTensor[];
  /** The route that ran the request (e.g. `local-wasm`). */
  readonly route: string;
  readonly batchSize: number;
  readonly timings: StageTimings;
}

/** What the core needs: the models and the router. A ServingRuntime is one. */
export interface InferenceCore {
  readonly registry: ModelRegistry;
  readonly router: InferenceRouter;
}

/**
 * The one inference function every door calls. Finds the ready model, checks the inputs
 * against its signature and constraints (before any runtime sees them), lets the router
 * run it within the deadline, and applies output post-processing (classification).
 * No HTTP in here: codecs and transports live at the doors.
 *
 * @example
 * const answer = await infer(runtime, { model: 'iris-classifier', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data }] });
 * answer.outputs[0].data; // Float32Array of probabilities; answer.route === 'local-wasm'
 */
export async function infer(core: InferenceCore, call: InferCall): Promise<InferAnswer> {
  const timings = call.timings ?? new StageTimings();
  const deadline = effectiveDeadline(call.deadline, call.parameters);
  const model = core.registry.findReady(call.model, call.version);
  const { manifest } = model;
  const outputNames = timings.timeSync('validate', () => {
    validateInferInputs(manifest, call.inputs);
    return resolveRequestedOutputs(manifest, call.outputs);
  });
  const classCounts = classCountsOf(call.outputs);
  const batchSize = batchSizeOf(manifest.inputs[0]?.shape, call.inputs.find((t) => t.name === manifest.inputs[0]?.name)?.shape);
  const { outputs, route } = await timings.time('infer', () =>
    withinDeadline(deadline, call.signal, `model '${manifest.name}'`, async () => {
      try {
        return await core.router.run({ model, inputs: call.inputs, outputNames, batchSize, options: { deadline, signal: call.signal } });
      } catch (error) {
        // Inputs that passed validation and still fail inside a session that passed its warm-up:
        // the input's fault (a 400 with the runtime's reason), not the server's.
        if (error instanceof HotpathError) throw error;
        throw runtimeFailureToRequestError(error, `${manifest.name}@${manifest.version}`);
      }
    }),
  );
  const answered = classCounts.size === 0
    ? outputs
    : timings.timeSync('classify', () => outputs.map((tensor) => {
      const k = classCounts.get(tensor.name);
      return k === undefined ? tensor : classifyOutput(tensor, k, manifest.labels?.[tensor.name], { batched: manifest.maxBatchSize > 0 });
    }));
  return { model, id: call.id, outputs: answered, route, batchSize, timings };
}

/** The earlier of the door's deadline and `parameters.timeout` (µs, Triton's unit) from now. */
function effectiveDeadline(deadline: number | undefined, parameters: InferCall['parameters']): number | undefined {
  const timeout = parameters?.timeout;
  if (timeout === undefined) return deadline;
  if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout <= 0) {
    throw new InvalidRequestError(`parameters.timeout must be a positive integer of microseconds, got ${JSON.stringify(timeout)}`);
  }
  const own = performance.now() + timeout / 1000;
  return deadline === undefined ? own : Math.min(deadline, own);
}

function classCountsOf(outputs: InferCall['outputs']): Map<string, number> {
  const counts = new Map<string, number>();
  for (const output of outputs ?? []) {
    const key = output.parameters?.classification !== undefined ? 'classification' : 'class_count';
    const k = output.parameters?.[key];
    if (k === undefined || k === 0) continue; // Triton: a count of 0 means "not a classification".
    if (typeof k !== 'number' || !Number.isInteger(k) || k < 0) {
      throw new InvalidRequestError(`output '${output.name}': parameters.${key} must be a non-negative integer (the number of top classes), got ${JSON.stringify(k)}`);
    }
    counts.set(output.name, k);
  }
  return counts;
}

/**
 * Runs `work` unless the deadline has passed or the caller is gone, and discards its result
 * when either happened while it ran: the caller gets a 504 (or nobody gets anything), never a
 * late answer. Stopping early is the backend's part, since it has the deadline and the signal
 * (a remote call aborts its fetch, a batcher drops a queued request); a local WASM run is
 * synchronous and cannot be interrupted anyway. No timer or abort listener per request: they
 * cost 8-40 µs of a ~90 µs iris-classifier inference (`npx tsx` loop over infer(), 20k runs).
 */
async function withinDeadline<T>(deadline: number | undefined, signal: AbortSignal | undefined, what: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  if (signal?.aborted) throw new RequestAbortedError();
  if (deadline !== undefined && started >= deadline) {
    throw new DeadlineExceededError(`${what}: the request's deadline passed before it could run; raise parameters.timeout (µs) or send a smaller batch`);
  }
  const result = await work();
  if (signal?.aborted) throw new RequestAbortedError();
  if (deadline !== undefined && performance.now() > deadline) {
    throw new DeadlineExceededError(
      `${what}: the request's deadline passed after ${Math.round(performance.now() - started)} ms of inference; the result was discarded. Raise parameters.timeout (µs) or send a smaller batch`,
    );
  }
  return result;
}

/** The first dim of the first input when the model declares it variable (a batch), else 1. */
function batchSizeOf(declared: readonly number[] | undefined, given: readonly number[] | undefined): number {
  if (!declared || !given || given.length === 0 || declared[0] !== -1) return 1;
  return given[0]!;
}
