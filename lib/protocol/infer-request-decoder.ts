import { InvalidRequestError } from '../errors/hotpath-error';
import { allocateNumeric, bytesPerElement, isOipDatatype, jsonElementToStored, numericView } from './datatypes';
import { MAX_DIM, elementCountText, elementCountWithin, type HostTensor, type NumericTensorData, type OipDatatype } from './tensor';

/**
 * An output the caller asked for; `binary` asks for Triton's binary encoding of its data.
 * `parameters` are the output's own, as sent (e.g. `class_count` of the classification extension).
 */
export interface RequestedOutput {
  readonly name: string;
  readonly binary: boolean;
  readonly parameters?: Readonly<Record<string, unknown>>;
}

/** Each BYTES element in the binary extension has a 4-byte length prefix, so a chunk carries at most size / 4 elements. */
const BYTES_PREFIX = 4;

/** A decoded Open Inference Protocol infer request: tensors are typed arrays, never JSON numbers. */
export interface InferRequest {
  readonly id?: string;
  readonly parameters?: Readonly<Record<string, unknown>>;
  readonly inputs: readonly HostTensor[];
  /** Undefined: every output. */
  readonly outputs?: readonly RequestedOutput[];
  /** `parameters.binary_data_output` of the request: every output in binary unless it says otherwise. */
  readonly binaryOutputsByDefault: boolean;
}

const HEADER_LENGTH = 'inference-header-content-length';
const UTF8 = new TextDecoder('utf-8', { fatal: false });
const UTF8_ENCODER = new TextEncoder();

/**
 * Decodes an infer request body: plain JSON, or Triton's binary data extension when the
 * `Inference-Header-Content-Length` header is present (a JSON header followed by the raw
 * little-endian tensor bytes, decoded as views without per-number parsing).
 *
 * @param body the body's bytes, or its text when the transport delivered text: a JSON body
 *   is then parsed as it is, without a UTF-8 round trip (a binary-extension body sent as
 *   text is encoded to bytes first)
 * @param headers lower-cased header names
 */
export function decodeInferRequest(body: Uint8Array | string, headers: Readonly<Record<string, string | undefined>>): InferRequest {
  const headerLengthRaw = headers[HEADER_LENGTH];
  if (typeof body === 'string') {
    if (headerLengthRaw === undefined) return decodeInferHeader(parseJsonObject(body), undefined);
    body = Buffer.from(body, 'utf8');
  }
  let jsonBytes = body;
  let binary: Uint8Array | undefined;
  if (headerLengthRaw !== undefined) {
    // Decimal digits only: Number() would also take '', '0x10' and '1e2'.
    const headerLength = /^\d{1,15}$/.test(headerLengthRaw.trim()) ? Number(headerLengthRaw.trim()) : -1;
    if (headerLength < 0) {
      throw new InvalidRequestError(`header Inference-Header-Content-Length: '${headerLengthRaw}' is not a non-negative integer`);
    }
    if (headerLength > body.byteLength) {
      throw new InvalidRequestError(
        `header Inference-Header-Content-Length is ${headerLength} but the body has only ${body.byteLength} bytes`,
      );
    }
    jsonBytes = body.subarray(0, headerLength);
    binary = body.subarray(headerLength);
  }
  const header = parseJsonObject(jsonBytes);
  return decodeInferHeader(header, binary);
}

function parseJsonObject(bytesOrText: Uint8Array | string): Record<string, unknown> {
  const empty = typeof bytesOrText === 'string' ? bytesOrText.length === 0 : bytesOrText.byteLength === 0;
  if (empty) throw new InvalidRequestError('request body is empty; send an infer request with "inputs"');
  let parsed: unknown;
  // TextDecoder drops a leading BOM from bytes; drop it from text too, so both read alike.
  const text = typeof bytesOrText === 'string' ? bytesOrText.replace(/^\uFEFF/, '') : UTF8.decode(bytesOrText);
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    parsed = parseWithNonFiniteLiterals(text);
    if (parsed === undefined) throw new InvalidRequestError(`request body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidRequestError('request body must be a JSON object with "inputs"');
  }
  return parsed as Record<string, unknown>;
}

/**
 * Triton's Python client (python-rapidjson) writes NaN and ±Infinity as the bare literals
 * `NaN`, `Infinity` and `-Infinity`, which JSON.parse refuses; Triton's server reads them.
 * Only after JSON.parse has failed (never on the hot path): the literals outside strings
 * become the strings "NaN" / "Infinity" / "-Infinity" that float inputs take, and the text is
 * parsed again. Undefined when it is still not JSON, or had no such literal.
 */
function parseWithNonFiniteLiterals(text: string): unknown {
  if (!/NaN|Infinity/.test(text)) return undefined;
  let out = '';
  let inString = false;
  let replaced = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    const literal = text.startsWith('NaN', i) ? 'NaN' : text.startsWith('-Infinity', i) ? '-Infinity' : text.startsWith('Infinity', i) ? 'Infinity' : undefined;
    if (literal !== undefined) {
      out += `"${literal}"`;
      i += literal.length - 1;
      replaced = true;
      continue;
    }
    out += c;
  }
  if (!replaced) return undefined;
  try {
    return JSON.parse(out);
  } catch {
    return undefined;
  }
}

function decodeInferHeader(header: Record<string, unknown>, binary: Uint8Array | undefined): InferRequest {
  const { id, parameters, inputs, outputs } = header;
  if (id !== undefined && typeof id !== 'string') throw new InvalidRequestError('"id" must be a string');
  if (parameters !== undefined && !isPlainObject(parameters)) throw new InvalidRequestError('"parameters" must be an object');
  if (inputs === undefined) throw new InvalidRequestError('request has no "inputs"; send "inputs": [{"name", "shape", "datatype", "data"}]');
  if (!Array.isArray(inputs) || inputs.length === 0) throw new InvalidRequestError('"inputs" must be a non-empty array');

  const cursor = { offset: 0 };
  const seen = new Set<string>();
  const decodedInputs = inputs.map((input, index) => {
    const tensor = decodeInput(input, index, binary, cursor);
    if (seen.has(tensor.name)) throw new InvalidRequestError(`input '${tensor.name}' appears more than once`);
    seen.add(tensor.name);
    return tensor;
  });
  if (binary !== undefined && cursor.offset !== binary.byteLength) {
    throw new InvalidRequestError(
      `the binary part of the body has ${binary.byteLength} bytes but the inputs' binary_data_size add up to ${cursor.offset}`,
    );
  }
  const binaryOutputsByDefault = (parameters as Record<string, unknown> | undefined)?.binary_data_output === true;
  return {
    id,
    parameters: parameters as Record<string, unknown> | undefined,
    inputs: decodedInputs,
    outputs: decodeRequestedOutputs(outputs, binaryOutputsByDefault),
    binaryOutputsByDefault,
  };
}

function decodeRequestedOutputs(outputs: unknown, binaryByDefault: boolean): RequestedOutput[] | undefined {
  if (outputs === undefined) return undefined;
  if (!Array.isArray(outputs)) throw new InvalidRequestError('"outputs" must be an array of {"name"}');
  return outputs.map((output, index) => {
    if (!isPlainObject(output) || typeof output.name !== 'string') {
      throw new InvalidRequestError(`outputs[${index}] must be an object with a string "name"`);
    }
    const params = output.parameters;
    if (params !== undefined && !isPlainObject(params)) throw new InvalidRequestError(`output '${output.name}': "parameters" must be an object`);
    const binary = (params as Record<string, unknown> | undefined)?.binary_data;
    return {
      name: output.name,
      binary: typeof binary === 'boolean' ? binary : binaryByDefault,
      ...(params !== undefined ? { parameters: params as Record<string, unknown> } : {}),
    };
  });
}

function decodeInput(input: unknown, index: number, binary: Uint8Array | undefined, cursor: { offset: number }): HostTensor {
  if (!isPlainObject(input)) throw new InvalidRequestError(`inputs[${index}] must be an object with "name", "shape", "datatype" and "data"`);
  const { name, shape, datatype, data, parameters } = input;
  if (typeof name !== 'string' || name.length === 0) throw new InvalidRequestError(`inputs[${index}] has no string "name"`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new InvalidRequestError(`input '${name}': "shape" must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  const tooLarge = (shape as number[]).findIndex((d) => d > MAX_DIM);
  if (tooLarge >= 0) {
    throw new InvalidRequestError(`input '${name}': "shape" dim ${tooLarge} is ${shape[tooLarge]}; each dim must be at most ${MAX_DIM}`);
  }
  if (!isOipDatatype(datatype)) {
    throw new InvalidRequestError(`input '${name}': "datatype" ${JSON.stringify(datatype)} is not an Open Inference Protocol datatype (BOOL, UINT8..64, INT8..64, FP16, FP32, FP64, BYTES)`);
  }
  if (parameters !== undefined && !isPlainObject(parameters)) throw new InvalidRequestError(`input '${name}': "parameters" must be an object`);
  const binarySize = (parameters as Record<string, unknown> | undefined)?.binary_data_size;
  if (binarySize !== undefined) {
    if (binary === undefined) {
      throw new InvalidRequestError(`input '${name}' has binary_data_size but the request has no Inference-Header-Content-Length header`);
    }
    if (!Number.isInteger(binarySize) || (binarySize as number) < 0) {
      throw new InvalidRequestError(`input '${name}': binary_data_size must be a non-negative integer`);
    }
    if (data !== undefined) throw new InvalidRequestError(`input '${name}' has both "data" and binary_data_size; send one`);
    const size = binarySize as number;
    if (cursor.offset + size > binary.byteLength) {
      throw new InvalidRequestError(
        `input '${name}': binary_data_size ${size} runs past the end of the body (${binary.byteLength - cursor.offset} bytes left)`,
      );
    }
    const chunk = binary.subarray(cursor.offset, cursor.offset + size);
    cursor.offset += size;
    return { name, datatype, shape, data: decodeBinaryData(name, datatype, shape, chunk) };
  }
  if (data === undefined) throw new InvalidRequestError(`input '${name}' has no "data"`);
  if (!Array.isArray(data)) throw new InvalidRequestError(`input '${name}': "data" must be an array (flat or nested, row-major)`);
  return { name, datatype, shape, data: decodeJsonData(name, datatype, shape, data) };
}

/** Binary data: the element count is bounded by binary_data_size before anything is allocated or viewed. */
function decodeBinaryData(name: string, datatype: OipDatatype, shape: readonly number[], chunk: Uint8Array) {
  const width = bytesPerElement(datatype);
  if (width === undefined) return decodeBinaryBytesElements(name, shape, chunk);
  const count = elementCountWithin(shape, Math.floor(chunk.byteLength / width));
  if (count === undefined || count * width !== chunk.byteLength) {
    throw new InvalidRequestError(
      `input '${name}': shape ${JSON.stringify(shape)} of ${datatype} needs ${(BigInt(elementCountText(shape)) * BigInt(width)).toString()} bytes, binary_data_size is ${chunk.byteLength}`,
    );
  }
  return numericView(datatype as Exclude<OipDatatype, 'BYTES'>, chunk, 0, count);
}

/**
 * BYTES in binary: each element is a 4-byte little-endian length followed by that many bytes.
 * The shape's count is checked against what the chunk can hold (size / 4) first, so a huge
 * declared count with a short body is refused before a single element view is made.
 */
function decodeBinaryBytesElements(name: string, shape: readonly number[], chunk: Uint8Array): Uint8Array[] {
  const count = elementCountWithin(shape, Math.floor(chunk.byteLength / BYTES_PREFIX));
  if (count === undefined) {
    throw new InvalidRequestError(
      `input '${name}': shape ${JSON.stringify(shape)} holds ${elementCountText(shape)} BYTES elements, but binary_data_size ${chunk.byteLength} can carry at most ${Math.floor(chunk.byteLength / BYTES_PREFIX)} (each has a ${BYTES_PREFIX}-byte length prefix)`,
    );
  }
  const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  const elements = new Array<Uint8Array>(count);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    if (offset + BYTES_PREFIX > chunk.byteLength) {
      throw new InvalidRequestError(offset < chunk.byteLength
        ? `input '${name}': BYTES element ${i} has a truncated length prefix`
        : `input '${name}': shape holds ${count} BYTES elements but the binary data ends after ${i}`);
    }
    const length = view.getUint32(offset, true);
    offset += BYTES_PREFIX;
    if (offset + length > chunk.byteLength) throw new InvalidRequestError(`input '${name}': BYTES element ${i} runs past binary_data_size`);
    elements[i] = chunk.subarray(offset, offset + length);
    offset += length;
  }
  if (offset !== chunk.byteLength) {
    throw new InvalidRequestError(
      `input '${name}': shape holds ${count} BYTES elements but binary_data_size has ${chunk.byteLength - offset} bytes more after them`,
    );
  }
  return elements;
}

/**
 * Row-major JSON data, flat or nested. Nested data must match the shape at every depth
 * (a ragged array is refused with the path of the first bad row).
 */
function decodeJsonData(name: string, datatype: OipDatatype, shape: readonly number[], data: unknown[]) {
  const nested = data.length > 0 && Array.isArray(data[0]);
  // Nested data is walked against the shape level by level, so a huge declared dim fails at its first row.
  const flat = nested ? flattenNested(name, shape, data) : data;
  // The data is what the body carried: the shape's count is bounded by it before anything is allocated.
  const count = elementCountWithin(shape, flat.length);
  if (count !== flat.length) {
    throw new InvalidRequestError(`input '${name}': shape ${JSON.stringify(shape)} holds ${elementCountText(shape)} elements but "data" has ${flat.length}`);
  }
  if (datatype === 'BYTES') {
    return flat.map((value, i) => {
      if (typeof value !== 'string') throw new InvalidRequestError(`input '${name}': element ${i} must be a string for BYTES`);
      return UTF8_ENCODER.encode(value);
    });
  }
  const out = allocateNumeric(datatype, count);
  fillNumeric(name, datatype, flat, out);
  return out;
}

function fillNumeric(name: string, datatype: Exclude<OipDatatype, 'BYTES'>, flat: unknown[], out: NumericTensorData): void {
  const where = (i: number) => () => `input '${name}' element ${i}`;
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

function flattenNested(name: string, shape: readonly number[], data: unknown[]): unknown[] {
  const flat: unknown[] = [];
  const walk = (node: unknown, depth: number, path: number[]): void => {
    if (depth === shape.length) {
      if (Array.isArray(node)) {
        throw new InvalidRequestError(`input '${name}': "data" nests deeper than shape ${JSON.stringify(shape)} at [${path.join(',')}]`);
      }
      flat.push(node);
      return;
    }
    if (!Array.isArray(node)) {
      throw new InvalidRequestError(`input '${name}': nested "data" is ragged at [${path.join(',')}]: expected an array of ${shape[depth]}, got a scalar`);
    }
    if (node.length !== shape[depth]) {
      throw new InvalidRequestError(
        `input '${name}': nested "data" is ragged at [${path.join(',')}]: expected ${shape[depth]} elements, got ${node.length}`,
      );
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

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
