import { gunzipSync, inflateSync } from 'node:zlib';
import { formatPrintfFixed6 } from '../../lib/protocol/classification';
import { startOipServer, type RunningOipServer } from '../../lib/server/oip-server';
import { buildHttpApiEvent, httpApiDeliversText } from '../support/api-gateway-http-event';
import { createInProcessApi, type InProcessApi } from '../support/in-process-api';
import { pyJsonDumps, pythonFloatRepr, PyFloat } from '../support/python-json';
import {
  InferenceServerException,
  InferInput,
  InferRequestedOutput,
  getInferenceRequest,
  ndarray,
  pythonGzipCompress,
  TritonHttpClient,
  type InferOptions,
  type NdArray,
} from '../support/triton-http-client';

/**
 * Requests built exactly as Triton's Python HTTP client (tritonclient.http) builds them, and
 * answers read as it reads them (test/support/triton-http-client.ts), against the real
 * handler: through API Gateway HTTP API events into the Lambda handler chain, and over real
 * HTTP into the OIP server. "Clients written for Triton must work against us unchanged."
 */

const IRIS_ROWS = [
  [5.1, 3.5, 1.4, 0.2],
  [6.7, 3.0, 5.2, 2.3],
  [5.9, 3.0, 4.2, 1.5],
];
const IRIS_LABELS = ['setosa', 'versicolor', 'virginica'];

function irisArray(rows: readonly (readonly number[])[] = IRIS_ROWS): NdArray {
  return ndarray('float32', [rows.length, 4], Float32Array.from(rows.flat()));
}

function irisInput(binaryData: boolean, rows?: readonly (readonly number[])[]): InferInput {
  const array = irisArray(rows);
  return new InferInput('input', array.shape, 'FP32').setDataFromNumpy(array, { binaryData });
}

function manyIrisRows(n: number): number[][] {
  return Array.from({ length: n }, (_, i) => IRIS_ROWS[i % 3]!.map((v, j) => v + ((i * 7 + j) % 5) / 10));
}

function header(client: TritonHttpClient, name: string): string | undefined {
  return client.lastRequest!.headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
}

/** The assertions every iris answer must pass: probabilities are distributions, labels their argmax. */
function expectIrisAnswer(probabilities: NdArray, labels: NdArray, rows: number): void {
  expect(probabilities).toMatchObject({ dtype: 'float32', shape: [rows, 3] });
  expect(labels).toMatchObject({ dtype: 'int64', shape: [rows] });
  const p = probabilities.data as Float32Array;
  for (let r = 0; r < rows; r++) {
    const row = Array.from(p.subarray(r * 3, r * 3 + 3));
    expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(Number((labels.data as BigInt64Array)[r])).toBe(row.indexOf(Math.max(...row)));
  }
}

let api: InProcessApi;
let server: RunningOipServer;
const clients: TritonHttpClient[] = [];

beforeAll(async () => {
  api = await createInProcessApi({ models: ['iris-classifier', 'silero-vad'] });
  server = await startOipServer({ runtime: api.runtime, port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  for (const client of clients) client.close();
  await server?.close(1000);
  await api?.runtime.registry.dispose();
});

const TRANSPORTS = [
  ['through API Gateway HTTP API events (in process)', () => TritonHttpClient.throughApiGateway(api.invoke)],
  ['over HTTP (lib/server/oip-server)', () => TritonHttpClient.overHttp(new URL(server.url).host)],
] as const;

describe.each(TRANSPORTS)('Triton HTTP client interop %s', (_, makeClient) => {
  let client: TritonHttpClient;
  beforeAll(() => {
    client = makeClient();
    clients.push(client);
  });

  async function plainProbabilities(rows = IRIS_ROWS): Promise<Float32Array> {
    const result = await client.infer('iris-classifier', [irisInput(true, rows)], { outputs: [new InferRequestedOutput('probabilities')] });
    return result.asNumpy('probabilities')!.data as Float32Array;
  }

  it('infers iris-classifier from a binary FP32 input sent with no Content-Type', async () => {
    // Prepare
    const outputs = [new InferRequestedOutput('probabilities'), new InferRequestedOutput('label')];
    // Act
    const result = await client.infer('iris-classifier', [irisInput(true)], { outputs });
    // Assess: the request was the client's (binary, no Content-Type), the answer binary.
    expect(header(client, 'Content-Type')).toBeUndefined();
    expect(header(client, 'Inference-Header-Content-Length')).toMatch(/^\d+$/);
    expect(result.getOutput('probabilities')!.parameters?.binary_data_size).toBe(36);
    expect(result.getResponse()).toMatchObject({ model_name: 'iris-classifier', model_version: '1' });
    expectIrisAnswer(result.asNumpy('probabilities')!, result.asNumpy('label')!, 3);
  });

  it('infers from a JSON input with JSON outputs (no Content-Type either)', async () => {
    const outputs = [new InferRequestedOutput('probabilities', { binaryData: false }), new InferRequestedOutput('label', { binaryData: false })];
    const result = await client.infer('iris-classifier', [irisInput(false)], { outputs });
    expect(header(client, 'Content-Type')).toBeUndefined();
    expect(header(client, 'Inference-Header-Content-Length')).toBeUndefined();
    expect(client.lastResponse!.headers['inference-header-content-length']).toBeUndefined();
    expect(result.getOutput('probabilities')!.data).toHaveLength(9);
    expectIrisAnswer(result.asNumpy('probabilities')!, result.asNumpy('label')!, 3);
    expect(Array.from(result.asNumpy('probabilities')!.data as Float32Array)).toEqual(Array.from(await plainProbabilities()));
  });

  it('answers every output in binary when no outputs are named (binary_data_output, the client default)', async () => {
    const result = await client.infer('iris-classifier', [irisInput(true)]);
    expect(JSON.parse(Buffer.from(client.lastRequest!.body.subarray(0, Number(header(client, 'Inference-Header-Content-Length')))).toString()).parameters).toEqual({ binary_data_output: true });
    for (const name of ['probabilities', 'label']) expect(result.getOutput(name)!.parameters?.binary_data_size).toBeGreaterThan(0);
    expectIrisAnswer(result.asNumpy('probabilities')!, result.asNumpy('label')!, 3);
  });

  it('answers binary_data_output for a JSON request too', async () => {
    const result = await client.infer('iris-classifier', [irisInput(false)]);
    expect(header(client, 'Inference-Header-Content-Length')).toBeUndefined();
    expect(result.getOutput('label')!.parameters?.binary_data_size).toBe(24);
    expectIrisAnswer(result.asNumpy('probabilities')!, result.asNumpy('label')!, 3);
  });

  it('answers one output in binary and one in JSON as asked', async () => {
    const outputs = [new InferRequestedOutput('probabilities', { binaryData: false }), new InferRequestedOutput('label', { binaryData: true })];
    const result = await client.infer('iris-classifier', [irisInput(true)], { outputs });
    expect(result.getOutput('probabilities')!.data).toHaveLength(9);
    expect(result.getOutput('probabilities')!.parameters?.binary_data_size).toBeUndefined();
    expect(result.getOutput('label')!.parameters?.binary_data_size).toBe(24);
    expectIrisAnswer(result.asNumpy('probabilities')!, result.asNumpy('label')!, 3);
  });

  it.each([true, false])('answers class_count=2 on probabilities as "score:index:label" BYTES (binary %p)', async (binaryData) => {
    // Prepare: the plain probabilities, to know what the top two must be.
    const probabilities = await plainProbabilities();
    const expected = IRIS_ROWS.flatMap((_, r) => {
      const row = Array.from(probabilities.subarray(r * 3, r * 3 + 3));
      const order = [0, 1, 2].sort((a, b) => row[b]! - row[a]! || a - b).slice(0, 2);
      return order.map((i) => `${formatPrintfFixed6(row[i]!)}:${i}:${IRIS_LABELS[i]}`);
    });
    // Act
    const result = await client.infer('iris-classifier', [irisInput(true)], { outputs: [new InferRequestedOutput('probabilities', { binaryData, classCount: 2 })] });
    // Assess: BYTES of shape [3, 2]; binary elements are bytes, JSON ones str (as numpy holds them).
    expect(result.getOutput('probabilities')).toMatchObject({ datatype: 'BYTES', shape: [3, 2] });
    const classes = result.asNumpy('probabilities')!;
    expect(classes).toMatchObject({ dtype: 'object', shape: [3, 2] });
    const texts = (classes.data as (Uint8Array | string)[]).map((e) => (typeof e === 'string' ? e : Buffer.from(e).toString('utf8')));
    expect(typeof classes.data[0]).toBe(binaryData ? 'object' : 'string');
    expect(texts).toEqual(expected);
  });

  it.each(['gzip', 'deflate'] as const)('takes a %s-compressed binary request (Content-Encoding, as the client compresses)', async (algorithm) => {
    const result = await client.infer('iris-classifier', [irisInput(true)], { requestCompressionAlgorithm: algorithm });
    expect(header(client, 'Content-Encoding')).toBe(algorithm);
    const body = client.lastRequest!.body;
    expect(Array.from(body.subarray(0, 2))).toEqual(algorithm === 'gzip' ? [0x1f, 0x8b] : [0x78, 0x9c]);
    expectIrisAnswer(result.asNumpy('probabilities')!, result.asNumpy('label')!, 3);
  });

  it('takes a gzip-compressed JSON request', async () => {
    const result = await client.infer('iris-classifier', [irisInput(false)], { requestCompressionAlgorithm: 'gzip' });
    expectIrisAnswer(result.asNumpy('probabilities')!, result.asNumpy('label')!, 3);
  });

  it.each(['gzip', 'deflate'] as const)('answers %s-compressed when the client asks (Accept-Encoding) and the answer is large', async (algorithm) => {
    // Prepare: 64 rows answered in JSON: several KB.
    const rows = manyIrisRows(64);
    const outputs = [new InferRequestedOutput('probabilities', { binaryData: false }), new InferRequestedOutput('label', { binaryData: false })];
    // Act
    const result = await client.infer('iris-classifier', [irisInput(true, rows)], { outputs, responseCompressionAlgorithm: algorithm });
    // Assess: compressed in the format the client inflates (deflate = zlib, as zlib.decompress reads).
    expect(header(client, 'Accept-Encoding')).toBe(algorithm);
    expect(client.lastResponse!.headers['content-encoding']).toBe(algorithm);
    const inflated = algorithm === 'gzip' ? gunzipSync(client.lastResponse!.body) : inflateSync(client.lastResponse!.body);
    expect(inflated.byteLength).toBeGreaterThan(client.lastResponse!.body.byteLength);
    expectIrisAnswer(result.asNumpy('probabilities')!, result.asNumpy('label')!, 64);
  });

  it('answers a compressed binary answer whose Inference-Header-Content-Length counts the inflated body', async () => {
    const rows = manyIrisRows(64);
    const result = await client.infer('iris-classifier', [irisInput(true, rows)], { responseCompressionAlgorithm: 'gzip' });
    expect(client.lastResponse!.headers['content-encoding']).toBe('gzip');
    expect(client.lastResponse!.headers['inference-header-content-length']).toMatch(/^\d+$/);
    expectIrisAnswer(result.asNumpy('probabilities')!, result.asNumpy('label')!, 64);
  });

  it('infers silero-vad from three binary inputs, one of them the INT64 scalar sr', async () => {
    // Prepare: 64 samples of context + 512 new at 16 kHz (a 440 Hz tone), a zero state.
    const audio = ndarray('float32', [1, 576], Float32Array.from({ length: 576 }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / 16000)));
    const state = ndarray('float32', [2, 1, 128], new Float32Array(256));
    const sr = ndarray('int64', [], BigInt64Array.of(16000n));
    const inputs = [
      new InferInput('input', [1, 576], 'FP32').setDataFromNumpy(audio),
      new InferInput('state', [2, 1, 128], 'FP32').setDataFromNumpy(state),
      new InferInput('sr', [], 'INT64').setDataFromNumpy(sr),
    ];
    // Act
    const result = await client.infer('silero-vad', inputs);
    // Assess
    const speech = result.asNumpy('output')!;
    expect(speech).toMatchObject({ dtype: 'float32', shape: [1, 1] });
    const probability = (speech.data as Float32Array)[0]!;
    expect(probability).toBeGreaterThanOrEqual(0);
    expect(probability).toBeLessThanOrEqual(1);
    expect(result.asNumpy('stateN')).toMatchObject({ dtype: 'float32', shape: [2, 1, 128] });
  });

  it('echoes a request id written with ensure_ascii escapes, and takes the timeout parameter', async () => {
    const result = await client.infer('iris-classifier', [irisInput(true)], { requestId: 'réq-日本-1', timeout: 5_000_000, modelVersion: '1' });
    expect(Buffer.from(client.lastRequest!.body).toString('latin1')).toContain('"id":"r\\u00E9q-\\u65E5\\u672C-1"');
    expect(client.lastRequest!.target).toBe('/v2/models/iris-classifier/versions/1/infer');
    expect(result.getResponse().id).toBe('réq-日本-1');
  });

  it('takes a binary request declared application/octet-stream', async () => {
    const result = await client.infer('iris-classifier', [irisInput(true)], { headers: { 'Content-Type': 'application/octet-stream' } });
    expectIrisAnswer(result.asNumpy('probabilities')!, result.asNumpy('label')!, 3);
  });

  it('raises InferenceServerException with the server\'s error for a wrong input (status 400)', async () => {
    const wrong = ndarray('float32', [2, 5], new Float32Array(10));
    const input = new InferInput('input', [2, 5], 'FP32').setDataFromNumpy(wrong);
    const error = await client.infer('iris-classifier', [input]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InferenceServerException);
    const exception = error as InferenceServerException;
    expect(exception.status()).toBe('400');
    expect(exception.serverMessage()).toMatch(/input 'input'.*\[-1,4\]/);
    expect(exception.message).toBe(`[400] ${exception.serverMessage()}`);
  });

  it('raises the server\'s error for an unknown model (404), also when the client accepts gzip', async () => {
    const error = (await client.infer('no-such-model', [irisInput(true)], { responseCompressionAlgorithm: 'gzip' }).catch((e: unknown) => e)) as InferenceServerException;
    expect(error).toBeInstanceOf(InferenceServerException);
    expect(error.status()).toBe('404');
    // The client reads an error body without decompressing it: an error must come uncompressed.
    expect(error.serverMessage()).toMatch(/no-such-model/);
  });
});

describe('a binary request declared Content-Type: application/json', () => {
  const options: InferOptions = { headers: { 'Content-Type': 'application/json' } };

  it('is binary over HTTP (Inference-Header-Content-Length decides)', async () => {
    const client = TritonHttpClient.overHttp(new URL(server.url).host);
    clients.push(client);
    const result = await client.infer('iris-classifier', [irisInput(true)], options);
    expectIrisAnswer(result.asNumpy('probabilities')!, result.asNumpy('label')!, 3);
  });

  it('through API Gateway arrives as lossy text and is refused with a 400 that says what to send', async () => {
    const client = TritonHttpClient.throughApiGateway(api.invoke);
    const error = (await client.infer('iris-classifier', [irisInput(true)], options).catch((e: unknown) => e)) as InferenceServerException;
    expect(error).toBeInstanceOf(InferenceServerException);
    expect(error.status()).toBe('400');
    expect(error.serverMessage()).toMatch(/content-type/i);
  });
});

describe('the client port puts on the wire what tritonclient.http does', () => {
  it('writes the request JSON in the client\'s key order, with Python float repr', () => {
    // Prepare
    const input = irisInput(false, [IRIS_ROWS[0]!]);
    const outputs = [new InferRequestedOutput('probabilities', { classCount: 2 }), new InferRequestedOutput('label', { binaryData: false })];
    // Act
    const { body, jsonSize } = getInferenceRequest([input], { outputs, requestId: 'x', priority: 2, timeout: 100, sequenceId: 7, sequenceStart: true, parameters: { custom: 'v' } });
    // Assess: float32 values travel as the doubles numpy's .item() gives.
    expect(jsonSize).toBeUndefined();
    expect(body.toString()).toBe(
      '{"id":"x","inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[5.099999904632568,3.5,1.399999976158142,0.20000000298023224]}],' +
        '"outputs":[{"name":"probabilities","parameters":{"classification":2,"binary_data":true}},{"name":"label","parameters":{"binary_data":false}}],' +
        '"parameters":{"sequence_id":7,"sequence_start":true,"sequence_end":false,"priority":2,"timeout":100,"custom":"v"}}',
    );
  });

  it('serialises BYTES with 4-byte length prefixes and flattens BOOL, BYTES, FP16 and 64-bit ints to JSON as Python values', () => {
    const strings = ndarray('object', [2], ['héllo', Buffer.from('a')]);
    const binary = new InferInput('s', [2], 'BYTES').setDataFromNumpy(strings);
    expect(Buffer.from(binary.binaryData()!).toString('hex')).toBe('06000000' + Buffer.from('héllo').toString('hex') + '01000000' + '61');
    expect(binary.tensorJson()).toEqual({ name: 's', shape: [2], datatype: 'BYTES', parameters: { binary_data_size: 15 } });
    const inputs = [
      new InferInput('s', [2], 'BYTES').setDataFromNumpy(strings, { binaryData: false }),
      new InferInput('b', [3], 'BOOL').setDataFromNumpy(ndarray('bool', [3], Uint8Array.of(1, 0, 2)), { binaryData: false }),
      new InferInput('h', [2], 'FP16').setDataFromNumpy(ndarray('float16', [2], Uint16Array.of(0x3c00, 0x2e66)), { binaryData: false }),
      new InferInput('i', [1], 'INT64').setDataFromNumpy(ndarray('int64', [1], BigInt64Array.of(-(2n ** 63n))), { binaryData: false }),
      new InferInput('e', [0], 'BYTES').setDataFromNumpy(ndarray('object', [0], []), { binaryData: true }),
    ];
    const { body, jsonSize } = getInferenceRequest(inputs);
    expect(jsonSize).toBe(body.byteLength);
    expect(body.toString()).toBe(
      '{"inputs":[{"name":"s","shape":[2],"datatype":"BYTES","data":["h\\u00E9llo","a"]},{"name":"b","shape":[3],"datatype":"BOOL","data":[true,false,true]},' +
        '{"name":"h","shape":[2],"datatype":"FP16","data":[1.0,0.0999755859375]},{"name":"i","shape":[1],"datatype":"INT64","data":[-9223372036854775808]},' +
        '{"name":"e","shape":[0],"datatype":"BYTES","parameters":{"binary_data_size":0}}],"parameters":{"binary_data_output":true}}',
    );
  });

  it('refuses data that does not match the declared datatype or shape, with the client\'s messages', () => {
    expect(() => new InferInput('x', [1, 4], 'FP64').setDataFromNumpy(irisArray([IRIS_ROWS[0]!]))).toThrow('got unexpected datatype FP32 from numpy array, expected FP64');
    expect(() => new InferInput('x', [4], 'FP32').setDataFromNumpy(irisArray([IRIS_ROWS[0]!]))).toThrow('got unexpected numpy array shape [1, 4], expected [4]');
    expect(() => getInferenceRequest([irisInput(true)], { parameters: { triton_x: 1 } })).toThrow('Parameter "triton_x" is a reserved parameter and cannot be specified.');
  });

  it('sends the headers geventhttpclient sends, in its order, and compresses as Python does', async () => {
    // Prepare: a transport that only records.
    let sent: { target: string; headers: readonly (readonly [string, string])[]; body: Uint8Array } | undefined;
    const client = new TritonHttpClient(async (request) => {
      sent = request;
      return { status: 200, headers: {}, body: Buffer.from('{"model_name":"m","outputs":[]}') };
    }, 'localhost:8000/base/');
    // Act
    await client.infer('a model/x', [irisInput(true)], { requestCompressionAlgorithm: 'gzip', responseCompressionAlgorithm: 'deflate', queryParams: { q: 'a b', r: [1, 2] } });
    // Assess
    expect(sent!.target).toBe('/base/v2/models/a%20model/x/infer?q=a+b&r=1&r=2');
    expect(sent!.headers.map(([name]) => name)).toEqual(['User-Agent', 'Content-Encoding', 'Accept-Encoding', 'Inference-Header-Content-Length', 'Host', 'Content-Length']);
    expect(Object.fromEntries(sent!.headers)).toMatchObject({ 'User-Agent': 'python/gevent-http-client-2.3.8', Host: 'localhost:8000', 'Content-Length': String(sent!.body.byteLength) });
    // gzip.compress: magic, deflate, no flags, mtime, XFL 2 (level 9), OS 255.
    expect([...sent!.body.subarray(0, 4), sent!.body[8], sent!.body[9]]).toEqual([0x1f, 0x8b, 8, 0, 2, 255]);
    const { body: plain, jsonSize } = getInferenceRequest([irisInput(true)]);
    expect(gunzipSync(sent!.body)).toEqual(plain);
    expect(Object.fromEntries(sent!.headers)['Inference-Header-Content-Length']).toBe(String(jsonSize));
    expect(pythonGzipCompress(Buffer.from('x'), 0).subarray(4, 8)).toEqual(Buffer.alloc(4));
  });

  it('writes floats as Python\'s repr and non-ASCII as uppercase \\u escapes', () => {
    expect([1, 1e-5, 1e16, 1234567890123456, 0.0001, 1.5e300, -0, 5e-324, 1e22].map((x) => pythonFloatRepr(x))).toEqual(
      ['1.0', '1e-05', '1e+16', '1234567890123456.0', '0.0001', '1.5e+300', '-0.0', '5e-324', '1e+22'],
    );
    expect(pyJsonDumps({ a: [new PyFloat(NaN), new PyFloat(-Infinity), 2n ** 64n, 'é😀\u001f/"\\'] })).toBe('{"a":[NaN,-Infinity,18446744073709551616,"\\u00E9\\uD83D\\uDE00\\u001F/\\"\\\\"]}');
  });
});

describe('API Gateway HTTP API events (payload 2.0)', () => {
  it.each<[string | undefined, boolean]>([
    [undefined, false],
    ['application/octet-stream', false],
    ['application/x-www-form-urlencoded', false],
    ['application/json', true],
    ['Application/JSON; charset=utf-8', true],
    ['text/plain', true],
    ['application/xml', true],
    ['application/javascript', true],
  ])('deliver a body with Content-Type %p as text: %p', (contentType, text) => {
    expect(httpApiDeliversText(contentType)).toBe(text);
    const headers: [string, string][] = contentType === undefined ? [] : [['Content-Type', contentType]];
    const event = buildHttpApiEvent({ method: 'POST', target: '/v2/models/m/infer?a=1&a=2', headers, body: Buffer.from('{"x":1}') });
    expect(event.isBase64Encoded).toBe(!text);
    expect(event.body).toBe(text ? '{"x":1}' : Buffer.from('{"x":1}').toString('base64'));
    expect(event).toMatchObject({ version: '2.0', rawPath: '/v2/models/m/infer', rawQueryString: 'a=1&a=2', queryStringParameters: { a: '1,2' } });
  });
});
