import { bytesPerElement, storedToJson } from './datatypes';
import type { HostTensor, NumericTensorData } from './tensor';

export interface InferResponseParts {
  readonly modelName: string;
  readonly modelVersion: string;
  readonly id?: string;
  readonly parameters?: Readonly<Record<string, unknown>>;
  readonly outputs: readonly HostTensor[];
  /** Names of outputs to send in Triton's binary encoding. */
  readonly binaryOutputs: ReadonlySet<string>;
}

export interface EncodedInferResponse {
  readonly body: Buffer;
  readonly contentType: string;
  /** Set when the body carries binary outputs: the length of the JSON header in front of them. */
  readonly inferenceHeaderContentLength?: number;
}

/**
 * Encodes an infer response as JSON, or as Triton's binary extension when any output is
 * asked for in binary: the JSON header, then each binary output's raw little-endian bytes in
 * output order, with `parameters.binary_data_size` on each of them.
 */
export function encodeInferResponse(parts: InferResponseParts): EncodedInferResponse {
  const binaryChunks: Uint8Array[] = [];
  const outputs = parts.outputs.map((tensor) => {
    if (parts.binaryOutputs.has(tensor.name)) {
      const chunk = tensorBytes(tensor);
      binaryChunks.push(chunk);
      return { name: tensor.name, datatype: tensor.datatype, shape: tensor.shape, parameters: { binary_data_size: chunk.byteLength } };
    }
    return { name: tensor.name, datatype: tensor.datatype, shape: tensor.shape, data: jsonData(tensor) };
  });
  const header = Buffer.from(
    JSON.stringify({
      model_name: parts.modelName,
      model_version: parts.modelVersion,
      ...(parts.id !== undefined ? { id: parts.id } : {}),
      ...(parts.parameters ? { parameters: parts.parameters } : {}),
      outputs,
    }),
  );
  if (binaryChunks.length === 0) return { body: header, contentType: 'application/json' };
  return {
    body: Buffer.concat([header, ...binaryChunks]),
    contentType: 'application/octet-stream',
    inferenceHeaderContentLength: header.byteLength,
  };
}

function jsonData(tensor: HostTensor): unknown[] {
  const { data, datatype } = tensor;
  if (Array.isArray(data)) return data.map((bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  if (datatype === 'FP32' || datatype === 'FP64') {
    // Finite floats serialize as they are; the rare non-finite ones become "NaN"/"Infinity" strings (JSON has no literal).
    const floats = data as Float32Array | Float64Array;
    const out = new Array<number | string | boolean>(floats.length);
    for (let i = 0; i < floats.length; i++) {
      const v = floats[i]!;
      out[i] = Number.isFinite(v) ? v : storedToJson(datatype, v);
    }
    return out;
  }
  const numeric = data as NumericTensorData;
  const out = new Array<number | string | boolean>(numeric.length);
  for (let i = 0; i < numeric.length; i++) out[i] = storedToJson(datatype, numeric[i]!);
  return out;
}

/** The raw bytes of a tensor in Triton's binary encoding (BYTES: 4-byte little-endian length + bytes per element). */
export function tensorBytes(tensor: HostTensor): Uint8Array {
  const { data } = tensor;
  if (Array.isArray(data)) {
    const total = data.reduce((sum, element) => sum + 4 + element.byteLength, 0);
    const out = new Uint8Array(total);
    const view = new DataView(out.buffer);
    let offset = 0;
    for (const element of data) {
      view.setUint32(offset, element.byteLength, true);
      out.set(element, offset + 4);
      offset += 4 + element.byteLength;
    }
    return out;
  }
  const numeric = data as NumericTensorData;
  return new Uint8Array(numeric.buffer, numeric.byteOffset, numeric.length * bytesPerElement(tensor.datatype)!);
}
