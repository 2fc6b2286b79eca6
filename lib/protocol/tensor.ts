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

/**
 * Largest dim a request may declare: onnxruntime and typed arrays index with signed 32-bit
 * integers, and a bound here keeps element counts exact in a double.
 */
export const MAX_DIM = 2 ** 31 - 1;

/** Name, datatype and shape (-1 for a variable dimension) of one model input or output: what model metadata lists and requests are checked against. */
export interface TensorSignature {
  readonly name: string;
  readonly datatype: OipDatatype;
  readonly shape: readonly number[];
}

/** Number of elements of a shape ([] is a scalar: 1 element). For shapes already checked; see elementCountWithin for a request's. */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Number of elements of a request's shape (dims integers in [0, MAX_DIM]), or undefined when
 * it is over `limit` (the most elements the request's body can carry). A zero dim makes 0
 * wherever it is; otherwise the product stops as soon as it passes the limit, so it stays
 * exact and never overflows (as [1e10, 1e10] or [0, 1e300] would in plain multiplication).
 */
export function elementCountWithin(shape: readonly number[], limit: number): number | undefined {
  if (shape.includes(0)) return 0;
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (n > limit) return undefined;
  }
  return n;
}

/** The exact element count of a shape as decimal text, however large (for messages). */
export function elementCountText(shape: readonly number[]): string {
  return shape.reduce((n, d) => n * BigInt(d), 1n).toString();
}
