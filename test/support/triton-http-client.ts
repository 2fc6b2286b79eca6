/**
 * A TypeScript port of the wire behaviour of Triton's Python HTTP client (`tritonclient.http`,
 * github.com/triton-inference-server/client, src/python/library/tritonclient/http/ at commit
 * 58a44caa, with geventhttpclient 2.3.8 under it), for interop tests: requests are built
 * byte for byte as that client builds them, and answers are read as it reads them, errors
 * and quirks included. Written from its source; the facts each part relies on are cited
 * beside it (`_infer_input.py`, `_requested_output.py`, `_utils.py`, `_client.py`,
 * `_infer_result.py`, `tritonclient/utils/__init__.py`).
 *
 * numpy arrays are stood in for by {@link NdArray}: a dtype, a shape and row-major data.
 *
 * @example
 * const client = TritonHttpClient.overHttp('127.0.0.1:8000');
 * const input = new InferInput('input', [1, 4], 'FP32').setDataFromNumpy(ndarray('float32', [1, 4], Float32Array.of(5.1, 3.5, 1.4, 0.2)));
 * const result = await client.infer('iris-classifier', [input]);
 * result.asNumpy('probabilities'); // NdArray float32 [1, 3]
 * client.close();
 */
import { Agent, request as httpRequest } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { deflateRawSync, deflateSync, gunzipSync, inflateSync, crc32 } from 'node:zlib';
import { float32ToHalfBits, halfBitsToFloat32 } from '../../lib/protocol/datatypes';
import type { NumericTensorData } from '../../lib/protocol/tensor';
import { buildHttpApiEvent, httpApiResponseFromResult, type HttpApiEventOptions, type WireRequest, type WireResponse } from './api-gateway-http-event';
import { PyFloat, pyJsonDumps, pyJsonLoads, type PyJsonValue, type PyParsed } from './python-json';

export type { WireRequest, WireResponse } from './api-gateway-http-event';

/** `tritonclient.utils.InferenceServerException`: `str()` is `[status] message`. */
export class InferenceServerException extends Error {
  constructor(
    private readonly msg: string,
    private readonly statusCode?: string,
    private readonly details?: string,
  ) {
    super(statusCode === undefined ? msg : `[${statusCode}] ${msg}`);
    this.name = 'InferenceServerException';
  }
  /** `message()`: the server's message without the `[status]` prefix. */
  serverMessage(): string {
    return this.msg;
  }
  status(): string | undefined {
    return this.statusCode;
  }
  debugDetails(): string | undefined {
    return this.details;
  }
}

// ---------------------------------------------------------------------------------------------
// numpy stand-in

export type NumpyDtype = 'bool' | 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'float16' | 'float32' | 'float64' | 'object';

/** Elements of an `object` array: Python `bytes` (Uint8Array) or `str` (string). */
export type ObjectElement = Uint8Array | string;

/** A C-contiguous numpy array: bool as 0/1 bytes, float16 as its raw bits (Uint16Array). */
export interface NdArray {
  readonly dtype: NumpyDtype;
  readonly shape: readonly number[];
  readonly data: NumericTensorData | readonly ObjectElement[];
}

const STORAGE = {
  bool: Uint8Array, int8: Int8Array, int16: Int16Array, int32: Int32Array, int64: BigInt64Array,
  uint8: Uint8Array, uint16: Uint16Array, uint32: Uint32Array, uint64: BigUint64Array,
  float16: Uint16Array, float32: Float32Array, float64: Float64Array,
} as const;

/** An array of `dtype` and `shape`; throws when the data's length is not the shape's element count. */
export function ndarray(dtype: NumpyDtype, shape: readonly number[], data: NdArray['data']): NdArray {
  const size = shape.reduce((n, d) => n * d, 1);
  if (data.length !== size) throw new Error(`cannot reshape array of size ${data.length} into shape (${shape.join(', ')}${shape.length === 1 ? ',' : ''})`);
  if (dtype === 'object' ? !Array.isArray(data) : !(data instanceof STORAGE[dtype])) throw new Error(`data does not match dtype ${dtype}`);
  return { dtype, shape: [...shape], data };
}

/** `tritonclient.utils.np_to_triton_dtype`. */
export function npToTritonDtype(dtype: NumpyDtype): string {
  const table: Record<NumpyDtype, string> = {
    bool: 'BOOL', int8: 'INT8', int16: 'INT16', int32: 'INT32', int64: 'INT64', uint8: 'UINT8', uint16: 'UINT16', uint32: 'UINT32',
    uint64: 'UINT64', float16: 'FP16', float32: 'FP32', float64: 'FP64', object: 'BYTES',
  };
  return table[dtype];
}

/** `tritonclient.utils.triton_to_np_dtype` (BF16 reads as float32; unknown names give undefined, numpy's `None`). */
export function tritonToNpDtype(datatype: string): NumpyDtype | undefined {
  const table: Record<string, NumpyDtype> = {
    BOOL: 'bool', INT8: 'int8', INT16: 'int16', INT32: 'int32', INT64: 'int64', UINT8: 'uint8', UINT16: 'uint16', UINT32: 'uint32',
    UINT64: 'uint64', FP16: 'float16', FP32: 'float32', BF16: 'float32', FP64: 'float64', BYTES: 'object',
  };
  return table[datatype];
}

/** Python's `str(tuple)` without the parentheses, as the client's shape error prints it. */
function pyShapeText(shape: readonly number[], tuple: boolean): string {
  return shape.length === 1 && tuple ? `${shape[0]},` : shape.join(', ');
}

// ---------------------------------------------------------------------------------------------
// InferInput (_infer_input.py)

const UTF8_STRICT = new TextDecoder('utf-8', { fatal: true });

export class InferInput {
  private parameters: Record<string, PyJsonValue> = {};
  private data: PyJsonValue[] | undefined;
  private rawData: Uint8Array | undefined;

  constructor(
    private readonly inputName: string,
    private inputShape: readonly number[],
    private readonly inputDatatype: string,
  ) {}

  name(): string {
    return this.inputName;
  }
  datatype(): string {
    return this.inputDatatype;
  }
  shape(): readonly number[] {
    return this.inputShape;
  }
  setShape(shape: readonly number[]): this {
    this.inputShape = shape;
    return this;
  }

  /**
   * `set_data_from_numpy(input_tensor, binary_data=True)`: checks the dtype and shape against
   * the declared ones, then keeps the data as a JSON list (binary_data=False: `val.item()` of
   * each element, row-major; BYTES as UTF-8 `str`) or as raw bytes (`tobytes()`; BYTES as
   * `serialize_byte_tensor`: a 4-byte little-endian length before each element) with
   * `parameters.binary_data_size` set to their length (0 for an empty tensor).
   */
  setDataFromNumpy(tensor: NdArray, options: { binaryData?: boolean } = {}): this {
    const binaryData = options.binaryData ?? true;
    if (this.inputDatatype === 'BF16') throw new InferenceServerException('BF16 is not modelled by this port');
    const dtype = npToTritonDtype(tensor.dtype);
    if (this.inputDatatype !== dtype) {
      throw new InferenceServerException(`got unexpected datatype ${dtype} from numpy array, expected ${this.inputDatatype}`);
    }
    const sameShape = this.inputShape.length === tensor.shape.length && this.inputShape.every((d, i) => d === tensor.shape[i]);
    if (!sameShape) {
      throw new InferenceServerException(
        `got unexpected numpy array shape [${pyShapeText(tensor.shape, true)}], expected [${pyShapeText(this.inputShape, false)}]`,
      );
    }
    delete this.parameters.shared_memory_region;
    delete this.parameters.shared_memory_byte_size;
    delete this.parameters.shared_memory_offset;
    if (!binaryData) {
      delete this.parameters.binary_data_size;
      this.rawData = undefined;
      this.data = jsonItems(tensor);
    } else {
      this.data = undefined;
      this.rawData = this.inputDatatype === 'BYTES' ? serializeByteTensor(tensor) : rawBytes(tensor);
      this.parameters.binary_data_size = this.rawData.byteLength;
    }
    return this;
  }

  /** `_get_binary_data()`. */
  binaryData(): Uint8Array | undefined {
    return this.rawData;
  }

  /** `_get_tensor()`: name, shape, datatype, then parameters when any, then data when JSON. */
  tensorJson(): Record<string, PyJsonValue> {
    const tensor: Record<string, PyJsonValue> = { name: this.inputName, shape: [...this.inputShape], datatype: this.inputDatatype };
    if (Object.keys(this.parameters).length > 0) tensor.parameters = { ...this.parameters };
    if (this.parameters.shared_memory_region === undefined && this.rawData === undefined && this.data !== undefined) tensor.data = this.data;
    return tensor;
  }
}

/** `[val.item() for val in input_tensor.flatten()]`, or the BYTES branch's `str` per element. */
function jsonItems(tensor: NdArray): PyJsonValue[] {
  const { dtype, data } = tensor;
  if (dtype === 'object') {
    return (data as readonly ObjectElement[]).map((element) => {
      if (typeof element === 'string') return element;
      try {
        return UTF8_STRICT.decode(element);
      } catch {
        throw new InferenceServerException(
          `Failed to encode "${pyBytesRepr(element)}" using UTF-8. Please use binary_data=True, if you want to pass a byte array.`,
        );
      }
    });
  }
  const out: PyJsonValue[] = new Array(data.length);
  const numeric = data as NumericTensorData;
  for (let i = 0; i < numeric.length; i++) {
    const v = numeric[i]!;
    if (dtype === 'bool') out[i] = v !== 0;
    else if (dtype === 'float16') out[i] = new PyFloat(halfBitsToFloat32(v as number));
    else if (dtype === 'float32' || dtype === 'float64') out[i] = new PyFloat(v as number);
    else out[i] = v;
  }
  return out;
}

function pyBytesRepr(bytes: Uint8Array): string {
  let out = "b'";
  for (const b of bytes) out += b >= 0x20 && b < 0x7f && b !== 0x27 && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  return `${out}'`;
}

function rawBytes(tensor: NdArray): Uint8Array {
  const numeric = tensor.data as NumericTensorData;
  return Buffer.from(numeric.buffer, numeric.byteOffset, numeric.byteLength);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** `serialize_byte_tensor`: `bytes` as they are, `str` as UTF-8, each after `struct.pack("<I", len)`. */
export function serializeByteTensor(tensor: NdArray): Uint8Array {
  if (tensor.dtype !== 'object') throw new InferenceServerException('cannot serialize bytes tensor: invalid datatype');
  const parts: Buffer[] = [];
  for (const element of tensor.data as readonly ObjectElement[]) {
    if (typeof element === 'string' && LONE_SURROGATE.test(element)) throw new InferenceServerException(`'utf-8' codec can't encode a lone surrogate in ${JSON.stringify(element)}`);
    const bytes = typeof element === 'string' ? Buffer.from(element, 'utf8') : Buffer.from(element);
    const length = Buffer.alloc(4);
    length.writeUInt32LE(bytes.byteLength);
    parts.push(length, bytes);
  }
  return Buffer.concat(parts);
}

/** `deserialize_bytes_tensor`: elements as `bytes`, read until the buffer ends (struct.error past it). */
export function deserializeBytesTensor(encoded: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  const view = new DataView(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  let offset = 0;
  while (offset < encoded.byteLength) {
    if (offset + 4 > encoded.byteLength) throw new InferenceServerException(`unpack_from requires a buffer of at least ${offset + 4} bytes for unpacking 4 bytes at offset ${offset} (actual buffer size is ${encoded.byteLength})`);
    const length = view.getUint32(offset, true);
    offset += 4;
    if (offset + length > encoded.byteLength) throw new InferenceServerException(`unpack_from requires a buffer of at least ${offset + length} bytes for unpacking ${length} bytes at offset ${offset} (actual buffer size is ${encoded.byteLength})`);
    out.push(new Uint8Array(encoded.subarray(offset, offset + length)));
    offset += length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// InferRequestedOutput (_requested_output.py)

export class InferRequestedOutput {
  private readonly parameters: Record<string, PyJsonValue> = {};

  /**
   * `InferRequestedOutput(name, binary_data=True, class_count=0)`: parameters are
   * `classification` (only when class_count is not 0) and then `binary_data`, always set.
   * Note the wire name: the client sends `classification`, not `class_count`.
   */
  constructor(
    private readonly outputName: string,
    options: { binaryData?: boolean; classCount?: number } = {},
  ) {
    const classCount = options.classCount ?? 0;
    if (classCount !== 0) this.parameters.classification = classCount;
    this.parameters.binary_data = options.binaryData ?? true;
  }

  name(): string {
    return this.outputName;
  }

  tensorJson(): Record<string, PyJsonValue> {
    return { name: this.outputName, parameters: { ...this.parameters } };
  }
}

// ---------------------------------------------------------------------------------------------
// _get_inference_request (_utils.py)

export interface InferOptions {
  readonly modelVersion?: string;
  readonly outputs?: readonly InferRequestedOutput[];
  readonly requestId?: string;
  readonly sequenceId?: number | string;
  readonly sequenceStart?: boolean;
  readonly sequenceEnd?: boolean;
  readonly priority?: number;
  /** Microseconds. */
  readonly timeout?: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly queryParams?: Readonly<Record<string, string | number | readonly (string | number)[]>>;
  readonly requestCompressionAlgorithm?: 'gzip' | 'deflate';
  readonly responseCompressionAlgorithm?: 'gzip' | 'deflate';
  /** Custom request parameters; keys are kept in insertion order. */
  readonly parameters?: Readonly<Record<string, PyJsonValue>>;
}

const RESERVED_PARAMETERS = ['sequence_id', 'sequence_start', 'sequence_end', 'priority', 'timeout', 'headers', 'binary_data_output'];

/**
 * `_get_inference_request`: the JSON object in the client's key order (`id`, `inputs`,
 * `outputs`, then `parameters`: sequence_id/start/end when sequence_id is neither 0 nor "",
 * priority when not 0, timeout when given, `binary_data_output: true` when no outputs are
 * named, then custom parameters), written by rapidjson, followed by each input's raw bytes in
 * input order. `jsonSize` is the JSON's length when any input is binary (the
 * Inference-Header-Content-Length), else undefined: then the JSON is the whole body.
 */
export function getInferenceRequest(inputs: readonly InferInput[], options: InferOptions = {}): { body: Buffer; jsonSize: number | undefined } {
  const request: Record<string, PyJsonValue> = {};
  const parameters: Record<string, PyJsonValue> = {};
  const requestId = options.requestId ?? '';
  if (requestId !== '') request.id = requestId;
  const sequenceId = options.sequenceId ?? 0;
  if (sequenceId !== 0 && sequenceId !== '') {
    parameters.sequence_id = sequenceId;
    parameters.sequence_start = options.sequenceStart ?? false;
    parameters.sequence_end = options.sequenceEnd ?? false;
  }
  if ((options.priority ?? 0) !== 0) parameters.priority = options.priority!;
  if (options.timeout !== undefined) parameters.timeout = options.timeout;
  request.inputs = inputs.map((input) => input.tensorJson());
  if (options.outputs && options.outputs.length > 0) request.outputs = options.outputs.map((output) => output.tensorJson());
  else parameters.binary_data_output = true;
  for (const [key, value] of Object.entries(options.parameters ?? {})) {
    if (RESERVED_PARAMETERS.includes(key) || key.startsWith('triton_')) {
      throw new InferenceServerException(`Parameter "${key}" is a reserved parameter and cannot be specified.`);
    }
    parameters[key] = value;
  }
  if (Object.keys(parameters).length > 0) request.parameters = parameters;
  // ensure_ascii makes the JSON pure ASCII: len(request_json) is its byte length too.
  const json = Buffer.from(pyJsonDumps(request), 'latin1');
  const binaries = inputs.map((input) => input.binaryData()).filter((raw): raw is Uint8Array => raw !== undefined);
  if (binaries.length === 0) return { body: json, jsonSize: undefined };
  return { body: Buffer.concat([json, ...binaries]), jsonSize: json.byteLength };
}

/**
 * `gzip.compress(data)` as CPython writes it: level 9, a 10-byte header with the current time
 * as mtime, XFL 2 (best compression) and OS 255 (unknown), raw deflate, CRC-32 and length
 * (gzip.py `_create_simple_gzip_header` and `compress`).
 */
export function pythonGzipCompress(data: Uint8Array, mtimeSeconds = Math.floor(Date.now() / 1000)): Buffer {
  const header = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255]);
  header.writeUInt32LE(mtimeSeconds >>> 0, 4);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(data) >>> 0, 0);
  trailer.writeUInt32LE(data.byteLength >>> 0, 4);
  return Buffer.concat([header, deflateRawSync(data, { level: 9 }), trailer]);
}

/** `zlib.compress(data)`: the zlib format (2-byte header, deflate, Adler-32) at the default level. */
export function pythonZlibCompress(data: Uint8Array): Buffer {
  return deflateSync(data);
}

// ---------------------------------------------------------------------------------------------
// URL quoting as urllib.parse does it

const QUOTE_SAFE = /[A-Za-z0-9_.\-~]/;

/** `urllib.parse.quote(text)` (safe '/'); `quote_plus` (safe '', space as '+') with `plus`. */
export function pyQuote(text: string, plus = false): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (QUOTE_SAFE.test(c) || (!plus && c === '/')) out += c;
    else if (plus && c === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function queryString(params: NonNullable<InferOptions['queryParams']>): string {
  const pairs: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    const values = Array.isArray(value) ? value : [value];
    for (const item of values) pairs.push(`${pyQuote(key, true)}=${pyQuote(String(item), true)}`);
  }
  return pairs.join('&');
}

// ---------------------------------------------------------------------------------------------
// Transports

/** Sends one request as it is and returns the answer. */
export type Transport = (request: WireRequest) => Promise<WireResponse>;

/**
 * Real HTTP over node:http with a keep-alive agent. The headers go out in the given order and
 * case; node adds one header the Python client does not send, `Connection: keep-alive` (which
 * HTTP/1.1 means anyway); everything else on the wire is the client's.
 */
export function nodeHttpTransport(baseUrl: string): { transport: Transport; close(): void } {
  const url = new URL(baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const transport: Transport = (request) =>
    new Promise<WireResponse>((resolve, reject) => {
      const flat: string[] = [];
      for (const [name, value] of request.headers) flat.push(name, value);
      const req = httpRequest({ host: url.hostname, port: url.port || 80, method: request.method, path: request.target, headers: flat, agent, setHost: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
          resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks) });
        });
      });
      req.on('error', reject);
      req.end(Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength));
    });
  return { transport, close: () => agent.destroy() };
}

/** Through API Gateway: the request becomes the HTTP API's payload 2.0 event, the result the client's answer. */
export function apiGatewayTransport(
  invoke: (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyResultV2>,
  options: HttpApiEventOptions = {},
): Transport {
  return async (request) => httpApiResponseFromResult(await invoke(buildHttpApiEvent(request, options)));
}

// ---------------------------------------------------------------------------------------------
// InferenceServerClient (_client.py)

const USER_AGENT = 'python/gevent-http-client-2.3.8';

export class TritonHttpClient {
  /** The last request put on the wire, for tests that check what the client sent. */
  lastRequest: WireRequest | undefined;
  /** The last answer as it came off the wire (before any decompression). */
  lastResponse: WireResponse | undefined;

  /**
   * @param url `host:port[/base/path]` without a scheme, as `InferenceServerClient(url)` takes it
   *   (for API Gateway: the value of the Host header the client would send)
   */
  constructor(
    private readonly transport: Transport,
    url: string,
    private readonly onClose: () => void = () => {},
  ) {
    if (url.startsWith('http://') || url.startsWith('https://')) throw new InferenceServerException('url should not include the scheme');
    const parsed = new URL(`http://${url}`);
    this.hostHeader = parsed.port === '' || parsed.port === '80' || parsed.port === '443' ? parsed.hostname : `${parsed.hostname}:${parsed.port}`;
    this.baseUri = parsed.pathname.replace(/\/+$/, '');
  }

  private readonly hostHeader: string;
  private readonly baseUri: string;

  /** A client for a real server at `host:port` (node:http, keep-alive). */
  static overHttp(hostPort: string): TritonHttpClient {
    const { transport, close } = nodeHttpTransport(`http://${hostPort.split('/')[0]}`);
    return new TritonHttpClient(transport, hostPort, close);
  }

  /** A client whose requests reach `invoke` as API Gateway HTTP API events. */
  static throughApiGateway(invoke: (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyResultV2>, options: HttpApiEventOptions = {}): TritonHttpClient {
    const domainName = options.domainName ?? 'abc123.execute-api.us-east-1.amazonaws.com';
    return new TritonHttpClient(apiGatewayTransport(invoke, { ...options, domainName }), domainName);
  }

  close(): void {
    this.onClose();
  }

  /** `generate_request_body`. */
  static generateRequestBody(inputs: readonly InferInput[], options: InferOptions = {}) {
    return getInferenceRequest(inputs, options);
  }

  /** `parse_response_body`. */
  static parseResponseBody(body: Uint8Array, headerLength?: number, contentEncoding?: string): InferResult {
    return new InferResult(body, headerLength === undefined ? undefined : String(headerLength), contentEncoding);
  }

  /**
   * `infer(model_name, inputs, ...)`: headers are the caller's, then `Content-Encoding` (the
   * body gzip- or zlib-compressed), `Accept-Encoding`, `Inference-Header-Content-Length` when
   * any input is binary — and never a Content-Type, JSON or binary. POST to
   * `<base>/v2/models/<quote(name)>[/versions/<v>]/infer[?query]`. A status other than 200
   * raises InferenceServerException with the answer's `error`.
   */
  async infer(modelName: string, inputs: readonly InferInput[], options: InferOptions = {}): Promise<InferResult> {
    const { body: plain, jsonSize } = getInferenceRequest(inputs, options);
    const headers: Record<string, string> = { ...options.headers };
    let body: Uint8Array = plain;
    if (options.requestCompressionAlgorithm === 'gzip') {
      headers['Content-Encoding'] = 'gzip';
      body = pythonGzipCompress(plain);
    } else if (options.requestCompressionAlgorithm === 'deflate') {
      headers['Content-Encoding'] = 'deflate';
      body = pythonZlibCompress(plain);
    }
    if (options.responseCompressionAlgorithm === 'gzip') headers['Accept-Encoding'] = 'gzip';
    else if (options.responseCompressionAlgorithm === 'deflate') headers['Accept-Encoding'] = 'deflate';
    if (jsonSize !== undefined) headers['Inference-Header-Content-Length'] = String(jsonSize);
    const version = options.modelVersion ?? '';
    const path = version !== '' ? `v2/models/${pyQuote(modelName)}/versions/${version}/infer` : `v2/models/${pyQuote(modelName)}/infer`;
    const response = await this.post(path, body, headers, options.queryParams);
    raiseIfError(response);
    return new InferResult(response.body, headerValue(response, 'inference-header-content-length'), headerValue(response, 'content-encoding'));
  }

  /** `_post` → geventhttpclient `_build_request`: User-Agent, the caller's headers, Host, Content-Length (when the body is not empty). */
  private async post(path: string, body: Uint8Array, headers: Record<string, string>, query: InferOptions['queryParams']): Promise<WireResponse> {
    if (Object.keys(headers).some((name) => name.toLowerCase() === 'transfer-encoding')) {
      throw new InferenceServerException(
        "Unsupported HTTP header: 'Transfer-Encoding' is not supported in the Python client library. Use raw HTTP request libraries or the C++ client instead for this header.",
      );
    }
    let target = `${this.baseUri}/${path}`;
    if (query !== undefined) target += `?${queryString(query)}`;
    const fields: [string, string][] = [['User-Agent', USER_AGENT]];
    for (const [name, value] of Object.entries(headers)) {
      const existing = fields.findIndex(([n]) => n.toLowerCase() === name.toLowerCase());
      if (existing >= 0) fields.splice(existing, 1);
      fields.push([name, value]);
    }
    if (!fields.some(([n]) => n.toLowerCase() === 'host')) fields.push(['Host', this.hostHeader]);
    if (body.byteLength > 0 && !fields.some(([n]) => n.toLowerCase() === 'content-length')) fields.push(['Content-Length', String(body.byteLength)]);
    const request: WireRequest = { method: 'POST', target, headers: fields, body };
    this.lastRequest = request;
    this.lastResponse = await this.transport(request);
    return this.lastResponse;
  }
}

function headerValue(response: WireResponse, name: string): string | undefined {
  for (const [key, value] of Object.entries(response.headers)) if (key.toLowerCase() === name) return value;
  return undefined;
}

/**
 * `_utils._raise_if_error`: any status but 200 is an error whose message is the body's
 * `error` field — read from the raw body, never decompressed; an empty body, a body that is not
 * JSON or has no `error` gives the client's "an exception occurred in the client while
 * decoding the response" message instead.
 */
function raiseIfError(response: WireResponse): void {
  if (response.status === 200) return;
  let body: string | undefined;
  try {
    body = UTF8_STRICT.decode(response.body);
    const parsed = body.length > 0 ? pyJsonLoads(body) : { error: 'client received an empty response from the server.' };
    const message = (parsed as Record<string, PyParsed> | null)?.error;
    if (message === undefined) throw new Error("'error'"); // str(KeyError('error'))
    throw new InferenceServerException(typeof message === 'string' ? message : String(message), String(response.status));
  } catch (error) {
    if (error instanceof InferenceServerException) throw error;
    throw new InferenceServerException(
      `an exception occurred in the client while decoding the response: ${(error as Error).message}\nresponse: ${body}`,
      String(response.status),
      body,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// InferResult (_infer_result.py)

export interface ResultOutput {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly parameters?: Record<string, PyParsed>;
  readonly data?: PyParsed[];
}

export class InferResult {
  private readonly result: Record<string, PyParsed>;
  private readonly buffer: Uint8Array = new Uint8Array(0);
  private readonly bufferIndex = new Map<string, number>();

  /**
   * As `InferResult.__init__`: the body is first decompressed when Content-Encoding is exactly
   * `gzip` (gzip.decompress) or `deflate` (zlib.decompress: the zlib format, not raw
   * deflate); any other value is ignored. Without Inference-Header-Content-Length the whole
   * body is the JSON; with it (`int()` of the header; it counts bytes of the decompressed
   * body) the JSON is that many bytes and the rest is the binary buffer, where each output
   * with `parameters.binary_data_size` takes its bytes in output order.
   */
  constructor(body: Uint8Array, headerLength: string | undefined, contentEncoding: string | undefined) {
    let content: Uint8Array = body;
    if (contentEncoding === 'gzip') content = gunzipSync(body);
    else if (contentEncoding === 'deflate') content = inflateSync(body);
    if (headerLength === undefined) {
      this.result = loadsObject(content);
      return;
    }
    const length = pythonInt(headerLength);
    this.result = loadsObject(pySlice(content, 0, length));
    this.buffer = pySlice(content, length, content.byteLength);
    let index = 0;
    for (const output of this.outputsList() ?? []) {
      const size = output.parameters?.binary_data_size;
      if (size !== undefined) {
        this.bufferIndex.set(output.name, index);
        index += Number(size);
      }
    }
  }

  private outputsList(): ResultOutput[] | undefined {
    return this.result.outputs as unknown as ResultOutput[] | undefined;
  }

  /** `get_response()`. */
  getResponse(): Record<string, PyParsed> {
    return this.result;
  }

  /** `get_output(name)`. */
  getOutput(name: string): ResultOutput | undefined {
    return (this.outputsList() ?? []).find((output) => output.name === name);
  }

  /**
   * `as_numpy(name)`: binary outputs from their slice of the buffer (`np.frombuffer` of the
   * datatype; BYTES by `deserialize_bytes_tensor` as `bytes`; a binary_data_size of 0 as
   * `np.empty(0)`, float64), JSON outputs as `np.array(data, dtype)` (BYTES as `str`), then
   * reshaped to the output's shape. undefined (numpy's None) when there is no such output.
   */
  asNumpy(name: string): NdArray | undefined {
    const outputs = this.outputsList();
    if (outputs === undefined) return undefined;
    for (const output of outputs) {
      if (output.name !== name) continue;
      const dtype = tritonToNpDtype(output.datatype);
      const size = output.parameters?.binary_data_size;
      let flat: NdArray;
      if (size !== undefined) {
        if (Number(size) === 0) flat = { dtype: 'float64', shape: [0], data: new Float64Array(0) };
        else {
          const start = this.bufferIndex.get(name)!;
          const chunk = pySlice(this.buffer, start, start + Number(size));
          flat = frombuffer(chunk, output.datatype, dtype);
        }
      } else {
        flat = arrayFromJson(output.data ?? [], dtype, name);
      }
      return reshape(flat, output.shape);
    }
    return undefined;
  }
}

function loadsObject(bytes: Uint8Array): Record<string, PyParsed> {
  const parsed = pyJsonLoads(UTF8_STRICT.decode(bytes));
  return parsed as Record<string, PyParsed>;
}

/** Python `int(text)`: optional surrounding whitespace and sign, digits with single underscores. */
function pythonInt(text: string): number {
  const trimmed = text.trim();
  if (!/^[+-]?\d+(_\d+)*$/.test(trimmed)) throw new InferenceServerException(`invalid literal for int() with base 10: '${text}'`);
  return Number(trimmed.replace(/_/g, ''));
}

/** Python slicing `bytes[start:end]`: clamped, negative indices from the end. */
function pySlice(bytes: Uint8Array, start: number, end: number): Uint8Array {
  const n = bytes.byteLength;
  const clamp = (i: number) => (i < 0 ? Math.max(0, n + i) : Math.min(n, i));
  const s = clamp(start);
  const e = clamp(end);
  return e > s ? bytes.subarray(s, e) : new Uint8Array(0);
}

function frombuffer(chunk: Uint8Array, datatype: string, dtype: NumpyDtype | undefined): NdArray {
  if (datatype === 'BYTES') return { dtype: 'object', shape: [], data: deserializeBytesTensor(chunk) };
  if (datatype === 'BF16') throw new InferenceServerException('BF16 is not modelled by this port');
  if (dtype === undefined || dtype === 'object') throw new InferenceServerException(`data type not understood: ${datatype}`);
  const Storage = STORAGE[dtype];
  if (chunk.byteLength % Storage.BYTES_PER_ELEMENT !== 0) throw new InferenceServerException('buffer size must be a multiple of element size');
  // A copy into a fresh buffer (np.frombuffer of a bytes slice); Buffer#slice would be a view.
  const copy = new Uint8Array(chunk);
  return { dtype, shape: [], data: new Storage(copy.buffer, 0, copy.byteLength / Storage.BYTES_PER_ELEMENT) };
}

/**
 * `np.array(output["data"], dtype=...)` for the flat lists servers send: numbers, bools, and
 * for float dtypes the strings float() reads ("NaN", "inf", "Infinity", "1.5"); for integer
 * dtypes ints (range-checked, as numpy 2 does) and decimal strings. Other coercions numpy
 * would do are refused rather than guessed.
 */
function arrayFromJson(data: PyParsed[], dtype: NumpyDtype | undefined, name: string): NdArray {
  const fail = (i: number): never => {
    throw new InferenceServerException(`output '${name}': cannot convert ${JSON.stringify(String(data[i]))} to ${dtype}`);
  };
  if (dtype === undefined) throw new InferenceServerException(`output '${name}': unknown datatype`);
  if (dtype === 'object') return { dtype, shape: [], data: data.map((v) => (typeof v === 'string' ? v : String(v))) };
  const out = new STORAGE[dtype](data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (dtype === 'bool') {
      if (typeof v === 'boolean') out[i] = v ? 1 : 0;
      else if (v === 0 || v === 1) out[i] = v;
      else fail(i);
    } else if (dtype === 'float16' || dtype === 'float32' || dtype === 'float64') {
      const n = typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : typeof v === 'boolean' ? Number(v) : typeof v === 'string' ? pythonFloat(v) : undefined;
      if (n === undefined) fail(i);
      out[i] = dtype === 'float16' ? float32ToHalfBits(n!) : n!;
    } else {
      let big: bigint | undefined;
      if (typeof v === 'bigint') big = v;
      else if (typeof v === 'number' && Number.isFinite(v)) big = BigInt(Math.trunc(v));
      else if (typeof v === 'boolean') big = v ? 1n : 0n;
      else if (typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v)) big = BigInt(v.trim());
      if (big === undefined) return fail(i);
      const bits = BigInt(STORAGE[dtype].BYTES_PER_ELEMENT * 8);
      const [min, max] = dtype.startsWith('u') ? [0n, 2n ** bits - 1n] : [-(2n ** (bits - 1n)), 2n ** (bits - 1n) - 1n];
      if (big < min || big > max) throw new InferenceServerException(`Python integer ${big} out of bounds for ${dtype}`);
      out[i] = dtype === 'int64' || dtype === 'uint64' ? (big as never) : (Number(big) as never);
    }
  }
  return { dtype, shape: [], data: out };
}

function pythonFloat(text: string): number | undefined {
  const t = text.trim().toLowerCase().replace(/_/g, '');
  if (/^[+-]?(nan)$/.test(t)) return NaN;
  if (/^[+-]?(inf|infinity)$/.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t)) return Number(t);
  return undefined;
}

/** `ndarray.reshape(shape)`: numpy's ValueError text when the sizes differ. */
function reshape(flat: NdArray, shape: readonly number[]): NdArray {
  const size = shape.reduce((n, d) => n * d, 1);
  if (flat.data.length !== size) {
    throw new InferenceServerException(`cannot reshape array of size ${flat.data.length} into shape (${pyShapeText(shape, true)})`);
  }
  return { dtype: flat.dtype, shape: [...shape], data: flat.data };
}
