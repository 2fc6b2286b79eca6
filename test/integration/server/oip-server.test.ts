/**
 * The long-running OIP server (lib/server/oip-server.ts) in-process, on the real wasm runtime
 * and models, over real sockets: concurrency on one model set, admission, body limits before
 * allocation, compression, deadlines and draining on close.
 */
import { request as httpRequest, Agent } from 'node:http';
import { connect, type Socket } from 'node:net';
import { gzipSync, deflateSync, gunzipSync } from 'node:zlib';
import { encodeInferRequest } from '../../../lib/protocol/infer-request-encoder';
import { startOipServer, type RunningOipServer } from '../../../lib/server/oip-server';

const MAX_BODY = 65_536;
const MAX_INFLATED = 262_144;
const MAX_INFLIGHT = 4;

let server: RunningOipServer;

beforeAll(async () => {
  server = await startOipServer({
    port: 0,
    config: { wasmThreads: 1, models: ['iris-classifier', 'silero-vad'], maxBodyBytes: MAX_BODY, maxDecompressedBytes: MAX_INFLATED, maxInflight: MAX_INFLIGHT, drainMs: 5_000 },
  });
}, 120_000);
afterAll(async () => {
  await server?.close(0);
});

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }

function send(method: string, path: string, body?: Buffer | string, headers: Record<string, string> = {}, agent?: Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${server.url}${path}`, { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const irisRows = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]];
const irisJson = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ inputs: [{ name: 'input', shape: [2, 4], datatype: 'FP32', data: irisRows }], ...extra });

/** Opens a raw connection that sends the request head and part of the body, holding a request in flight. */
async function openPartialRequest(bodyLength: number): Promise<Socket> {
  const socket = connect(server.port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(`POST /v2/models/iris-classifier/infer HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${bodyLength}\r\n\r\n{`);
  return socket;
}

function readAll(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString('utf8')));
    socket.on('close', () => resolve(text));
  });
}

describe('OIP server', () => {
  it('answers 64 concurrent requests on one model set with the same outputs as one at a time', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 64 });
    const single = await send('POST', '/v2/models/iris-classifier/infer', irisJson(), { 'content-type': 'application/json' }, agent);
    // Admission is 4 here; the concurrency test needs a wider server.
    const wide = await startOipServer({ runtime: server.runtime, port: 0 });
    try {
      const answers = await Promise.all(Array.from({ length: 64 }, () => new Promise<Answer>((resolve, reject) => {
        const req = httpRequest(`${wide.url}/v2/models/iris-classifier/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, agent }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
        });
        req.on('error', reject);
        req.end(irisJson());
      })));
      expect(answers.map((a) => a.status)).toEqual(new Array(64).fill(200));
      const outputs = (a: Answer) => JSON.parse(a.body.toString('utf8')).outputs;
      for (const answer of answers) expect(outputs(answer)).toEqual(outputs(single));
    } finally {
      agent.destroy();
      await wide.close();
    }
  });

  it('keeps connections alive between requests', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    agent.on('free', (socket) => sockets.add(socket));
    for (let i = 0; i < 3; i++) expect((await send('GET', '/v2/health/live', undefined, {}, agent)).status).toBe(200);
    expect(sockets.size).toBe(1);
    agent.destroy();
  });

  it('answers 503 with Retry-After past the admission bound, and serves again once requests finish', async () => {
    const held = await Promise.all(Array.from({ length: MAX_INFLIGHT }, () => openPartialRequest(irisJson().length)));
    await new Promise((r) => setTimeout(r, 100));
    expect(server.inflight()).toBe(MAX_INFLIGHT);
    const busy = await send('GET', '/v2/health/ready');
    expect(busy.status).toBe(503);
    expect(busy.headers['retry-after']).toBe('1');
    expect(JSON.parse(busy.body.toString()).error).toMatch(/HOTPATH_MAX_INFLIGHT/);
    const answers = held.map(readAll);
    for (const socket of held) socket.end(irisJson().slice(1));
    for (const text of await Promise.all(answers)) expect(text).toMatch(/^HTTP\/1.1 200/);
    expect((await send('GET', '/v2/health/ready')).status).toBe(200);
  });

  it('refuses a body over the limit from its Content-Length, before reading it', async () => {
    const socket = connect(server.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const text = readAll(socket);
    // The head only: the server must answer without waiting for the 10 MB it announces.
    socket.write('POST /v2/models/iris-classifier/infer HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 10000000\r\n\r\n');
    const answer = await text;
    expect(answer).toMatch(/^HTTP\/1.1 413/);
    expect(answer).toMatch(/over the limit of 65536 bytes/);
    expect(answer.toLowerCase()).toMatch(/connection: close/);
  });

  it('refuses a chunked body once it passes the limit', async () => {
    const answer = await new Promise<Answer>((resolve, reject) => {
      const req = httpRequest(`${server.url}/v2/models/iris-classifier/infer`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write('x'.repeat(16_384));
      req.end();
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body.toString()).error).toMatch(/over the limit of 65536 bytes/);
  });

  it('inflates gzip and deflate (zlib) request bodies', async () => {
    for (const [encoding, compress] of [['gzip', gzipSync], ['deflate', deflateSync]] as const) {
      const answer = await send('POST', '/v2/models/iris-classifier/infer', compress(irisJson()), { 'content-type': 'application/json', 'content-encoding': encoding });
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body.toString()).outputs[1].data).toEqual([0, 2]);
    }
  });

  it('answers 413 for a body that inflates past the limit, without inflating all of it', async () => {
    // 64 MB of zeros gzip to ~64 KB: a zip bomb against a 256 KB inflated limit.
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
    expect(bomb.byteLength).toBeLessThan(MAX_BODY);
    const answer = await send('POST', '/v2/models/iris-classifier/infer', bomb, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body.toString()).error).toMatch(/inflates \(Content-Encoding: gzip\) past the limit of 262144 bytes/);
  });

  it('answers 415 for an unknown Content-Encoding and 400 for a corrupt gzip body', async () => {
    const br = await send('POST', '/v2/models/iris-classifier/infer', irisJson(), { 'content-type': 'application/json', 'content-encoding': 'br' });
    expect(br.status).toBe(415);
    expect(JSON.parse(br.body.toString()).error).toMatch(/content encoding 'br' is not supported/);
    const corrupt = await send('POST', '/v2/models/iris-classifier/infer', Buffer.from('not gzip at all'), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(corrupt.status).toBe(400);
    expect(JSON.parse(corrupt.body.toString()).error).toMatch(/not valid gzip data/);
  });

  it('compresses answers above the threshold when the caller accepts gzip, and small ones not', async () => {
    const big = JSON.stringify({ inputs: [{ name: 'input', shape: [64, 4], datatype: 'FP32', data: new Array(256).fill(0).map((_, i) => (i % 7) + 0.5) }] });
    const compressed = await send('POST', '/v2/models/iris-classifier/infer', big, { 'content-type': 'application/json', 'accept-encoding': 'gzip, deflate' });
    expect(compressed.headers['content-encoding']).toBe('gzip');
    expect(compressed.headers.vary).toBe('accept-encoding');
    expect(JSON.parse(gunzipSync(compressed.body).toString()).outputs[1].shape).toEqual([64]);
    const small = await send('POST', '/v2/models/iris-classifier/infer', irisJson(), { 'content-type': 'application/json', 'accept-encoding': 'gzip' });
    expect(small.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(small.body.toString()).outputs[1].data).toEqual([0, 2]);
  });

  it('takes a binary body with no Content-Type (as Triton\'s client sends it) or declared application/json', async () => {
    const { body, headers } = encodeInferRequest([{ name: 'input', datatype: 'FP32', shape: [2, 4], data: Float32Array.from(irisRows.flat()) }], { binary: true });
    for (const contentType of [undefined, 'application/json', 'application/octet-stream']) {
      const sent = { 'inference-header-content-length': headers['inference-header-content-length']!, ...(contentType ? { 'content-type': contentType } : {}) };
      const answer = await send('POST', '/v2/models/iris-classifier/infer', body, sent);
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body.toString()).outputs[1].data).toEqual([0, 2]);
    }
  });

  it('abandons a request whose parameters.timeout passed with a 504 and no outputs', async () => {
    const answer = await send('POST', '/v2/models/iris-classifier/infer', irisJson({ parameters: { timeout: 1 } }), { 'content-type': 'application/json' });
    expect(answer.status).toBe(504);
    const json = JSON.parse(answer.body.toString());
    expect(Object.keys(json)).toEqual(['error']);
    expect(json.error).toMatch(/deadline passed.*parameters\.timeout/);
    const bad = await send('POST', '/v2/models/iris-classifier/infer', irisJson({ parameters: { timeout: -5 } }), { 'content-type': 'application/json' });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body.toString()).error).toMatch(/parameters.timeout must be a positive integer of microseconds/);
  });

  it('sends Server-Timing and the route with every answer', async () => {
    const answer = await send('POST', '/v2/models/iris-classifier/infer', irisJson(), { 'content-type': 'application/json' });
    expect(answer.headers['x-hotpath-route']).toBe('local-kernel');
    expect(answer.headers['server-timing']).toMatch(/^decode;dur=[\d.]+, validate;dur=[\d.]+, infer;dur=[\d.]+, encode;dur=[\d.]+, total;dur=[\d.]+$/);
  });
});

describe('OIP server shutdown', () => {
  it('stops accepting, finishes the requests in flight, then closes', async () => {
    const own = await startOipServer({ runtime: server.runtime, port: 0 });
    const socket = connect(own.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`POST /v2/models/iris-classifier/infer HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${irisJson().length}\r\n\r\n{`);
    await new Promise((r) => setTimeout(r, 100));
    expect(own.inflight()).toBe(1);
    const answer = readAll(socket);
    const closed = own.close(5_000);
    await new Promise((r) => setTimeout(r, 50));
    await expect(new Promise((resolve, reject) => {
      const probe = connect(own.port, '127.0.0.1');
      probe.on('connect', () => { probe.destroy(); reject(new Error('still accepting')); });
      probe.on('error', resolve);
    })).resolves.toBeDefined();
    socket.end(irisJson().slice(1));
    expect(await answer).toMatch(/^HTTP\/1.1 200/);
    await expect(closed).resolves.toBe(true);
    // The runtime was the test's: still serving on the other server.
    expect((await send('GET', '/v2/health/ready')).status).toBe(200);
  });
});
