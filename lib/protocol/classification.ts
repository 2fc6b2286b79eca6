import { InvalidRequestError } from '../errors/hotpath-error';
import { elementCount, type HostTensor, type NumericTensorData, type OipDatatype } from './tensor';

/**
 * Triton's classification extension, as Triton computes it (server src/http_server.cc, the
 * `class_cnt_ > 0` branch of the response writer, and src/classification.cc
 * `TopkClassifications`, triton-inference-server/server at e1db8a60):
 *
 * - Shape: for a model that batches (max_batch_size > 0) and an output with at least one dim,
 *   each of the `shape[0]` rows is classified over all its `shape[1..]` elements and the answer
 *   is `[shape[0], min(k, row elements)]`; otherwise the whole tensor is one row and the answer
 *   is `[min(k, elements)]`. So [B, C] → [B, k], [B, 1, C] → [B, k], never the output's own rank.
 * - k larger than a row is not an error: Triton answers `min(k, row elements)` classes.
 * - Order: highest value first (compared in the output's own type); Triton's std::sort leaves
 *   ties unordered, here ties keep the lower index first and NaN sorts last, so answers are
 *   deterministic.
 * - Text: `std::to_string(value) + ":" + std::to_string(index)`, then `":" + label` when the
 *   model has a non-empty label at that index (core src/infer_response.cc
 *   `ClassificationLabel`: an empty or missing label gives none). `std::to_string` of a float is
 *   `printf("%f")`: the exact binary value rounded to 6 decimals, ties to even
 *   ("0.970000", "-0.000000", "nan", "inf"); of an integer, its decimal digits ("10", "255").
 *   The extension document's own example ("3.3:1") is not what Triton writes ("3.300000:1").
 * - Datatypes: UINT8..64, INT8..64, FP32, FP64. BOOL, FP16 and BYTES are refused, as Triton
 *   refuses them ("class result not available for output due to unsupported type").
 * - At most 1,000,000 elements per row ("classification output tensor too large").
 *
 * The answer is a BYTES tensor of the same name, each element the UTF-8 of one such string.
 *
 * @param classCount k, the `classification` parameter of the requested output (an integer ≥ 1;
 *   0 means "no classification" and is the caller's to skip)
 * @param labels the model's labels for this output (manifest `labels[outputName]`), by index
 * @param options `batched`: the model has a batch dimension (manifest maxBatchSize > 0); default true
 *
 * @example
 * classifyOutput({ name: 'probabilities', datatype: 'FP32', shape: [1, 3], data: Float32Array.of(0.1, 0.7, 0.2) }, 2, ['setosa', 'versicolor', 'virginica'])
 * // → { name: 'probabilities', datatype: 'BYTES', shape: [1, 2], data: ["0.700000:1:versicolor", "0.200000:2:virginica"] as UTF-8 }
 */
export function classifyOutput(
  tensor: HostTensor,
  classCount: number,
  labels?: readonly string[],
  options: { readonly batched?: boolean } = {},
): HostTensor {
  if (!Number.isInteger(classCount) || classCount < 1) {
    throw new InvalidRequestError(`output '${tensor.name}': the classification count must be an integer of at least 1, got ${classCount}`);
  }
  if (!CLASSIFIABLE.has(tensor.datatype)) {
    throw new InvalidRequestError(
      `output '${tensor.name}': classification needs a numeric output (UINT8..UINT64, INT8..INT64, FP32, FP64); this output is ${tensor.datatype}. Ask for it without "classification"`,
    );
  }
  const batched = (options.batched ?? true) && tensor.shape.length > 0 && tensor.shape[0]! > 0;
  const rows = batched ? tensor.shape[0]! : 1;
  const perRow = batched ? elementCount(tensor.shape.slice(1)) : elementCount(tensor.shape);
  if (perRow > MAX_CLASSIFICATION_ELEMENTS) {
    throw new InvalidRequestError(
      `output '${tensor.name}': classification over ${perRow} elements per row is past the limit of ${MAX_CLASSIFICATION_ELEMENTS}`,
    );
  }
  const k = Math.min(classCount, perRow);
  const data = tensor.data as NumericTensorData;
  const isNaNAt = nanTest(tensor.datatype, data);
  const encoder = new TextEncoder();
  const out: Uint8Array[] = [];
  for (let row = 0; row < rows; row++) {
    const base = row * perRow;
    for (const index of topIndices(data, base, perRow, k, isNaNAt)) {
      const label = labels?.[index];
      const score = formatScore(tensor.datatype, data, base + index);
      out.push(encoder.encode(label ? `${score}:${index}:${label}` : `${score}:${index}`));
    }
  }
  return { name: tensor.name, datatype: 'BYTES', shape: batched ? [rows, k] : [k], data: out };
}

const CLASSIFIABLE: ReadonlySet<OipDatatype> = new Set(['UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP32', 'FP64']);
const MAX_CLASSIFICATION_ELEMENTS = 1_000_000;

/** Below this k a partial insertion (k·n) beats sorting the row (n·log n) on rows of up to ~1000 classes. */
const INSERTION_TOP_K_LIMIT = 16;

/** The k indices (relative to `base`) of the highest values of one row, highest first, ties by index, NaN last. */
function topIndices(data: NumericTensorData, base: number, n: number, k: number, isNaNAt: (i: number) => boolean): number[] {
  // a ranks before b: a is not NaN and (b is NaN, or a > b, or equal and a's index is lower).
  const before = (a: number, b: number): boolean => {
    const nanA = isNaNAt(base + a);
    const nanB = isNaNAt(base + b);
    if (nanA || nanB) return !nanA && nanB ? true : nanA && nanB ? a < b : false;
    const va = data[base + a]!;
    const vb = data[base + b]!;
    return va > vb || (va === vb && a < b);
  };
  if (k > INSERTION_TOP_K_LIMIT) {
    const all = Array.from({ length: n }, (_, i) => i);
    all.sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
    return all.slice(0, k);
  }
  const top: number[] = [];
  for (let i = 0; i < n; i++) {
    if (top.length === k && !before(i, top[k - 1]!)) continue;
    let at = top.length === k ? k - 1 : top.length;
    top[at] = i;
    while (at > 0 && before(top[at]!, top[at - 1]!)) {
      [top[at - 1], top[at]] = [top[at]!, top[at - 1]!];
      at--;
    }
  }
  return top;
}

function nanTest(datatype: OipDatatype, data: NumericTensorData): (i: number) => boolean {
  if (datatype !== 'FP32' && datatype !== 'FP64') return () => false;
  const floats = data as Float32Array | Float64Array;
  return (i) => Number.isNaN(floats[i]!);
}

function formatScore(datatype: OipDatatype, data: NumericTensorData, i: number): string {
  if (datatype === 'FP32' || datatype === 'FP64') return formatPrintfFixed6(data[i] as number, signBitAt(datatype, data, i));
  return String(data[i]);
}

/** The sign bit of element i read from its raw bits (a NaN's sign does not survive a JS number). */
function signBitAt(datatype: 'FP32' | 'FP64', data: NumericTensorData, i: number): boolean {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const width = datatype === 'FP32' ? 4 : 8;
  return (bytes[i * width + width - 1]! & 0x80) !== 0;
}

const SCALE = 1_000_000n;

/**
 * glibc `printf("%f", x)`: the exact decimal value of the double rounded to 6 fractional
 * digits, exact ties to even; "nan"/"-nan", "inf"/"-inf"; a negative zero keeps its sign.
 * (`Number.prototype.toFixed` rounds exact ties up instead, e.g. 1/128 → "0.007813" where
 * printf writes "0.007812".)
 */
export function formatPrintfFixed6(x: number, negative = x < 0 || Object.is(x, -0)): string {
  const sign = negative ? '-' : '';
  if (Number.isNaN(x)) return `${sign}nan`;
  if (!Number.isFinite(x)) return `${sign}inf`;
  const bits = new DataView(new ArrayBuffer(8));
  bits.setFloat64(0, Math.abs(x));
  const raw = bits.getBigUint64(0);
  const exponentBits = Number((raw >> 52n) & 0x7ffn);
  const fraction = raw & ((1n << 52n) - 1n);
  const mantissa = exponentBits === 0 ? fraction : fraction | (1n << 52n);
  const exponent = exponentBits === 0 ? -1074 : exponentBits - 1075;
  let scaled: bigint;
  if (exponent >= 0) {
    scaled = (mantissa << BigInt(exponent)) * SCALE;
  } else {
    const numerator = mantissa * SCALE;
    const denominator = 1n << BigInt(-exponent);
    scaled = numerator / denominator;
    const twiceRemainder = (numerator % denominator) * 2n;
    if (twiceRemainder > denominator || (twiceRemainder === denominator && (scaled & 1n) === 1n)) scaled += 1n;
  }
  const digits = scaled.toString().padStart(7, '0');
  return `${sign}${digits.slice(0, -6)}.${digits.slice(-6)}`;
}
