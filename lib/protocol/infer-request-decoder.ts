import { InvalidRequestError } from '../errors/hotpath-error';
import type { HostTensor } from './tensor';
import { HEADER_LENGTH, decodeTensors, isPlainObject, parseJsonObject, splitAtHeaderLength, type TensorPayloadContext } from './tensor-payload-decoder';

/**
 * An output the caller asked for; `binary` asks for Triton's binary encoding of its data.
 * `parameters` are the output's own, as sent (e.g. `class_count` of the classification extension).
 */
export interface RequestedOutput {
  readonly name: string;
  readonly binary: boolean;
  readonly parameters?: Readonly<Record<string, unknown>>;
}

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

const UTF8 = new TextDecoder('utf-8', { fatal: false });

/** A request's tensors are its inputs; what is wrong with them is the caller's to fix (400). */
const INPUTS: TensorPayloadContext = { role: 'input', fail: (message, cause) => new InvalidRequestError(message, cause) };

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
  if (headerLengthRaw === undefined) return decodeInferHeader(parseJsonBody(body), undefined);
  const { header, binary } = splitAtHeaderLength(typeof body === 'string' ? Buffer.from(body, 'utf8') : body, headerLengthRaw, INPUTS);
  return decodeInferHeader(parseJsonBody(header), binary);
}

function parseJsonBody(bytesOrText: Uint8Array | string): Record<string, unknown> {
  const empty = typeof bytesOrText === 'string' ? bytesOrText.length === 0 : bytesOrText.byteLength === 0;
  if (empty) throw new InvalidRequestError('request body is empty; send an infer request with "inputs"');
  // TextDecoder drops a leading BOM from bytes; drop it from text too, so both read alike.
  const text = typeof bytesOrText === 'string' ? bytesOrText.replace(/^\uFEFF/, '') : UTF8.decode(bytesOrText);
  return parseJsonObject(text, INPUTS, parseWithNonFiniteLiterals);
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

  const decodedInputs = decodeTensors(inputs, binary, INPUTS);
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
