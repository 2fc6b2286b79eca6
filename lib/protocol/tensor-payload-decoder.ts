import { InvalidRequestError } from '../errors/hotpath-error';
import { allocateNumeric, bytesPerElement, isOipDatatype, jsonElementToStored, numericView } from './datatypes';
import { MAX_DIM, elementCountText, elementCountWithin, type HostTensor, type NumericTensorData, type OipDatatype, type TensorData } from './tensor';

/**
 * The tensor decoding that infer requests (inputs, decoded by the server) and infer responses
 * (outputs, decoded by the client) share: Triton's binary data extension and JSON `data`, with
 * every bound checked before anything is allocated or viewed (each dim at most MAX_DIM, element
 * counts bounded by what the body carries, BYTES counts by size / 4 before any element view).
 * Each direction raises its own error class through `fail` and names its tensors by `role`.
 */

/** 'input': a request's tensors; 'output': a response's. Messages name a tensor `input 'x'` or `output 'x'`. */
export type TensorRole = 'input' | 'output';

export interface TensorPayloadContext {
  readonly role: TensorRole;
  /** The direction's error (400 for a request, 502 for an answer) with this message. */
  readonly fail: (message: string, cause?: unknown) => Error;
}

/** The header naming how many leading bytes of a binary-extension body are its JSON header. */
export const HEADER_LENGTH = 'inference-header-content-length';

/** Each BYTES element in the binary extension has a 4-byte length prefix, so a chunk carries at most size / 4 elements. */
const BYTES_PREFIX = 4;

const UTF8_ENCODER = new TextEncoder();

/**
 * What each direction words its own way: a request's messages say what to fix, an answer's say
 * what is wrong with it (both are quoted by callers and tests). The rest is worded once, by role.
 * `nestedData`: whether `data` may nest row-major arrays (requests) or must be flat (answers).
 */
interface RoleWording {
  readonly plural: string;
  readonly carrier: string;
  readonly nestedData: boolean;
  readonly notJson: (reason: string) => string;
  readonly notAnObject: string;
  readonly entryNotAnObject: (index: number) => string;
  readonly shapeNotDims: (name: string, shape: unknown) => string;
  readonly noData: (name: string) => string;
  readonly dataNotArray: (name: string) => string;
  readonly binarySizeNotInteger: (name: string, size: unknown) => string;
  readonly binarySizeMismatch: (name: string, shape: readonly number[], datatype: OipDatatype, neededBytes: string, size: number) => string;
  readonly bytesCountPastChunk: (name: string, shape: readonly number[], size: number) => string;
  readonly bytesElementPastChunk: (name: string, index: number, length: number) => string;
  readonly bytesLeftOver: (name: string, count: number, extra: number) => string;
  readonly bytesElementNotString: (name: string, index: number, value: unknown) => string;
  readonly binaryTotalMismatch: (binaryBytes: number, used: number) => string;
}

const WORDING: Record<TensorRole, RoleWording> = {
  input: {
    plural: 'inputs',
    carrier: 'request',
    nestedData: true,
    notJson: (reason) => `request body is not valid JSON: ${reason}`,
    notAnObject: 'request body must be a JSON object with "inputs"',
    entryNotAnObject: (index) => `inputs[${index}] must be an object with "name", "shape", "datatype" and "data"`,
    shapeNotDims: (name, shape) => `input '${name}': "shape" must be an array of non-negative integers, got ${JSON.stringify(shape)}`,
    noData: (name) => `input '${name}' has no "data"`,
    dataNotArray: (name) => `input '${name}': "data" must be an array (flat or nested, row-major)`,
    binarySizeNotInteger: (name) => `input '${name}': binary_data_size must be a non-negative integer`,
    binarySizeMismatch: (name, shape, datatype, neededBytes, size) =>
      `input '${name}': shape ${JSON.stringify(shape)} of ${datatype} needs ${neededBytes} bytes, binary_data_size is ${size}`,
    bytesCountPastChunk: (name, shape, size) =>
      `input '${name}': shape ${JSON.stringify(shape)} holds ${elementCountText(shape)} BYTES elements, but binary_data_size ${size} can carry at most ${Math.floor(size / BYTES_PREFIX)} (each has a ${BYTES_PREFIX}-byte length prefix)`,
    bytesElementPastChunk: (name, index) => `input '${name}': BYTES element ${index} runs past binary_data_size`,
    bytesLeftOver: (name, count, extra) => `input '${name}': shape holds ${count} BYTES elements but binary_data_size has ${extra} bytes more after them`,
    bytesElementNotString: (name, index) => `input '${name}': element ${index} must be a string for BYTES`,
    binaryTotalMismatch: (binaryBytes, used) => `the binary part of the body has ${binaryBytes} bytes but the inputs' binary_data_size add up to ${used}`,
  },
  output: {
    plural: 'outputs',
    carrier: 'answer',
    nestedData: false,
    notJson: (reason) => `the body is not valid JSON (${reason})`,
    notAnObject: 'the body is not a JSON object',
    entryNotAnObject: (index) => `outputs[${index}] is not an object`,
    shapeNotDims: (name, shape) => `output '${name}': "shape" ${JSON.stringify(shape)} is not an array of non-negative integers`,
    noData: (name) => `output '${name}' has neither a "data" array nor binary_data_size`,
    dataNotArray: (name) => `output '${name}' has neither a "data" array nor binary_data_size`,
    binarySizeNotInteger: (name, size) => `output '${name}': binary_data_size ${JSON.stringify(size)} is not a non-negative integer`,
    binarySizeMismatch: (name, shape, datatype, neededBytes, size) =>
      `output '${name}': ${elementCountText(shape)} elements of ${datatype} take ${neededBytes} bytes, binary_data_size is ${size}`,
    bytesCountPastChunk: (name, shape, size) =>
      `output '${name}': ${elementCountText(shape)} BYTES elements need at least ${(BigInt(elementCountText(shape)) * BigInt(BYTES_PREFIX)).toString()} bytes of length prefixes, binary_data_size is ${size}`,
    bytesElementPastChunk: (name, index, length) => `output '${name}': BYTES element ${index} of ${length} bytes runs past binary_data_size`,
    bytesLeftOver: (name, count, extra) => `output '${name}': ${extra} bytes are left after the shape's ${count} BYTES elements`,
    bytesElementNotString: (name, index, value) => `output '${name}' element ${index}: expected a string for BYTES, got ${typeof value}`,
    binaryTotalMismatch: (binaryBytes, used) => `the binary part has ${binaryBytes} bytes but the outputs' binary_data_size add up to ${used}`,
  },
};

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Splits a binary-extension body at its `Inference-Header-Content-Length` (decimal digits only):
 * the JSON header's bytes and the binary part after them (views, no copy).
 */
export function splitAtHeaderLength(body: Uint8Array, headerLengthRaw: string, ctx: TensorPayloadContext): { header: Uint8Array; binary: Uint8Array } {
  // Decimal digits only: Number() would also take '', '0x10' and '1e2'.
  const headerLength = /^\d{1,15}$/.test(headerLengthRaw.trim()) ? Number(headerLengthRaw.trim()) : -1;
  if (headerLength < 0) throw ctx.fail(`header Inference-Header-Content-Length: '${headerLengthRaw}' is not a non-negative integer`);
  if (headerLength > body.byteLength) {
    throw ctx.fail(`header Inference-Header-Content-Length is ${headerLength} but the body has only ${body.byteLength} bytes`);
  }
  return { header: body.subarray(0, headerLength), binary: body.subarray(headerLength) };
}

/**
 * Parses a body's JSON text, which must be an object. `reread`, when given, is a second reading
 * tried only after JSON.parse has refused the text (undefined: it cannot read it either).
 */
export function parseJsonObject(text: string, ctx: TensorPayloadContext, reread?: (text: string) => unknown): Record<string, unknown> {
  const wording = WORDING[ctx.role];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    parsed = reread?.(text);
    if (parsed === undefined) throw ctx.fail(wording.notJson((error as Error).message), error);
  }
  if (!isPlainObject(parsed)) throw ctx.fail(wording.notAnObject);
  return parsed;
}

/**
 * Decodes a header's `inputs` or `outputs` entries in order: each entry's binary_data_size takes
 * the next bytes of `binary` (undefined: the body had no Inference-Header-Content-Length), and
 * the binary part must be used up exactly. Names must be unique.
 *
 * @example
 * const inputs = decodeTensors(header.inputs, binary, { role: 'input', fail: (m) => new InvalidRequestError(m) });
 */
export function decodeTensors(entries: readonly unknown[], binary: Uint8Array | undefined, ctx: TensorPayloadContext): HostTensor[] {
  const cursor = { offset: 0 };
  const seen = new Set<string>();
  const tensors = entries.map((entry, index) => {
    const tensor = decodeTensor(entry, index, binary, cursor, ctx);
    if (seen.has(tensor.name)) throw ctx.fail(`${ctx.role} '${tensor.name}' appears more than once`);
    seen.add(tensor.name);
    return tensor;
  });
  if (binary !== undefined && cursor.offset !== binary.byteLength) {
    throw ctx.fail(WORDING[ctx.role].binaryTotalMismatch(binary.byteLength, cursor.offset));
  }
  return tensors;
}

function decodeTensor(entry: unknown, index: number, binary: Uint8Array | undefined, cursor: { offset: number }, ctx: TensorPayloadContext): HostTensor {
  const { role, fail } = ctx;
  const wording = WORDING[role];
  if (!isPlainObject(entry)) throw fail(wording.entryNotAnObject(index));
  const { name, shape, datatype, data, parameters } = entry;
  if (typeof name !== 'string' || name.length === 0) throw fail(`${wording.plural}[${index}] has no string "name"`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw fail(wording.shapeNotDims(name, shape));
  const tooLarge = (shape as number[]).findIndex((d) => d > MAX_DIM);
  if (tooLarge >= 0) throw fail(`${role} '${name}': "shape" dim ${tooLarge} is ${shape[tooLarge]}; each dim must be at most ${MAX_DIM}`);
  if (!isOipDatatype(datatype)) {
    throw fail(`${role} '${name}': "datatype" ${JSON.stringify(datatype)} is not an Open Inference Protocol datatype (BOOL, UINT8..64, INT8..64, FP16, FP32, FP64, BYTES)`);
  }
  if (parameters !== undefined && !isPlainObject(parameters)) throw fail(`${role} '${name}': "parameters" must be an object`);
  const binarySize = parameters?.binary_data_size;
  if (binarySize !== undefined) {
    if (binary === undefined) throw fail(`${role} '${name}' has binary_data_size but the ${wording.carrier} has no Inference-Header-Content-Length header`);
    if (!Number.isInteger(binarySize) || (binarySize as number) < 0) throw fail(wording.binarySizeNotInteger(name, binarySize));
    if (data !== undefined) throw fail(`${role} '${name}' has both "data" and binary_data_size; send one`);
    const size = binarySize as number;
    if (cursor.offset + size > binary.byteLength) {
      throw fail(`${role} '${name}': binary_data_size ${size} runs past the end of the body (${binary.byteLength - cursor.offset} bytes left)`);
    }
    const chunk = binary.subarray(cursor.offset, cursor.offset + size);
    cursor.offset += size;
    return { name, datatype, shape, data: decodeBinaryData(name, datatype, shape, chunk, ctx) };
  }
  if (data === undefined) throw fail(wording.noData(name));
  if (!Array.isArray(data)) throw fail(wording.dataNotArray(name));
  return { name, datatype, shape, data: decodeJsonData(name, datatype, shape, data, ctx) };
}

/** Binary data: the element count is bounded by binary_data_size before anything is allocated or viewed. */
function decodeBinaryData(name: string, datatype: OipDatatype, shape: readonly number[], chunk: Uint8Array, ctx: TensorPayloadContext): TensorData {
  const width = bytesPerElement(datatype);
  if (width === undefined) return decodeBinaryBytesElements(name, shape, chunk, ctx);
  const count = elementCountWithin(shape, Math.floor(chunk.byteLength / width));
  if (count === undefined || count * width !== chunk.byteLength) {
    const neededBytes = (BigInt(elementCountText(shape)) * BigInt(width)).toString();
    throw ctx.fail(WORDING[ctx.role].binarySizeMismatch(name, shape, datatype, neededBytes, chunk.byteLength));
  }
  return numericView(datatype as Exclude<OipDatatype, 'BYTES'>, chunk, 0, count);
}

/**
 * BYTES in binary: each element is a 4-byte little-endian length followed by that many bytes.
 * The shape's count is checked against what the chunk can hold (size / 4) first, so a huge
 * declared count with a short body is refused before a single element view is made.
 */
function decodeBinaryBytesElements(name: string, shape: readonly number[], chunk: Uint8Array, ctx: TensorPayloadContext): Uint8Array[] {
  const { role, fail } = ctx;
  const wording = WORDING[role];
  const count = elementCountWithin(shape, Math.floor(chunk.byteLength / BYTES_PREFIX));
  if (count === undefined) throw fail(wording.bytesCountPastChunk(name, shape, chunk.byteLength));
  const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  const elements = new Array<Uint8Array>(count);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    if (offset + BYTES_PREFIX > chunk.byteLength) {
      throw fail(offset < chunk.byteLength
        ? `${role} '${name}': BYTES element ${i} has a truncated length prefix`
        : `${role} '${name}': shape holds ${count} BYTES elements but the binary data ends after ${i}`);
    }
    const length = view.getUint32(offset, true);
    offset += BYTES_PREFIX;
    if (offset + length > chunk.byteLength) throw fail(wording.bytesElementPastChunk(name, i, length));
    elements[i] = chunk.subarray(offset, offset + length);
    offset += length;
  }
  if (offset !== chunk.byteLength) throw fail(wording.bytesLeftOver(name, count, chunk.byteLength - offset));
  return elements;
}

/**
 * Row-major JSON data: flat, or (where the role takes it) nested, matching the shape at every
 * depth (a ragged array is refused with the path of the first bad row).
 */
function decodeJsonData(name: string, datatype: OipDatatype, shape: readonly number[], data: unknown[], ctx: TensorPayloadContext): TensorData {
  const { role, fail } = ctx;
  const wording = WORDING[role];
  const nested = wording.nestedData && data.length > 0 && Array.isArray(data[0]);
  // Nested data is walked against the shape level by level, so a huge declared dim fails at its first row.
  const flat = nested ? flattenNested(name, shape, data, ctx) : data;
  // The data is what the body carried: the shape's count is bounded by it before anything is allocated.
  const count = elementCountWithin(shape, flat.length);
  if (count !== flat.length) {
    const flatOnly = wording.nestedData ? '' : ' (a flat row-major array is expected)';
    throw fail(`${role} '${name}': shape ${JSON.stringify(shape)} holds ${elementCountText(shape)} elements but "data" has ${flat.length}${flatOnly}`);
  }
  if (datatype === 'BYTES') {
    return flat.map((value, i) => {
      if (typeof value !== 'string') throw fail(wording.bytesElementNotString(name, i, value));
      return UTF8_ENCODER.encode(value);
    });
  }
  const out = allocateNumeric(datatype, count);
  try {
    fillNumeric(`${role} '${name}'`, datatype, flat, out);
  } catch (error) {
    // jsonElementToStored refuses an element with the request's InvalidRequestError; each direction raises its own.
    throw error instanceof InvalidRequestError ? fail(error.message, error) : error;
  }
  return out;
}

function fillNumeric(tensor: string, datatype: Exclude<OipDatatype, 'BYTES'>, flat: unknown[], out: NumericTensorData): void {
  const where = (i: number) => () => `${tensor} element ${i}`;
  if (datatype === 'FP32' || datatype === 'FP64') {
    // Hot path: plain numbers go straight in; anything else (strings like "NaN") takes the checked path.
    const target = out as Float32Array | Float64Array;
    for (let i = 0; i < flat.length; i++) {
      const v = flat[i];
      target[i] = typeof v === 'number' ? v : (jsonElementToStored(datatype, v, where(i)) as number);
    }
    return;
  }
  const isBig = datatype === 'INT64' || datatype === 'UINT64';
  for (let i = 0; i < flat.length; i++) {
    const stored = jsonElementToStored(datatype, flat[i], where(i));
    (out as unknown as (number | bigint)[])[i] = isBig ? stored : Number(stored);
  }
}

function flattenNested(name: string, shape: readonly number[], data: unknown[], ctx: TensorPayloadContext): unknown[] {
  const tensor = `${ctx.role} '${name}'`;
  const flat: unknown[] = [];
  const walk = (node: unknown, depth: number, path: number[]): void => {
    if (depth === shape.length) {
      if (Array.isArray(node)) throw ctx.fail(`${tensor}: "data" nests deeper than shape ${JSON.stringify(shape)} at [${path.join(',')}]`);
      flat.push(node);
      return;
    }
    if (!Array.isArray(node)) {
      throw ctx.fail(`${tensor}: nested "data" is ragged at [${path.join(',')}]: expected an array of ${shape[depth]}, got a scalar`);
    }
    if (node.length !== shape[depth]) {
      throw ctx.fail(`${tensor}: nested "data" is ragged at [${path.join(',')}]: expected ${shape[depth]} elements, got ${node.length}`);
    }
    for (let i = 0; i < node.length; i++) {
      path.push(i);
      walk(node[i], depth + 1, path);
      path.pop();
    }
  };
  walk(data, 0, []);
  return flat;
}
