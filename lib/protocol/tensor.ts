/** Open Inference Protocol datatypes (KServe v2). */
export const OIP_DATATYPES = [
  'BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES',
] as const;
export type OipDatatype = (typeof OIP_DATATYPES)[number];

/** Typed storage for each numeric datatype. FP16 is kept as raw IEEE half bits (as onnxruntime does). BOOL is one byte per element. */
export type NumericTensorData =
  | Uint8Array | Uint16Array | Uint32Array | BigUint64Array
  | Int8Array | Int16Array | Int32Array | BigInt64Array
  | Float32Array | Float64Array;

/** BYTES elements are raw byte strings (UTF-8 text or binary blobs). */
export type TensorData = NumericTensorData | Uint8Array[];

/**
 * A runtime-agnostic tensor: row-major `data` of `shape`. This is what the protocol codecs
 * produce and consume and what every backend takes and returns; backends convert to their
 * own tensor types at their edge (often as a view, without copying).
 */
export interface HostTensor {
  readonly name: string;
  readonly datatype: OipDatatype;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

/** Number of elements of a shape ([] is a scalar: 1 element). */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
