/**
 * Fuzzing the HTTP path of the OIP server (real sockets, real runtime and models): mutated
 * infer bodies, header values, lengths and encodings. Whatever arrives, the answer is never a
 * 5xx (a user's mistake is a 4xx that says what to fix), always `{"error"}` when it is an
 * error, and the server serves normally afterwards.
 */
import fc from 'fast-check';
import { request as httpRequest, Agent } from 'node:http';
import { deflateSync, gzipSync } from 'node:zlib';
import { encodeInferRequest } from '../../../lib/protocol/infer-request-encoder';
import { startOipServer, type RunningOipServer } from '../../../lib/server/oip-server';

let server: RunningOipServer;
const agent = new Agent({ keepAlive: true, maxSockets: 4 });

beforeAll(async () => {
  server = await startOipServer({ port: 0, config: { wasmThreads: 1, models: 'default', maxBodyBytes: 65_536, maxDecompressedBytes: 131_072 } });
}, 120_000);
afterAll(async () => {
  agent.destroy();
  await server?.close(0);
});

interface Sent { method: string; path: string; headers: Record<string, string>; body: Buffer }

function send({ method, path, headers, body }: Sent): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    // Node's client frames a DELETE/OPTIONS body only when told its length.
    const framed = body.byteLength > 0 ? { ...headers, 'content-length': String(body.byteLength) } : headers;
    const req = httpRequest(`${server.url}${path}`, { method, headers: framed, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const MODELS = ['iris-classifier', 'silero-vad', 'text-detector', 'silence-detector', 'iris-kmeans', 'iris-neighbors'];
const DATATYPES = ['BOOL', 'UINT8', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES', 'fp32', 'FLOAT'];

const dim = fc.oneof(fc.integer({ min: 0, max: 8 }), fc.constantFrom(-1, 576, 2 ** 31, 2 ** 53, 1e300, 0.5, NaN));
const element = fc.oneof(fc.double(), fc.integer(), fc.constantFrom('NaN', 'Infinity', '12345678901234567890', 'x', true, null), fc.constant([1, 2]));
const input = fc.record({
  name: fc.constantFrom('input', 'state', 'sr', 'x', 'audio', 'vectors', 'queries', 'k', ''),
  shape: fc.oneof(fc.array(dim, { maxLength: 5 }), fc.constant('[]')),
  datatype: fc.constantFrom(...DATATYPES),
  data: fc.oneof(fc.array(element, { maxLength: 40 }), fc.constant(undefined), fc.constant(7)),
  parameters: fc.option(fc.record({ binary_data_size: fc.oneof(fc.integer({ min: -4, max: 4096 }), fc.constant('16')) }), { nil: undefined }),
});
const inferBody = fc.record({
  id: fc.option(fc.oneof(fc.string(), fc.integer()), { nil: undefined }),
  parameters: fc.option(fc.record({
    timeout: fc.option(fc.oneof(fc.integer({ min: -10, max: 10 ** 7 }), fc.constant('1')), { nil: undefined }),
    binary_data_output: fc.option(fc.boolean(), { nil: undefined }),
  }), { nil: undefined }),
  inputs: fc.oneof(fc.array(input, { maxLength: 4 }), fc.constant(null)),
  outputs: fc.option(fc.array(fc.record({
    name: fc.constantFrom('probabilities', 'label', 'output', 'stateN', 'nope'),
    parameters: fc.option(fc.record({ binary_data: fc.boolean(), class_count: fc.oneof(fc.integer({ min: -2, max: 5 }), fc.constant(2.5)) }), { nil: undefined }),
  }), { maxLength: 3 }), { nil: undefined }),
});

/** A valid binary request of the model's own shape, as a base to mutate byte by byte. */
function validBinary(model: string): { body: Buffer; headerLength: number } {
  const tensors = model === 'silero-vad'
    ? [
      { name: 'input', datatype: 'FP32' as const, shape: [1, 576], data: new Float32Array(576) },
      { name: 'state', datatype: 'FP32' as const, shape: [2, 1, 128], data: new Float32Array(256) },
      { name: 'sr', datatype: 'INT64' as const, shape: [], data: BigInt64Array.of(16000n) },
    ]
    : [{ name: 'input', datatype: 'FP32' as const, shape: [1, 4], data: Float32Array.of(5.1, 3.5, 1.4, 0.2) }];
  const { body, headers } = encodeInferRequest(tensors, { binary: true });
  return { body, headerLength: Number(headers['inference-header-content-length']) };
}

const mutatedBinary = fc.record({
  model: fc.constantFrom('iris-classifier', 'silero-vad'),
  flips: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 6 }),
  cut: fc.option(fc.nat(), { nil: undefined }),
  headerLengthDelta: fc.oneof(fc.constant(0), fc.integer({ min: -20, max: 20 })),
  headerLengthText: fc.option(fc.constantFrom('', 'abc', '-1', '1e2', '0x10', '99999999999999999999'), { nil: undefined }),
}).map(({ model, flips, cut, headerLengthDelta, headerLengthText }): Sent => {
  const { body, headerLength } = validBinary(model);
  const bytes = Buffer.from(body);
  for (const { at, value } of flips) bytes[at % bytes.byteLength] = value;
  const sent = cut === undefined ? bytes : bytes.subarray(0, cut % (bytes.byteLength + 1));
  return {
    method: 'POST',
    path: `/v2/models/${model}/infer`,
    headers: { 'inference-header-content-length': headerLengthText ?? String(headerLength + headerLengthDelta) },
    body: sent,
  };
});

const jsonRequest = fc.record({
  model: fc.constantFrom(...MODELS, 'nope', '%zz', '..'),
  version: fc.option(fc.constantFrom('1', '2', 'latest', ''), { nil: undefined }),
  body: inferBody,
  contentType: fc.constantFrom(undefined, 'application/json', 'application/json; charset=utf-8', 'text/plain', 'application/octet-stream', ''),
  encoding: fc.constantFrom(undefined, 'gzip', 'deflate', 'identity', 'br', 'gzip, deflate'),
  acceptEncoding: fc.constantFrom(undefined, 'gzip', 'deflate;q=0.5, gzip;q=0', '*', 'br', 'identity;q=0'),
  truncate: fc.option(fc.nat(), { nil: undefined }),
}).map(({ model, version, body, contentType, encoding, acceptEncoding, truncate }): Sent => {
  let bytes = Buffer.from(JSON.stringify(body));
  if (truncate !== undefined) bytes = bytes.subarray(0, truncate % (bytes.byteLength + 1));
  if (encoding === 'gzip') bytes = gzipSync(bytes);
  if (encoding === 'deflate') bytes = deflateSync(bytes);
  const headers: Record<string, string> = {};
  if (contentType !== undefined) headers['content-type'] = contentType;
  if (encoding !== undefined) headers['content-encoding'] = encoding;
  if (acceptEncoding !== undefined) headers['accept-encoding'] = acceptEncoding;
  return { method: 'POST', path: `/v2/models/${encodeURIComponent(model)}${version === undefined ? '' : `/versions/${version}`}/infer`, headers, body: bytes };
});

const otherRoute = fc.record({
  method: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'),
  path: fc.constantFrom('/', '/v2', '/v2/', '/v2/health/live', '/v2/health/ready', '/v2/models', '/v2/models/iris-classifier', '/v2/models/iris-classifier/ready',
    '/v2/models/iris-classifier/versions/1/ready', '/v2/models/%E0%A4%A/infer', '/v2//models', '/v2/models/iris-classifier/infer?x=1', '/v3'),
  body: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
}).map(({ method, path, body }): Sent => ({ method, path, headers: {}, body: method === 'GET' || method === 'HEAD' ? Buffer.alloc(0) : body }));

/**
 * Requests one mutation away from valid, per model: the shapes, values and counts that reach
 * the runtime when validation lets them through (the cases that answered 500 before).
 */
const nearValid = fc.oneof(
  fc.record({ n: fc.integer({ min: 0, max: 1200 }), rows: fc.integer({ min: 0, max: 2 }), sr: fc.constantFrom(16000, 8000, 12345, 0, -1, 2 ** 40), stateBatch: fc.integer({ min: 0, max: 2 }) })
    .map(({ n, rows, sr, stateBatch }) => ({
      model: 'silero-vad',
      inputs: [
        { name: 'input', shape: [rows, n], datatype: 'FP32', data: new Array(rows * n).fill(0.01) },
        { name: 'state', shape: [2, stateBatch, 128], datatype: 'FP32', data: new Array(2 * stateBatch * 128).fill(0) },
        { name: 'sr', shape: [], datatype: 'INT64', data: [sr] },
      ],
    })),
  fc.record({ batch: fc.integer({ min: 0, max: 2 }), h: fc.integer({ min: 0, max: 70 }), w: fc.integer({ min: 0, max: 70 }) })
    .map(({ batch, h, w }) => ({ model: 'text-detector', inputs: [{ name: 'x', shape: [batch, 3, h, w], datatype: 'FP32', data: new Array(batch * 3 * h * w).fill(0.5) }] })),
  fc.record({ rows: fc.integer({ min: 0, max: 70 }), value: fc.oneof(fc.double({ noNaN: true }), fc.constant(1e38)) })
    .map(({ rows, value }) => ({ model: 'iris-classifier', inputs: [{ name: 'input', shape: [rows, 4], datatype: 'FP32', data: new Array(rows * 4).fill(value) }] })),
  fc.record({ samples: fc.integer({ min: 0, max: 4000 }) })
    .map(({ samples }) => ({ model: 'silence-detector', inputs: [{ name: 'audio', shape: [samples], datatype: 'FP32', data: new Array(samples).fill(0.1) }] })),
  fc.record({ rows: fc.integer({ min: 0, max: 5 }), k: fc.integer({ min: -1, max: 2000 }) })
    .map(({ rows, k }) => ({ model: 'iris-neighbors', inputs: [
      { name: 'queries', shape: [rows, 4], datatype: 'FP32', data: new Array(rows * 4).fill(1) },
      { name: 'k', shape: [1], datatype: 'INT32', data: [k] },
    ] })),
  fc.record({ rows: fc.integer({ min: 0, max: 5 }) })
    .map(({ rows }) => ({ model: 'iris-kmeans', inputs: [{ name: 'vectors', shape: [rows, 4], datatype: 'FP32', data: new Array(rows * 4).fill(2) }] })),
).map(({ model, inputs }): Sent => ({
  method: 'POST', path: `/v2/models/${model}/infer`, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ inputs })),
}));

async function expectHandled(sent: Sent): Promise<void> {
  const { status, body } = await send(sent);
  if (status >= 500) throw new Error(`${sent.method} ${sent.path} ${JSON.stringify(sent.headers)} answered ${status}: ${body.toString('utf8').slice(0, 300)}`);
  if (status >= 400 && sent.method !== 'HEAD') {
    const json = JSON.parse(body.toString('utf8')) as { error?: unknown };
    if (typeof json.error !== 'string' || /\n\s+at |\/work\/|node_modules/.test(json.error)) {
      throw new Error(`error answer without a clean message: ${body.toString('utf8').slice(0, 300)}`);
    }
  }
}

describe('OIP server under fuzzed requests', () => {
  it('never answers 5xx to mutated JSON infer requests, headers and encodings', async () => {
    await fc.assert(fc.asyncProperty(jsonRequest, expectHandled), { numRuns: 300 });
  });

  it('never answers 5xx to mutated binary-extension requests', async () => {
    await fc.assert(fc.asyncProperty(mutatedBinary, expectHandled), { numRuns: 300 });
  });

  it('never answers 5xx to requests one mutation away from valid (shapes, values, counts that reach the runtime)', async () => {
    await fc.assert(fc.asyncProperty(nearValid, expectHandled), { numRuns: 200 });
  });

  it('never answers 5xx on any route and method', async () => {
    await fc.assert(fc.asyncProperty(otherRoute, expectHandled), { numRuns: 100 });
  });

  it('answers bytes that are not HTTP with a 400 {"error"}', async () => {
    const { connect } = await import('node:net');
    const socket = connect(server.port, '127.0.0.1');
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString('utf8')));
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('\u0000\u0001 not http\r\n\r\n');
    await new Promise((resolve) => socket.once('close', resolve));
    expect(text).toMatch(/^HTTP\/1.1 400 Bad Request/);
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)).error).toMatch(/malformed HTTP request/);
  });

  it('is healthy afterwards: ready, and the same iris answer as before', async () => {
    expect((await send({ method: 'GET', path: '/v2/health/ready', headers: {}, body: Buffer.alloc(0) })).status).toBe(200);
    const answer = await send({
      method: 'POST', path: '/v2/models/iris-classifier/infer', headers: { 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify({ inputs: [{ name: 'input', shape: [2, 4], datatype: 'FP32', data: [5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3] }] })),
    });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body.toString()).outputs[1].data).toEqual([0, 2]);
    expect(server.inflight()).toBe(0);
  });
});
