/**
 * The Open Inference Protocol over real HTTP, through both doors, each started and stopped by
 * this test: the OIP server `npm start` runs, and the real Lambda handler under
 * serverless-offline (`npm run start:lambda`: the bundled handler + the built layers).
 */
import { encodeInferRequest } from '../../../lib/protocol/infer-request-encoder';
import { startOfflineServer, startServerProcess, type OfflineServer, type OfflineServerOptions } from '../../support/offline-server';

const API_KEY = 'test-key';
const MAX_BODY = 65536;

describe.each<[string, (options: OfflineServerOptions) => Promise<OfflineServer>]>([
  ['npm start (the OIP server)', startServerProcess],
  ['npm run start:lambda (the Lambda handler under serverless-offline)', startOfflineServer],
])('Open Inference Protocol over HTTP: %s', (_door, start) => {
let server: OfflineServer;

beforeAll(async () => {
  server = await start({ env: { HOTPATH_API_KEY: API_KEY, HOTPATH_MAX_BODY_BYTES: String(MAX_BODY), HOTPATH_WASM_THREADS: '1' } });
}, 180_000);
afterAll(async () => {
  await server?.stop();
});

async function request(method: string, path: string, options: { body?: string | Buffer; headers?: Record<string, string> } = {}) {
  const response = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers: { 'x-api-key': API_KEY, ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}), ...options.headers },
    body: options.body,
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  const isJson = (response.headers.get('content-type') ?? '').startsWith('application/json');
  return { status: response.status, headers: response.headers, bytes, json: isJson ? JSON.parse(bytes.toString('utf8')) : undefined };
}

const irisBody = (inputs: unknown) => JSON.stringify({ inputs });
const irisInput = { name: 'input', shape: [2, 4], datatype: 'FP32', data: [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]] };

  describe('routes', () => {
    it('answers server metadata, liveness and readiness', async () => {
      expect((await request('GET', '/v2')).json).toEqual({ name: 'hotpath', version: expect.any(String), extensions: expect.arrayContaining(['binary_tensor_data']) });
      expect((await request('GET', '/v2/health/live')).json).toEqual({ live: true });
      const ready = await request('GET', '/v2/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.json).toEqual({ ready: true });
    });

    it('lists every model with its state', async () => {
      const { status, json } = await request('GET', '/v2/models');
      expect(status).toBe(200);
      const byName = Object.fromEntries(json.models.map((m: { name: string; state: string }) => [m.name, m.state]));
      expect(byName).toMatchObject({ 'iris-classifier': 'READY', 'silero-vad': 'READY', 'text-detector': 'READY' });
      expect(byName['mlp-large']).toBe('UNAVAILABLE');
    });

    it('answers model metadata with and without a version', async () => {
      const latest = await request('GET', '/v2/models/iris-classifier');
      const pinned = await request('GET', '/v2/models/iris-classifier/versions/1');
      expect(latest.status).toBe(200);
      expect(latest.json).toMatchObject({
        name: 'iris-classifier', versions: ['1'], platform: 'onnx_onnxv1',
        inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }],
        outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 3] }, { name: 'label', datatype: 'INT64', shape: [-1] }],
      });
      expect(pinned.json).toEqual(latest.json);
    });

    it('answers model readiness with and without a version', async () => {
      expect((await request('GET', '/v2/models/silero-vad/ready')).json).toMatchObject({ name: 'silero-vad', ready: true });
      expect((await request('GET', '/v2/models/silero-vad/versions/1/ready')).json).toMatchObject({ name: 'silero-vad', ready: true });
      const notLoaded = await request('GET', '/v2/models/mlp-small/ready');
      expect(notLoaded.status).toBe(400);
      expect(notLoaded.json).toMatchObject({ ready: false, error: expect.stringContaining('HOTPATH_MODELS') });
    });

    it('infers iris species with labels, echoing the id, with and without a version', async () => {
      for (const path of ['/v2/models/iris-classifier/infer', '/v2/models/iris-classifier/versions/1/infer']) {
        const { status, json, headers } = await request('POST', path, { body: JSON.stringify({ id: 'req-7', inputs: [irisInput] }) });
        expect(status).toBe(200);
        expect(json).toMatchObject({ model_name: 'iris-classifier', model_version: '1', id: 'req-7' });
        const label = json.outputs.find((o: { name: string }) => o.name === 'label');
        expect(label).toEqual({ name: 'label', datatype: 'INT64', shape: [2], data: [0, 2] });
        expect(headers.get('server-timing')).toMatch(/decode;dur=.*infer;dur=.*encode;dur=/);
      }
    });

    it('returns only the requested outputs', async () => {
      const { json } = await request('POST', '/v2/models/iris-classifier/infer', { body: JSON.stringify({ inputs: [irisInput], outputs: [{ name: 'label' }] }) });
      expect(json.outputs.map((o: { name: string }) => o.name)).toEqual(['label']);
    });

    it('infers with binary tensors both ways', async () => {
      const encoded = encodeInferRequest(
        [{ name: 'input', datatype: 'FP32', shape: [2, 4], data: Float32Array.of(5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3) }],
        { binary: true, outputs: [{ name: 'label', binary: true }] },
      );
      const { status, headers, bytes } = await request('POST', '/v2/models/iris-classifier/infer', { body: encoded.body, headers: encoded.headers });
      expect(status).toBe(200);
      const headerLength = Number(headers.get('inference-header-content-length'));
      const header = JSON.parse(bytes.subarray(0, headerLength).toString('utf8'));
      expect(header.outputs).toEqual([{ name: 'label', datatype: 'INT64', shape: [2], parameters: { binary_data_size: 16 } }]);
      const labels = new BigInt64Array(Uint8Array.from(bytes.subarray(headerLength)).buffer);
      expect(Array.from(labels)).toEqual([0n, 2n]);
    });

    it('refuses requests without the API key when one is configured', async () => {
      const { status, json } = await request('GET', '/v2', { headers: { 'x-api-key': '' } });
      expect(status).toBe(401);
      expect(json.error).toMatch(/x-api-key/);
    });
  });

  describe('bad input', () => {
    const cases: [string, () => Promise<{ status: number; json: { error?: string } }>, number, RegExp][] = [
      ['malformed JSON', () => request('POST', '/v2/models/iris-classifier/infer', { body: '{"inputs": [' }), 400, /not valid JSON/],
      ['missing inputs', () => request('POST', '/v2/models/iris-classifier/infer', { body: '{"id": "x"}' }), 400, /no "inputs"/],
      ['unknown input name', () => request('POST', '/v2/models/iris-classifier/infer', { body: irisBody([{ ...irisInput, name: 'features' }]) }), 400, /no input 'features'; its inputs are: input/],
      ['missing required input', () => request('POST', '/v2/models/silero-vad/infer', { body: irisBody([
        { name: 'input', shape: [1, 576], datatype: 'FP32', data: new Array(576).fill(0) },
        { name: 'state', shape: [2, 1, 128], datatype: 'FP32', data: new Array(256).fill(0) },
      ]) }), 400, /needs input 'sr'/],
      ['wrong datatype', () => request('POST', '/v2/models/iris-classifier/infer', { body: irisBody([{ ...irisInput, datatype: 'FP64' }]) }), 400, /expected datatype FP32, got FP64/],
      ['shape that contradicts the model', () => request('POST', '/v2/models/iris-classifier/infer', { body: irisBody([{ name: 'input', shape: [2, 5], datatype: 'FP32', data: new Array(10).fill(1) }]) }), 400, /expected shape \[-1,4\], got \[2,5\]/],
      ['element count that contradicts the shape', () => request('POST', '/v2/models/iris-classifier/infer', { body: irisBody([{ name: 'input', shape: [2, 4], datatype: 'FP32', data: [1, 2, 3, 4, 5, 6, 7] }]) }), 400, /holds 8 elements but "data" has 7/],
      ['ragged nested data', () => request('POST', '/v2/models/iris-classifier/infer', { body: irisBody([{ name: 'input', shape: [2, 4], datatype: 'FP32', data: [[1, 2, 3, 4], [5, 6, 7]] }]) }), 400, /ragged at \[1\]: expected 4 elements, got 3/],
      ['NaN where the model forbids it', () => request('POST', '/v2/models/iris-classifier/infer', { body: irisBody([{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [5.1, 'NaN', 1.4, 0.2] }]) }), 400, /element 1 \(index \[0,1\]\) is NaN/],
      ['Infinity where the model forbids it', () => request('POST', '/v2/models/iris-classifier/infer', { body: irisBody([{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [5.1, 3.5, 1.4, 'Infinity'] }]) }), 400, /element 3 \(index \[0,3\]\) is Infinity/],
      ['BYTES to a numeric model', () => request('POST', '/v2/models/iris-classifier/infer', { body: irisBody([{ name: 'input', shape: [1, 4], datatype: 'BYTES', data: ['a', 'b', 'c', 'd'] }]) }), 400, /takes numeric tensors, not BYTES/],
      ['binary header length beyond the body', () => request('POST', '/v2/models/iris-classifier/infer', {
        body: Buffer.from('{"inputs":[]}'), headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': '500' },
      }), 400, /Inference-Header-Content-Length is 500 but the body has only 13 bytes/],
      ['unknown model', () => request('POST', '/v2/models/resnet/infer', { body: irisBody([irisInput]) }), 404, /model 'resnet' is not served here/],
      ['unknown model version', () => request('GET', '/v2/models/iris-classifier/versions/9'), 404, /has no version '9'; its versions are: 1/],
      ['unknown route', () => request('POST', '/v2/repository/models/iris-classifier/reload'), 404, /no route \/v2\/repository\/models\/iris-classifier\/reload/],
      ['wrong method', () => request('GET', '/v2/models/iris-classifier/infer'), 405, /use POST/],
      ['body over the limit', () => request('POST', '/v2/models/iris-classifier/infer', { body: JSON.stringify({ inputs: [{ ...irisInput, pad: 'x'.repeat(MAX_BODY) }] }) }), 413, /over the limit of 65536 bytes/],
      ['unsupported content type', () => request('POST', '/v2/models/iris-classifier/infer', { body: 'input=1', headers: { 'content-type': 'text/csv' } }), 415, /content type 'text\/csv' is not supported/],
    ];

    it.each(cases)('answers %s with the right status and an error that says what to fix', async (_name, send, status, message) => {
      const response = await send();
      expect(response.status).toBe(status);
      expect(Object.keys(response.json)).toEqual(['error']);
      expect(response.json.error).toMatch(message);
      expect(response.json.error).not.toMatch(/\n\s+at /);
    });

    it('sends Allow with a 405', async () => {
      const { headers } = await request('DELETE', '/v2/models/iris-classifier');
      expect(headers.get('allow')).toBe('GET');
    });
  });
});
