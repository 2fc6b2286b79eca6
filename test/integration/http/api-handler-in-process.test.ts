import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { decodeInferRequest } from '../../../lib/protocol/infer-request-decoder';
import { encodeInferRequest } from '../../../lib/protocol/infer-request-encoder';
import type { HostTensor } from '../../../lib/protocol/tensor';
import { createInProcessApi, resultBytes, type InProcessApi } from '../../support/in-process-api';

let api: InProcessApi;
beforeAll(async () => {
  api = await createInProcessApi();
});
afterAll(async () => {
  await api.runtime.registry.dispose();
});

/** Reads a response's outputs whether they came as JSON or in the binary extension. */
function outputsOf(result: APIGatewayProxyStructuredResultV2) {
  const bytes = resultBytes(result);
  const headerLength = result.headers?.['inference-header-content-length'];
  if (headerLength === undefined) return JSON.parse(bytes.toString('utf8')).outputs as { name: string; data: unknown[] }[];
  // The response's binary part uses the same encoding as a request's: decode it with the request decoder.
  const header = JSON.parse(bytes.subarray(0, Number(headerLength)).toString('utf8'));
  const asRequest = Buffer.concat([
    Buffer.from(JSON.stringify({ inputs: header.outputs })),
    bytes.subarray(Number(headerLength)),
  ]);
  const decoded = decodeInferRequest(asRequest, { 'inference-header-content-length': String(asRequest.byteLength - bytes.byteLength + Number(headerLength)) });
  return decoded.inputs.map((t) => ({ name: t.name, data: Array.from(t.data as ArrayLike<number | bigint>, (v) => (typeof v === 'bigint' ? Number(v) : v)) }));
}

describe('api handler (in process, real models)', () => {
  it('answers identical outputs for JSON and binary requests of the same tensors', async () => {
    // Prepare: 16 iris-like rows, sent once as JSON and once in the binary extension, asking binary outputs back.
    const rows = Float32Array.from({ length: 64 }, (_, i) => 0.5 + ((i * 37) % 70) / 10);
    const input: HostTensor = { name: 'input', datatype: 'FP32', shape: [16, 4], data: rows };
    const asJson = encodeInferRequest([input], { id: 'json' });
    const asBinary = encodeInferRequest([input], { id: 'bin', binary: true, outputs: [{ name: 'probabilities', binary: true }, { name: 'label', binary: true }] });
    // Act
    const jsonResult = await api.call('POST', '/v2/models/iris-classifier/infer', { body: asJson.body.toString('utf8'), headers: asJson.headers });
    const binaryResult = await api.call('POST', '/v2/models/iris-classifier/infer', { body: asBinary.body, headers: asBinary.headers });
    // Assess
    expect(jsonResult.statusCode).toBe(200);
    expect(binaryResult.statusCode).toBe(200);
    expect(binaryResult.isBase64Encoded).toBe(true);
    const fromJson = outputsOf(jsonResult);
    const fromBinary = outputsOf(binaryResult);
    expect(fromBinary.map((o) => o.name)).toEqual(['probabilities', 'label']);
    // JSON carries float32 values printed as doubles: compare after rounding both to float32.
    expect(Array.from(Float32Array.from(fromBinary[0]!.data as number[]))).toEqual(Array.from(Float32Array.from(fromJson[0]!.data as number[])));
    expect(fromBinary[1]!.data).toEqual(fromJson[1]!.data);
  });

  it('lists the constraints the shapes cannot say in the model metadata', async () => {
    const result = await api.call('GET', '/v2/models/silero-vad');
    expect(result.statusCode).toBe(200);
    const { parameters } = JSON.parse(result.body!);
    expect(parameters.constraints.sr.oneOf).toEqual([8000, 16000]);
    expect(JSON.parse((await api.call('GET', '/v2/models/text-detector')).body!).parameters.constraints.x.dims).toEqual(
      expect.arrayContaining([expect.objectContaining({ axis: 2, multipleOf: 32 })]),
    );
  });

  it('abandons an inference that the function\'s remaining time cannot cover with a 504, before running it', async () => {
    const event = JSON.parse(readFileSync(join('events/http', 'infer-json.json'), 'utf8'));
    const result = await api.invoke(event, 100);
    expect(result.statusCode).toBe(504);
    expect(JSON.parse(result.body!).error).toMatch(/deadline passed/);
    expect((await api.invoke(event, 29_000)).statusCode).toBe(200);
  });

  it('reports every stage in Server-Timing and the route that served', async () => {
    const result = await api.call('POST', '/v2/models/iris-classifier/infer', {
      body: JSON.stringify({ inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [5.1, 3.5, 1.4, 0.2] }] }),
    });
    expect(result.statusCode).toBe(200);
    expect(String(result.headers?.['server-timing'])).toMatch(/^decode;dur=[\d.]+, validate;dur=[\d.]+, infer;dur=[\d.]+, encode;dur=[\d.]+, total;dur=[\d.]+$/);
    expect(result.headers?.['x-hotpath-route']).toBe('local-kernel');
    expect(JSON.parse(result.body!).parameters).toEqual({ route: 'local-kernel' });
  });

  it('serves the text detector CNN on an image-shaped batch', async () => {
    const image = new Float32Array(1 * 3 * 64 * 96).fill(0.5);
    const request = encodeInferRequest([{ name: 'x', datatype: 'FP32', shape: [1, 3, 64, 96], data: image }], { binary: true, outputs: [{ name: api.runtime.registry.find('text-detector').manifest.outputs[0]!.name, binary: true }] });
    const result = await api.call('POST', '/v2/models/text-detector/infer', { body: request.body, headers: request.headers });
    expect(result.statusCode).toBe(200);
    const header = JSON.parse(resultBytes(result).subarray(0, Number(result.headers?.['inference-header-content-length'])).toString('utf8'));
    expect(header.outputs[0].shape).toEqual([1, 1, 64, 96]);
  });
});

describe('sample events (events/http)', () => {
  const eventsDir = join(process.cwd(), 'events/http');
  const files = readdirSync(eventsDir).filter((f) => f.endsWith('.json'));

  it('cover every route the API serves', () => {
    const paths = files.map((f) => JSON.parse(readFileSync(join(eventsDir, f), 'utf8')).rawPath as string);
    for (const route of [/^\/v2$/, /^\/v2\/health\/live$/, /^\/v2\/health\/ready$/, /^\/v2\/models$/, /^\/v2\/models\/[^/]+$/, /^\/v2\/models\/[^/]+\/ready$/,
      /^\/v2\/models\/[^/]+\/infer$/, /^\/v2\/models\/[^/]+\/versions\/[^/]+$/, /^\/v2\/models\/[^/]+\/versions\/[^/]+\/ready$/, /^\/v2\/models\/[^/]+\/versions\/[^/]+\/infer$/]) {
      expect(paths.some((p) => route.test(p))).toBe(true);
    }
  });

  it.each(files)('%s gets its expected answer from the real handler', async (file) => {
    const event = JSON.parse(readFileSync(join(eventsDir, file), 'utf8')) as APIGatewayProxyEventV2;
    const result = await api.invoke(event);
    const expected = file.startsWith('wrong-method') ? 405 : 200;
    expect(result.statusCode).toBe(expected);
    if (file.startsWith('infer')) {
      const bytes = resultBytes(result);
      const headerLength = Number(result.headers?.['inference-header-content-length'] ?? bytes.byteLength);
      const header = JSON.parse(bytes.subarray(0, headerLength).toString('utf8'));
      expect(header.model_name).toBe('iris-classifier');
      expect(header.outputs.length).toBeGreaterThan(0);
    }
  });
});

describe('kernel models through the protocol', () => {
  const infer = async (model: string, inputs: unknown[]) => {
    const result = await api.call('POST', `/v2/models/${model}/infer`, { body: JSON.stringify({ inputs }) });
    return { status: result.statusCode, body: JSON.parse(result.body!), route: result.headers?.['x-hotpath-route'] };
  };

  it('assigns iris flowers to the k-means cluster of their species', async () => {
    // Prepare: the first flower of each species (rows 1, 51, 101 of the data set).
    const rows = [[5.1, 3.5, 1.4, 0.2], [7.0, 3.2, 4.7, 1.4], [6.3, 3.3, 6.0, 2.5]];
    // Act
    const { status, body, route } = await infer('iris-kmeans', [{ name: 'vectors', shape: [3, 4], datatype: 'FP32', data: rows }]);
    // Assess: three different clusters, squared distances small against the data's spread.
    expect(status).toBe(200);
    expect(route).toBe('local-kernel');
    const labels = body.outputs.find((o: { name: string }) => o.name === 'label').data as number[];
    expect(new Set(labels).size).toBe(3);
    expect(Math.max(...(body.outputs.find((o: { name: string }) => o.name === 'distance').data as number[]))).toBeLessThan(2);
  });

  it('finds a flower of the data set as its own nearest neighbour, same species next', async () => {
    const { status, body } = await infer('iris-neighbors', [{ name: 'queries', shape: [1, 4], datatype: 'FP32', data: [5.1, 3.5, 1.4, 0.2] }]);
    expect(status).toBe(200);
    const indices = body.outputs.find((o: { name: string }) => o.name === 'indices');
    expect(indices.shape).toEqual([1, 5]);
    expect(indices.data[0]).toBe(0);
    const species = (await api.call('GET', '/v2/models/iris-neighbors')).body!;
    const rowLabels = JSON.parse(species).parameters.labels.indices as string[];
    expect(indices.data.every((row: number) => rowLabels[row] === rowLabels[0])).toBe(true);
  });

  it('finds the speech segment in audio with silence around it', async () => {
    // Prepare: 1 s at 16 kHz; a voiced burst from 0.25 s to 0.75 s over faint noise.
    const audio = Array.from({ length: 16000 }, (_, i) => (i >= 4000 && i < 12000 ? 0.3 * Math.sin((2 * Math.PI * 180 * i) / 16000) : 0.001 * Math.sin(i * 7)));
    // Act
    const { status, body } = await infer('silence-detector', [{ name: 'audio', shape: [16000], datatype: 'FP32', data: audio }]);
    // Assess
    expect(status).toBe(200);
    const segments = body.outputs.find((o: { name: string }) => o.name === 'segments');
    expect(segments.shape).toEqual([1, 2]);
    expect(segments.data[0]).toBeCloseTo(0.25, 1);
    expect(segments.data[1]).toBeGreaterThanOrEqual(0.7);
    expect(segments.data[1]).toBeLessThanOrEqual(1.0);
  });

  it('refuses NaN audio with the element named', async () => {
    const audio = new Array(1600).fill(0);
    audio[17] = 'NaN';
    const { status, body } = await infer('silence-detector', [{ name: 'audio', shape: [1600], datatype: 'FP32', data: audio }]);
    expect(status).toBe(400);
    expect(body.error).toMatch(/element 17/);
  });
});
