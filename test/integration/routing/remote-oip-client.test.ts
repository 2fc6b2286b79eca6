/**
 * The remote OIP client (lib/backends/remote-oip-client.ts) against a real OIP server on the
 * native backend (the GPU task's runtime, on CPU here), through the fault proxy that records
 * what goes over the wire: both encodings, gzip, keep-alive, deadline, timeout and abort, each
 * failure kind, and every request it sends checked against the Open Inference Protocol's
 * published REST definition (test/fixtures/open-inference-protocol, with their source URLs).
 */
import { gunzipSync } from 'node:zlib';
import { RemoteInferenceError, RemoteOipClient } from '../../../lib/backends/remote-oip-client';
import { DeadlineExceededError, RequestAbortedError } from '../../../lib/errors/hotpath-error';
import type { HostTensor } from '../../../lib/protocol/tensor';
import { startOipServer, type RunningOipServer } from '../../../lib/server/oip-server';
import { startFaultProxy, type FaultProxy, type RecordedRequest } from '../../support/fault-proxy';
import { readOipRestDefinition, readOipRestRules, schemaViolations, withoutRequired, type JsonSchema } from './oip-schema-check';

const quiet = { info() {}, warn() {}, error() {} };
let server: RunningOipServer;
let proxy: FaultProxy;
let client: RemoteOipClient;

beforeAll(async () => {
  server = await startOipServer({ port: 0, logger: quiet, config: { onnxBackend: 'native', wasmThreads: 1, models: ['iris-classifier', 'silero-vad'] } });
  proxy = await startFaultProxy(server.url);
  client = new RemoteOipClient({ url: proxy.url });
}, 120_000);
afterEach(() => proxy.setFault({ kind: 'pass' }));
afterAll(async () => {
  client?.close();
  await proxy?.close();
  await server?.close(0);
});

const irisRows = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]];
const iris = (rows = irisRows): HostTensor[] => [{ name: 'input', datatype: 'FP32', shape: [rows.length, 4], data: Float32Array.from(rows.flat()) }];
const vad: HostTensor[] = [
  { name: 'input', datatype: 'FP32', shape: [1, 576], data: new Float32Array(576).map((_, i) => Math.sin(i / 9) * 0.3) },
  { name: 'state', datatype: 'FP32', shape: [2, 1, 128], data: new Float32Array(256) },
  { name: 'sr', datatype: 'INT64', shape: [], data: BigInt64Array.of(16000n) },
];
const lastRequest = (): RecordedRequest => proxy.requests[proxy.requests.length - 1]!;

describe('RemoteOipClient', () => {
  it('sends tensors in the binary extension by default and decodes the binary answer, outputs in the order asked for', async () => {
    // Act
    const answer = await client.infer({ model: 'iris-classifier', version: '1', inputs: iris(), outputNames: ['label', 'probabilities'] });
    // Assess
    const sent = lastRequest();
    expect(sent.path).toBe('/v2/models/iris-classifier/versions/1/infer');
    expect(sent.headers['inference-header-content-length']).toBeDefined();
    expect(sent.json).toMatchObject({ inputs: [{ name: 'input', shape: [2, 4], datatype: 'FP32', parameters: { binary_data_size: 32 } }], outputs: [{ name: 'label', parameters: { binary_data: true } }, { name: 'probabilities', parameters: { binary_data: true } }] });
    expect(answer.outputs.map((o) => o.name)).toEqual(['label', 'probabilities']);
    expect(Array.from(answer.outputs[0]!.data as BigInt64Array)).toEqual([0n, 2n]);
    expect(answer.outputs[1]!.shape).toEqual([2, 3]);
    expect(answer).toMatchObject({ modelName: 'iris-classifier', modelVersion: '1' });
  });

  it('speaks plain JSON when asked, with the same answer', async () => {
    const jsonClient = new RemoteOipClient({ url: proxy.url, encoding: 'json' });
    try {
      const answer = await jsonClient.infer({ model: 'iris-classifier', inputs: iris(), outputNames: ['label'] });
      const sent = lastRequest();
      expect(sent.headers['content-type']).toBe('application/json');
      expect(sent.headers['inference-header-content-length']).toBeUndefined();
      expect(sent.json).toMatchObject({ inputs: [{ name: 'input', data: irisRows.flat().map((v) => Math.fround(v)) }], outputs: [{ name: 'label' }] });
      expect(Array.from(answer.outputs[0]!.data as BigInt64Array)).toEqual([0n, 2n]);
    } finally {
      jsonClient.close();
    }
  });

  it('gzips bodies of 1 KB and more and inflates a gzip answer when gzip is on', async () => {
    const gzipClient = new RemoteOipClient({ url: proxy.url, gzip: true });
    const rows = Array.from({ length: 64 }, (_, i) => irisRows[i % 2]!);
    try {
      const answer = await gzipClient.infer({ model: 'iris-classifier', inputs: iris(rows), outputNames: ['probabilities', 'label'] });
      const sent = lastRequest();
      expect(sent.headers['content-encoding']).toBe('gzip');
      expect(sent.headers['accept-encoding']).toBe('gzip');
      expect(gunzipSync(sent.body).byteLength).toBeGreaterThan(sent.body.byteLength);
      expect(Array.from(answer.outputs[1]!.data as BigInt64Array)).toEqual(rows.map((_, i) => (i % 2 === 0 ? 0n : 2n)));
    } finally {
      gzipClient.close();
    }
  });

  it('keeps one connection alive across sequential calls', async () => {
    const keepAlive = new RemoteOipClient({ url: proxy.url });
    const before = proxy.connections();
    try {
      for (let i = 0; i < 10; i++) await keepAlive.infer({ model: 'iris-classifier', inputs: iris() });
      expect(proxy.connections() - before).toBe(1);
    } finally {
      keepAlive.close();
    }
  });

  it('stops at the deadline (DeadlineExceededError) and sends the time left as parameters.timeout in µs', async () => {
    // Prepare: the answer comes 1.5 s late.
    proxy.setFault({ kind: 'delay', ms: 1_500 });
    const started = performance.now();
    // Act / Assess
    await expect(client.infer({ model: 'iris-classifier', inputs: iris() }, { deadline: performance.now() + 200 })).rejects.toThrow(DeadlineExceededError);
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(195);
    expect(waited).toBeLessThan(700);
    const timeout = (lastRequest().json!.parameters as { timeout: number }).timeout;
    expect(Number.isInteger(timeout)).toBe(true);
    expect(timeout).toBeGreaterThan(150_000);
    expect(timeout).toBeLessThanOrEqual(200_000);
  });

  it('stops at its own timeout when the deadline is later, as a timeout failure', async () => {
    proxy.setFault({ kind: 'delay', ms: 1_500 });
    const hasty = new RemoteOipClient({ url: proxy.url, timeoutMs: 150 });
    try {
      const error = await hasty.infer({ model: 'iris-classifier', inputs: iris() }, { deadline: performance.now() + 10_000 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RemoteInferenceError);
      expect(error).toMatchObject({ kind: 'timeout', status: 504 });
    } finally {
      hasty.close();
    }
  });

  it('gives up at once when the caller aborts', async () => {
    proxy.setFault({ kind: 'delay', ms: 1_500 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = performance.now();
    await expect(client.infer({ model: 'iris-classifier', inputs: iris() }, { signal: controller.signal })).rejects.toThrow(RequestAbortedError);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('tells each failure apart: HTTP status with message and Retry-After, malformed answer, reset mid-answer, no connection', async () => {
    proxy.setFault({ kind: 'status', status: 503, body: JSON.stringify({ error: 'exceeds maximum queue size' }), headers: { 'retry-after': '3' } });
    await expect(client.infer({ model: 'iris-classifier', inputs: iris() })).rejects.toMatchObject({ kind: 'status', remoteStatus: 503, retryAfterSeconds: 3, message: expect.stringContaining('HTTP 503: exceeds maximum queue size') });

    proxy.setFault({ kind: 'malformed', body: '{"model_name":"iris-classifier","outputs":[{"name":"label","shape":[2],"datatype":"INT64","data":[0]}]}' });
    await expect(client.infer({ model: 'iris-classifier', inputs: iris() })).rejects.toMatchObject({ kind: 'malformed' });

    proxy.setFault({ kind: 'reset-mid-response' });
    await expect(client.infer({ model: 'iris-classifier', inputs: iris() })).rejects.toMatchObject({ kind: 'reset', message: expect.stringContaining('before its end') });

    const nowhere = new RemoteOipClient({ url: 'http://127.0.0.1:1' });
    await expect(nowhere.infer({ model: 'iris-classifier', inputs: iris() })).rejects.toMatchObject({ kind: 'unreachable', message: expect.stringContaining('ECONNREFUSED') });
    nowhere.close();
  });

  it('refuses an answer whose id is not the request\'s (a crossed answer) or that lacks an output asked for', async () => {
    proxy.setFault({ kind: 'pass' });
    const real = await client.infer({ model: 'iris-classifier', inputs: iris(), outputNames: ['label'] });
    expect(real.id).toMatch(/^[0-9a-f-]{36}$/);
    proxy.setFault({ kind: 'malformed', body: JSON.stringify({ model_name: 'iris-classifier', id: real.id, outputs: [{ name: 'label', shape: [2], datatype: 'INT64', data: [0, 2] }] }) });
    await expect(client.infer({ model: 'iris-classifier', inputs: iris(), outputNames: ['label'] })).rejects.toMatchObject({ kind: 'malformed', message: expect.stringContaining('is not the request') });
    proxy.setFault((request) => ({ kind: 'malformed', body: JSON.stringify({ model_name: 'iris-classifier', id: request.json!.id, outputs: [{ name: 'probabilities', shape: [2, 3], datatype: 'FP32', data: [1, 0, 0, 0, 0, 1] }] }) }));
    await expect(client.infer({ model: 'iris-classifier', inputs: iris(), outputNames: ['label', 'probabilities'] })).rejects.toMatchObject({ kind: 'malformed', message: expect.stringContaining("lacks output 'label'") });
  });

  it('retries once on a fresh connection when a kept-alive one turns out closed, and not when the connection was new', async () => {
    const retrying = new RemoteOipClient({ url: proxy.url });
    try {
      await retrying.infer({ model: 'iris-classifier', inputs: iris() });
      const sentBefore = proxy.requests.length;
      proxy.setFault((_, index) => (index === sentBefore ? { kind: 'reset-before-response' } : { kind: 'pass' }));
      const answer = await retrying.infer({ model: 'iris-classifier', inputs: iris(), outputNames: ['label'] });
      expect(Array.from(answer.outputs[0]!.data as BigInt64Array)).toEqual([0n, 2n]);
      expect(proxy.requests.length - sentBefore).toBe(2);
    } finally {
      retrying.close();
    }
    const fresh = new RemoteOipClient({ url: proxy.url });
    try {
      proxy.setFault({ kind: 'reset-before-response' });
      await expect(fresh.infer({ model: 'iris-classifier', inputs: iris() })).rejects.toMatchObject({ kind: 'reset' });
    } finally {
      fresh.close();
    }
  });

  it('reports the server\'s and each model\'s readiness: ready, not ready (with the status and reason), unreachable', async () => {
    expect(await client.readiness()).toEqual({ state: 'ready' });
    expect(await client.readiness({ name: 'iris-classifier', version: '1' })).toEqual({ state: 'ready' });
    expect(lastRequest().path).toBe('/v2/models/iris-classifier/versions/1/ready');
    expect(await client.readiness({ name: 'mlp-large' })).toMatchObject({ state: 'not-ready', status: 400, reason: expect.stringContaining('not loaded on this instance') });
    expect(await client.readiness({ name: 'no-such-model' })).toMatchObject({ state: 'not-ready', status: 404 });
    proxy.setFault({ kind: 'status', status: 503 });
    expect(await client.readiness()).toMatchObject({ state: 'not-ready', status: 503 });
    const nowhere = new RemoteOipClient({ url: 'http://127.0.0.1:1' });
    expect(await nowhere.readiness()).toMatchObject({ state: 'unreachable', reason: expect.stringContaining('ECONNREFUSED') });
    nowhere.close();
  });
});

interface RestRules {
  path: { quote: string };
  parameters: { valueTypes: string[] };
  datatypes: { sizeInBytes: Record<string, number | null> };
  binaryDataExtension: {
    header: string;
    requestInputParameters: Record<string, { type: string }>;
    requestOutputParameters: Record<string, { type: string }>;
    inferenceRequestParameters: Record<string, { type: string }>;
  };
}

describe('RemoteOipClient requests against the Open Inference Protocol REST definition', () => {
  const definition = readOipRestDefinition();
  const rules = readOipRestRules<RestRules>();
  const extension = rules.binaryDataExtension;

  /** Every rule a recorded request breaks, as readable lines (empty: it conforms). */
  function violations(request: RecordedRequest): string[] {
    const problems: string[] = [];
    const [template, path] = Object.entries(definition.paths)[0]!;
    // The definition's path has the version; the prose makes `/versions/<v>` optional (rules.path).
    const pattern = new RegExp(`^${template.replace('/versions/${MODEL_VERSION}', '(/versions/[^/]+)?').replace('${MODEL_NAME}', '[^/]+')}$`);
    if (!pattern.test(request.path)) problems.push(`path ${request.path} is not ${template} (${rules.path.quote})`);
    if (request.method.toLowerCase() !== 'post' || path.post === undefined) problems.push(`method ${request.method} is not the definition's post`);
    const body = request.headers['content-encoding'] === 'gzip' ? gunzipSync(request.body) : request.body;
    const headerLength = request.headers[extension.header.toLowerCase()];
    const json = request.json!;
    const requestSchema = definition.components.schemas.inference_request!;
    const inputSchema = definition.components.schemas.request_input!;
    // Inputs sent in the binary extension carry no "data" (it follows the JSON): check them with "data" optional, and require binary_data_size.
    const binaryInputs = new Set<number>();
    (json.inputs as Record<string, unknown>[]).forEach((input, i) => {
      if (!('data' in input)) binaryInputs.add(i);
    });
    const checked = { ...json, inputs: (json.inputs as unknown[]).map((input, i) => (binaryInputs.has(i) ? { $binary: input } : input)) };
    const schema: JsonSchema = { ...requestSchema, properties: { ...requestSchema.properties, inputs: { type: 'array', items: { anyOf: [inputSchema, { type: 'object', properties: { $binary: withoutRequired(inputSchema, 'data') }, required: ['$binary'] }] } } } };
    problems.push(...schemaViolations(definition, schema, checked).map((p) => p.replace('.$binary', '')));
    for (const i of binaryInputs) {
      const size = ((json.inputs as Record<string, unknown>[])[i]!.parameters as Record<string, unknown> | undefined)?.binary_data_size;
      if (!Number.isInteger(size)) problems.push(`inputs[${i}] has neither "data" nor an integer parameters.binary_data_size`);
    }
    // Parameter names: the binary extension's, plus `timeout` (µs); every value a string, number or boolean.
    const parameterSets: [string, unknown, Record<string, { type: string }>][] = [
      ['parameters', json.parameters, { ...extension.inferenceRequestParameters, timeout: { type: 'integer' } }],
      ...(json.inputs as Record<string, unknown>[]).map((input, i) => [`inputs[${i}].parameters`, input.parameters, extension.requestInputParameters] as [string, unknown, Record<string, { type: string }>]),
      ...((json.outputs as Record<string, unknown>[] | undefined) ?? []).map((output, i) => [`outputs[${i}].parameters`, output.parameters, extension.requestOutputParameters] as [string, unknown, Record<string, { type: string }>]),
    ];
    for (const [where, parameters, known] of parameterSets) {
      for (const [name, value] of Object.entries((parameters as Record<string, unknown> | undefined) ?? {})) {
        if (!rules.parameters.valueTypes.includes(typeof value)) problems.push(`${where}.${name} is a ${typeof value}, not ${rules.parameters.valueTypes.join(' | ')}`);
        const type = known[name]?.type;
        if (type === undefined) problems.push(`${where}.${name} is not a parameter of the protocol or the binary extension`);
        else if (type === 'integer' ? !Number.isInteger(value) : typeof value !== type) problems.push(`${where}.${name} is not ${type}`);
      }
    }
    for (const input of json.inputs as { datatype: string; shape: number[] }[]) {
      if (!(input.datatype in rules.datatypes.sizeInBytes)) problems.push(`datatype ${input.datatype} is not in the protocol's table`);
      if (!input.shape.every((d) => Number.isInteger(d) && d >= 0)) problems.push(`shape ${JSON.stringify(input.shape)} has a dim that is not an unsigned integer`);
    }
    // The binary layout: the header says how long the JSON is, the binary parts follow in input order and fill the rest.
    if (binaryInputs.size > 0) {
      if (headerLength === undefined) problems.push(`binary inputs without the ${extension.header} header`);
      const sizes = (json.inputs as { parameters: { binary_data_size: number } }[]).filter((_, i) => binaryInputs.has(i)).reduce((sum, input) => sum + input.parameters.binary_data_size, 0);
      if (Number(headerLength) + sizes !== body.byteLength) problems.push(`${extension.header} ${headerLength} + binary sizes ${sizes} is not the body's ${body.byteLength} bytes`);
      const { sizeInBytes } = rules.datatypes;
      for (const i of binaryInputs) {
        const input = (json.inputs as { datatype: string; shape: number[]; parameters: { binary_data_size: number } }[])[i]!;
        const size = sizeInBytes[input.datatype];
        if (size !== null && size !== undefined && input.parameters.binary_data_size !== size * input.shape.reduce((a, b) => a * b, 1)) {
          problems.push(`inputs[${i}]: binary_data_size ${input.parameters.binary_data_size} is not ${size} bytes × its elements`);
        }
      }
    } else if (headerLength !== undefined) problems.push(`${extension.header} on a JSON request`);
    return problems;
  }

  it('conform in every encoding: binary, JSON, gzip, no outputs named, a scalar INT64 input', async () => {
    // Prepare
    const jsonClient = new RemoteOipClient({ url: proxy.url, encoding: 'json' });
    const gzipClient = new RemoteOipClient({ url: proxy.url, gzip: true });
    const from = proxy.requests.length;
    try {
      // Act
      await client.infer({ model: 'iris-classifier', version: '1', inputs: iris(), outputNames: ['probabilities', 'label'] });
      await client.infer({ model: 'iris-classifier', inputs: iris() });
      await jsonClient.infer({ model: 'iris-classifier', version: '1', inputs: iris(), outputNames: ['label'] });
      await jsonClient.infer({ model: 'silero-vad', inputs: vad });
      await client.infer({ model: 'silero-vad', version: '1', inputs: vad, outputNames: ['output', 'stateN'] });
      await gzipClient.infer({ model: 'silero-vad', inputs: vad, outputNames: ['output'] });
    } finally {
      jsonClient.close();
      gzipClient.close();
    }
    // Assess
    const sent = proxy.requests.slice(from);
    expect(sent).toHaveLength(6);
    for (const request of sent) expect({ path: request.path, problems: violations(request) }).toEqual({ path: request.path, problems: [] });
    expect(sent[1]!.json!.parameters).toMatchObject({ binary_data_output: true });
  });

  it('would catch a request that breaks the definition (the check can fail)', async () => {
    const from = proxy.requests.length;
    await client.infer({ model: 'iris-classifier', inputs: iris(), outputNames: ['label'] });
    const good = proxy.requests[from]!;
    const json = good.json!;
    const broken = (change: (j: Record<string, unknown>) => Record<string, unknown>): RecordedRequest => ({ ...good, json: change(structuredClone(json)) });
    expect(violations(broken((j) => ({ ...j, id: 7 })))).toEqual(expect.arrayContaining([expect.stringContaining('$.id: expected string')]));
    expect(violations(broken((j) => ({ ...j, input: j.inputs })))).toEqual(expect.arrayContaining([expect.stringContaining("property 'input' is not in the definition")]));
    expect(violations(broken((j) => ({ ...j, inputs: (j.inputs as object[]).map((i) => ({ ...i, shape: ['2', 4] })) })))).not.toEqual([]);
    expect(violations(broken((j) => ({ ...j, outputs: [{ name: 'label', parameters: { binary: true } }] })))).toEqual(expect.arrayContaining([expect.stringContaining('outputs[0].parameters.binary is not a parameter')]));
    expect(violations(broken((j) => ({ ...j, inputs: (j.inputs as object[]).map((i) => ({ ...i, parameters: { binary_data_size: 31 } })) })))).not.toEqual([]);
    expect(violations({ ...good, path: '/v2/models/iris-classifier/predict' })).toEqual(expect.arrayContaining([expect.stringContaining('is not /v2/models/')]));
  });
});
