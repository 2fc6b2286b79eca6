import type * as OrtCommon from 'onnxruntime-common';
import { HotpathError } from '../errors/hotpath-error';
import type { HostTensor, OipDatatype, TensorData } from '../protocol/tensor';
import type { BackendSession } from './inference-backend';
import type { TensorSignature } from '../protocol/tensor';

/** The part of onnxruntime's API (web and node both implement onnxruntime-common) the adapters use. */
export type OrtModule = Pick<typeof OrtCommon, 'Tensor' | 'InferenceSession' | 'env'>;

const OIP_TO_ORT: Record<OipDatatype, OrtCommon.Tensor.Type> = {
  BOOL: 'bool', UINT8: 'uint8', UINT16: 'uint16', UINT32: 'uint32', UINT64: 'uint64',
  INT8: 'int8', INT16: 'int16', INT32: 'int32', INT64: 'int64',
  FP16: 'float16', FP32: 'float32', FP64: 'float64', BYTES: 'string',
};
const ORT_TO_OIP = new Map<string, OipDatatype>(Object.entries(OIP_TO_ORT).map(([oip, ort]) => [ort, oip as OipDatatype]));

/** Symbolic dims come back as strings (onnxruntime-node) or as 2^32-1 (onnxruntime-web): both are -1 in the protocol. */
function toProtocolDim(dim: number | string): number {
  return typeof dim === 'number' && Number.isInteger(dim) && dim >= 0 && dim < 2 ** 31 ? dim : -1;
}

export function toTensorSignatures(metadata: readonly OrtCommon.InferenceSession.ValueMetadata[]): TensorSignature[] {
  return metadata.map((value) => {
    if (!value.isTensor) throw new HotpathError(`value '${value.name}' is not a tensor; only tensor inputs and outputs are served`, { status: 503 });
    const datatype = ORT_TO_OIP.get(value.type);
    if (!datatype) throw new HotpathError(`value '${value.name}' has onnxruntime type '${value.type}', which the protocol cannot carry`, { status: 503 });
    return { name: value.name, datatype, shape: value.shape.map(toProtocolDim) };
  });
}

export function toOrtTensor(ort: OrtModule, tensor: HostTensor): OrtCommon.Tensor {
  const { data } = tensor;
  const ortData = Array.isArray(data) ? data.map((bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) : data;
  return new ort.Tensor(OIP_TO_ORT[tensor.datatype], ortData as never, tensor.shape as number[]);
}

export function fromOrtTensor(name: string, tensor: OrtCommon.Tensor): HostTensor {
  const datatype = ORT_TO_OIP.get(tensor.type);
  if (!datatype) throw new HotpathError(`output '${name}' has onnxruntime type '${tensor.type}', which the protocol cannot carry`, { status: 500 });
  const raw = tensor.data;
  const data: TensorData = datatype === 'BYTES'
    ? (raw as string[]).map((s) => new Uint8Array(Buffer.from(s, 'utf8')))
    : datatype === 'BOOL' && !(raw instanceof Uint8Array)
      ? Uint8Array.from(raw as ArrayLike<number>)
      : (raw as TensorData);
  return { name, datatype, shape: [...tensor.dims], data };
}

/**
 * Wraps an onnxruntime InferenceSession (web or node) as a BackendSession: HostTensors in,
 * HostTensors out, signatures read from the model file.
 */
export function adaptOrtSession(ort: OrtModule, session: OrtCommon.InferenceSession): BackendSession {
  return {
    inputs: toTensorSignatures(session.inputMetadata),
    outputs: toTensorSignatures(session.outputMetadata),
    async run(inputs, outputNames) {
      const feeds: Record<string, OrtCommon.Tensor> = {};
      for (const input of inputs) feeds[input.name] = toOrtTensor(ort, input);
      const results = outputNames ? await session.run(feeds, outputNames as string[]) : await session.run(feeds);
      const names = outputNames ?? session.outputNames;
      return names.map((name) => fromOrtTensor(name, results[name]!));
    },
    async dispose() {
      await session.release();
    },
  };
}
