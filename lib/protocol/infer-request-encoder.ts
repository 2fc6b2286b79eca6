import { storedToJson } from './datatypes';
import type { HostTensor, NumericTensorData } from './tensor';
import { tensorBytes } from './infer-response-encoder';

export interface EncodedInferRequest {
  readonly body: Buffer;
  readonly headers: Record<string, string>;
}

/**
 * Encodes an infer request, the client side of the protocol: as JSON, or with every input
 * in Triton's binary extension (`binary: true`). Used by tests, benchmarks and any client
 * of an Open Inference Protocol server (our GPU task or Triton).
 */
export function encodeInferRequest(
  inputs: readonly HostTensor[],
  options: {
    id?: string;
    /** Request parameters (`timeout` in µs, `binary_data_output`, ...): string, number or boolean values, as the protocol allows. */
    parameters?: Readonly<Record<string, string | number | boolean>>;
    outputs?: readonly { name: string; binary?: boolean }[];
    binary?: boolean;
  } = {},
): EncodedInferRequest {
  const outputs = options.outputs?.map((o) => ({ name: o.name, ...(o.binary !== undefined ? { parameters: { binary_data: o.binary } } : {}) }));
  const base = {
    ...(options.id !== undefined ? { id: options.id } : {}),
    ...(options.parameters !== undefined ? { parameters: options.parameters } : {}),
    ...(outputs ? { outputs } : {}),
  };
  if (!options.binary) {
    const json = inputs.map((t) => ({ name: t.name, shape: t.shape, datatype: t.datatype, data: jsonElements(t) }));
    return { body: Buffer.from(JSON.stringify({ ...base, inputs: json })), headers: { 'content-type': 'application/json' } };
  }
  const chunks = inputs.map((t) => tensorBytes(t));
  const header = Buffer.from(JSON.stringify({
    ...base,
    inputs: inputs.map((t, i) => ({ name: t.name, shape: t.shape, datatype: t.datatype, parameters: { binary_data_size: chunks[i]!.byteLength } })),
  }));
  return {
    body: Buffer.concat([header, ...chunks]),
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.byteLength) },
  };
}

function jsonElements(tensor: HostTensor): unknown[] {
  if (Array.isArray(tensor.data)) return tensor.data.map((b) => Buffer.from(b).toString('utf8'));
  const data = tensor.data as NumericTensorData;
  const out = new Array<unknown>(data.length);
  for (let i = 0; i < data.length; i++) out[i] = storedToJson(tensor.datatype, data[i]!);
  return out;
}
