import { HotpathError } from '../errors/hotpath-error';
import { allocateNumeric, bytesPerElement, isOipDatatype, jsonElementToStored, numericView } from './datatypes';
import { elementCount, type HostTensor, type NumericTensorData, type OipDatatype } from './tensor';

/**
 * 502: an inference server we called answered something that is not a valid Open Inference
 * Protocol infer response. The message says what is wrong with the answer; it is not the
 * caller's request that is at fault.
 */
export class MalformedInferResponseError extends HotpathError {
  constructor(message: string, cause?: unknown) {
    super(`the inference server's answer is malformed: ${message}`, { status: 502, expose: true, cause });
  }
}

/** A decoded infer response: tensors as typed arrays (BYTES as byte strings). */
export interface DecodedInferResponse {
  readonly modelName: string;
  readonly modelVersion?: string;
  readonly id?: string;
  readonly parameters?: Readonly<Record<string, unknown>>;
  readonly outputs: HostTensor[];
}

const HEADER_LENGTH = 'inference-header-content-length';
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes an infer response body: plain JSON, or Triton's binary data extension when the
 * `Inference-Header-Content-Length` header is present (that many bytes of JSON, then each
 * output with `parameters.binary_data_size` takes its bytes in output order). Numeric binary
 * data are views onto `body` where aligned (no copy): they share its memory.
 *
 * Strict: the answer must be exactly what the protocol allows (a `model_name`, an `outputs`
 * array, each output with a known datatype, a shape, and either `data` of exactly the shape's
 * element count or a binary_data_size that matches it; all the binary bytes used, none
 * missing); anything else is a {@link MalformedInferResponseError} naming the field.
 *
 * @param body the body's bytes, or its text when the transport delivered text
 * @param headers lower-cased header names; the body must already be decompressed (a
 *   `content-encoding` other than identity is refused)
 */
export function decodeInferResponse(body: Uint8Array | string, headers: Readonly<Record<string, string | undefined>>): DecodedInferResponse {
  const encoding = headers['content-encoding']?.trim().toLowerCase();
  if (encoding !== undefined && encoding !== '' && encoding !== 'identity') {
    throw new MalformedInferResponseError(`the body is still ${encoding}-encoded; inflate it before decoding`);
  }
  const headerLengthRaw = headers[HEADER_LENGTH];
  if (headerLengthRaw === undefined) {
    return decodeHeader(parseJsonObject(typeof body === 'string' ? body : decodeUtf8(body)), undefined);
  }
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const headerLength = /^\d{1,15}$/.test(headerLengthRaw.trim()) ? Number(headerLengthRaw.trim()) : -1;
  if (headerLength < 0) throw new MalformedInferResponseError(`Inference-Header-Content-Length '${headerLengthRaw}' is not a non-negative integer`);
  if (headerLength > bytes.byteLength) {
    throw new MalformedInferResponseError(`Inference-Header-Content-Length is ${headerLength} but the body has only ${bytes.byteLength} bytes`);
  }
  const header = parseJsonObject(decodeUtf8(bytes.subarray(0, headerLength)));
  return decodeHeader(header, bytes.subarray(headerLength));
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return UTF8.decode(bytes);
  } catch (error) {
    throw new MalformedInferResponseError('the JSON header is not valid UTF-8', error);
  }
}

function parseJsonObject(text: string): Record<string, unknown> {
  if (text.length === 0) throw new MalformedInferResponseError('the body is empty');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new MalformedInferResponseError(`the body is not valid JSON (${(error as Error).message})`, error);
  }
  if (!isPlainObject(parsed)) throw new MalformedInferResponseError('the body is not a JSON object');
  return parsed;
}

function decodeHeader(header: Record<string, unknown>, binary: Uint8Array | undefined): DecodedInferResponse {
  const { model_name: modelName, model_version: modelVersion, id, parameters, outputs } = header;
  if (typeof modelName !== 'string' || modelName.length === 0) throw new MalformedInferResponseError('"model_name" is missing or not a string');
  if (modelVersion !== undefined && typeof modelVersion !== 'string') throw new MalformedInferResponseError('"model_version" is not a string');
  if (id !== undefined && typeof id !== 'string') throw new MalformedInferResponseError('"id" is not a string');
  if (parameters !== undefined && !isPlainObject(parameters)) throw new MalformedInferResponseError('"parameters" is not an object');
  if (!Array.isArray(outputs)) throw new MalformedInferResponseError('"outputs" is missing or not an array');
  const cursor = { offset: 0 };
  const seen = new Set<string>();
  const decoded = outputs.map((output, index) => {
    const tensor = decodeOutput(output, index, binary, cursor);
    if (seen.has(tensor.name)) throw new MalformedInferResponseError(`output '${tensor.name}' appears more than once`);
    seen.add(tensor.name);
    return tensor;
  });
  if (binary !== undefined && cursor.offset !== binary.byteLength) {
    throw new MalformedInferResponseError(`the binary part has ${binary.byteLength} bytes but the outputs' binary_data_size add up to ${cursor.offset}`);
  }
  return {
    modelName,
    ...(modelVersion !== undefined ? { modelVersion } : {}),
    ...(id !== undefined ? { id } : {}),
    ...(parameters !== undefined ? { parameters } : {}),
    outputs: decoded,
  };
}

function decodeOutput(output: unknown, index: number, binary: Uint8Array | undefined, cursor: { offset: number }): HostTensor {
  if (!isPlainObject(output)) throw new MalformedInferResponseError(`outputs[${index}] is not an object`);
  const { name, datatype, shape, data, parameters } = output;
  if (typeof name !== 'string' || name.length === 0) throw new MalformedInferResponseError(`outputs[${index}] has no string "name"`);
  if (!isOipDatatype(datatype)) throw new MalformedInferResponseError(`output '${name}': "datatype" ${JSON.stringify(datatype)} is not an Open Inference Protocol datatype`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new MalformedInferResponseError(`output '${name}': "shape" ${JSON.stringify(shape)} is not an array of non-negative integers`);
  }
  if (parameters !== undefined && !isPlainObject(parameters)) throw new MalformedInferResponseError(`output '${name}': "parameters" is not an object`);
  const count = elementCount(shape);
  if (!Number.isSafeInteger(count)) throw new MalformedInferResponseError(`output '${name}': shape ${JSON.stringify(shape)} has too many elements`);
  const size = parameters?.binary_data_size;
  if (size !== undefined) {
    if (data !== undefined) throw new MalformedInferResponseError(`output '${name}' has both "data" and binary_data_size`);
    if (binary === undefined) throw new MalformedInferResponseError(`output '${name}' has binary_data_size but the answer has no Inference-Header-Content-Length`);
    if (!Number.isSafeInteger(size) || (size as number) < 0) throw new MalformedInferResponseError(`output '${name}': binary_data_size ${JSON.stringify(size)} is not a non-negative integer`);
    if (cursor.offset + (size as number) > binary.byteLength) {
      throw new MalformedInferResponseError(`output '${name}': binary_data_size ${size} runs past the end of the body (${binary.byteLength - cursor.offset} bytes left)`);
    }
    const chunk = binary.subarray(cursor.offset, cursor.offset + (size as number));
    cursor.offset += size as number;
    return { name, datatype, shape, data: decodeBinary(name, datatype, count, chunk) };
  }
  if (!Array.isArray(data)) throw new MalformedInferResponseError(`output '${name}' has neither a "data" array nor binary_data_size`);
  if (data.length !== count) {
    throw new MalformedInferResponseError(`output '${name}': shape ${JSON.stringify(shape)} holds ${count} elements but "data" has ${data.length} (a flat row-major array is expected)`);
  }
  return { name, datatype, shape, data: decodeJson(name, datatype, count, data) };
}

function decodeBinary(name: string, datatype: OipDatatype, count: number, chunk: Uint8Array) {
  const width = bytesPerElement(datatype);
  if (width === undefined) return decodeBytesElements(name, count, chunk);
  if (chunk.byteLength !== count * width) {
    throw new MalformedInferResponseError(`output '${name}': ${count} elements of ${datatype} take ${count * width} bytes, binary_data_size is ${chunk.byteLength}`);
  }
  return numericView(datatype as Exclude<OipDatatype, 'BYTES'>, chunk, 0, count);
}

/** BYTES in binary: a 4-byte little-endian length, then that many bytes, per element; the count is checked before views are built. */
function decodeBytesElements(name: string, count: number, chunk: Uint8Array): Uint8Array[] {
  const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (count * 4 > chunk.byteLength) {
    throw new MalformedInferResponseError(`output '${name}': ${count} BYTES elements need at least ${count * 4} bytes of length prefixes, binary_data_size is ${chunk.byteLength}`);
  }
  const elements: Uint8Array[] = new Array(count);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    if (offset + 4 > chunk.byteLength) throw new MalformedInferResponseError(`output '${name}': BYTES element ${i} has a truncated length prefix`);
    const length = view.getUint32(offset, true);
    offset += 4;
    if (offset + length > chunk.byteLength) throw new MalformedInferResponseError(`output '${name}': BYTES element ${i} of ${length} bytes runs past binary_data_size`);
    elements[i] = chunk.subarray(offset, offset + length);
    offset += length;
  }
  if (offset !== chunk.byteLength) {
    throw new MalformedInferResponseError(`output '${name}': ${chunk.byteLength - offset} bytes are left after the shape's ${count} BYTES elements`);
  }
  return elements;
}

const UTF8_ENCODER = new TextEncoder();

function decodeJson(name: string, datatype: OipDatatype, count: number, data: unknown[]) {
  if (datatype === 'BYTES') {
    return data.map((value, i) => {
      if (typeof value !== 'string') throw new MalformedInferResponseError(`output '${name}' element ${i}: expected a string for BYTES, got ${typeof value}`);
      return UTF8_ENCODER.encode(value);
    });
  }
  const numericType = datatype as Exclude<OipDatatype, 'BYTES'>;
  const out = allocateNumeric(numericType, count);
  const isBig = datatype === 'INT64' || datatype === 'UINT64';
  try {
    fill(numericType, data, out, isBig, name);
  } catch (error) {
    if (error instanceof MalformedInferResponseError) throw error;
    throw new MalformedInferResponseError((error as Error).message, error);
  }
  return out;
}

function fill(datatype: Exclude<OipDatatype, 'BYTES'>, data: unknown[], out: NumericTensorData, isBig: boolean, name: string): void {
  if (datatype === 'FP32' || datatype === 'FP64') {
    const floats = out as Float32Array | Float64Array;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      floats[i] = typeof v === 'number' ? v : (jsonElementToStored(datatype, v, () => `output '${name}' element ${i}`) as number);
    }
    return;
  }
  const target = out as unknown as (number | bigint)[];
  for (let i = 0; i < data.length; i++) {
    const stored = jsonElementToStored(datatype, data[i], () => `output '${name}' element ${i}`);
    target[i] = isBig ? stored : Number(stored);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
