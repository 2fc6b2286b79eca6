import { InvalidRequestError } from '../errors/hotpath-error';
import { decodeInferRequest } from '../protocol/infer-request-decoder';
import { encodeInferResponse, type EncodedInferResponse } from '../protocol/infer-response-encoder';
import { resolveRequestedOutputs, validateInferInputs } from '../protocol/tensor-validation';
import type { ModelRegistry, RegisteredModel } from '../models/model-registry';
import type { StageTimings } from '../telemetry/stage-timings';

export interface InferCall {
  readonly modelName: string;
  readonly version?: string;
  /** The request body: bytes, or the text as the transport delivered it (see decodeInferRequest). */
  readonly body: Uint8Array | string;
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
}

export interface InferResult {
  readonly encoded: EncodedInferResponse;
  readonly model: RegisteredModel;
  readonly route: string;
  readonly batchSize: number;
}

/**
 * One inference: decode the body into typed arrays, validate against the model's signature,
 * run the model's session, encode the outputs (JSON or binary, as asked). Each stage is timed.
 */
export async function runInference(registry: ModelRegistry, call: InferCall, timings: StageTimings): Promise<InferResult> {
  const model = registry.findReady(call.modelName, call.version);
  const { manifest, state } = model;
  const request = timings.timeSync('decode', () => {
    const decoded = decodeInferRequest(call.body, call.headers);
    validateInferInputs(manifest, decoded.inputs);
    return decoded;
  });
  const outputNames = resolveRequestedOutputs(manifest, request.outputs);
  const outputs = await timings.time('infer', () => state.session.run(request.inputs, outputNames));
  const binaryOutputs = new Set(
    request.outputs ? request.outputs.filter((o) => o.binary).map((o) => o.name) : request.binaryOutputsByDefault ? outputNames : [],
  );
  const encoded = timings.timeSync('encode', () =>
    encodeInferResponse({
      modelName: manifest.name,
      modelVersion: manifest.version,
      id: request.id,
      parameters: { route: state.backend.route },
      outputs,
      binaryOutputs,
    }),
  );
  return { encoded, model, route: state.backend.route, batchSize: batchSizeOf(manifest.inputs[0]?.shape, request.inputs[0]?.shape) };
}

/** The first dim of the first input when the model declares it variable (a batch), else 1. */
function batchSizeOf(declared: readonly number[] | undefined, given: readonly number[] | undefined): number {
  if (!declared || !given || given.length === 0) return 1;
  if (declared[0] !== -1) return 1;
  const batch = given[0]!;
  if (!Number.isInteger(batch)) throw new InvalidRequestError('batch dimension must be an integer');
  return batch;
}
