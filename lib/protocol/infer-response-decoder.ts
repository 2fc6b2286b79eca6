import { HotpathError } from '../errors/hotpath-error';
import type { HostTensor } from './tensor';
import { HEADER_LENGTH, decodeTensors, isPlainObject, parseJsonObject, splitAtHeaderLength, type TensorPayloadContext } from './tensor-payload-decoder';

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

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** An answer's tensors are its outputs; what is wrong with them is the server's fault (502). */
const OUTPUTS: TensorPayloadContext = { role: 'output', fail: (message, cause) => new MalformedInferResponseError(message, cause) };

/**
 * Decodes an infer response body: plain JSON, or Triton's binary data extension when the
 * `Inference-Header-Content-Length` header is present (that many bytes of JSON, then each
 * output with `parameters.binary_data_size` takes its bytes in output order). Numeric binary
 * data are views onto `body` where aligned (no copy): they share its memory.
 *
 * Strict: the answer must be exactly what the protocol allows (a `model_name`, an `outputs`
 * array, each output with a known datatype, a shape of dims at most 2^31-1, and either flat
 * `data` of exactly the shape's element count or a binary_data_size that matches it; all the
 * binary bytes used, none missing); anything else is a {@link MalformedInferResponseError}
 * naming the field. Tensors decode as requests' do (tensor-payload-decoder), bounds first.
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
  if (headerLengthRaw === undefined) return decodeHeader(parseJsonBody(typeof body === 'string' ? body : decodeUtf8(body)), undefined);
  const { header, binary } = splitAtHeaderLength(typeof body === 'string' ? Buffer.from(body, 'utf8') : body, headerLengthRaw, OUTPUTS);
  return decodeHeader(parseJsonBody(decodeUtf8(header)), binary);
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return UTF8.decode(bytes);
  } catch (error) {
    throw new MalformedInferResponseError('the JSON header is not valid UTF-8', error);
  }
}

function parseJsonBody(text: string): Record<string, unknown> {
  if (text.length === 0) throw new MalformedInferResponseError('the body is empty');
  return parseJsonObject(text, OUTPUTS);
}

function decodeHeader(header: Record<string, unknown>, binary: Uint8Array | undefined): DecodedInferResponse {
  const { model_name: modelName, model_version: modelVersion, id, parameters, outputs } = header;
  if (typeof modelName !== 'string' || modelName.length === 0) throw new MalformedInferResponseError('"model_name" is missing or not a string');
  if (modelVersion !== undefined && typeof modelVersion !== 'string') throw new MalformedInferResponseError('"model_version" is not a string');
  if (id !== undefined && typeof id !== 'string') throw new MalformedInferResponseError('"id" is not a string');
  if (parameters !== undefined && !isPlainObject(parameters)) throw new MalformedInferResponseError('"parameters" is not an object');
  if (!Array.isArray(outputs)) throw new MalformedInferResponseError('"outputs" is missing or not an array');
  const decoded = decodeTensors(outputs, binary, OUTPUTS);
  return {
    modelName,
    ...(modelVersion !== undefined ? { modelVersion } : {}),
    ...(id !== undefined ? { id } : {}),
    ...(parameters !== undefined ? { parameters } : {}),
    outputs: decoded,
  };
}
