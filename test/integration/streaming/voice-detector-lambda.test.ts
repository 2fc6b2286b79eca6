/**
 * The Function URL handler (functions/stream/) in-process, under a stand-in for the Lambda
 * runtime's `awslambda` global that behaves as the runtime's does: streamifyResponse hands the
 * handler a response stream, HttpResponseStream.from writes the JSON prelude (status, headers)
 * and 8 NUL bytes before the body.
 */
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { createStreamHandler } from '../../../functions/stream/stream-handler-factory';
import type { ServingRuntime } from '../../../lib/serving/serving-runtime';
import { createTelemetry } from '../../../lib/telemetry/lambda-telemetry';
import { createInProcessApi, resultBytes } from '../../support/in-process-api';
import { sileroRuntime, SPEECH_FIXTURE } from './streaming-fixtures';

const PRELUDE_END = Buffer.alloc(8);

(globalThis as Record<string, unknown>).awslambda = {
  streamifyResponse: (handler: unknown) => handler,
  HttpResponseStream: {
    from(stream: Writable, prelude: unknown) {
      stream.write(Buffer.concat([Buffer.from(JSON.stringify(prelude)), PRELUDE_END]));
      return stream;
    },
  },
};

type StreamingHandler = (event: APIGatewayProxyEventV2, stream: Writable, context: Context) => Promise<void>;

let runtime: ServingRuntime;
let handler: StreamingHandler;
beforeAll(async () => {
  runtime = await sileroRuntime();
  handler = createStreamHandler(runtime, createTelemetry()) as unknown as StreamingHandler;
});
afterAll(async () => {
  await runtime.registry.dispose();
});

function urlEvent(method: string, path: string, body?: Buffer, query = ''): APIGatewayProxyEventV2 {
  return {
    version: '2.0', routeKey: '$default', rawPath: path, rawQueryString: query, headers: { 'content-type': 'audio/wav' },
    requestContext: { http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' }, requestId: 'r', routeKey: '$default', stage: '$default' },
    body: body?.toString('base64'), isBase64Encoded: body !== undefined,
  } as unknown as APIGatewayProxyEventV2;
}

/** Invokes the handler; returns the prelude, the body and how many writes carried it. */
async function invoke(event: APIGatewayProxyEventV2): Promise<{ prelude: { statusCode: number; headers: Record<string, string> }; body: string; writes: number }> {
  const chunks: Buffer[] = [];
  const stream = new Writable({ write(chunk, _encoding, done) { chunks.push(Buffer.from(chunk)); done(); } });
  const context = { awsRequestId: 'test', functionName: 'hotpath-stream', getRemainingTimeInMillis: () => 900_000 } as unknown as Context;
  await handler(event, stream, context);
  const all = Buffer.concat(chunks);
  const split = all.indexOf(PRELUDE_END);
  return { prelude: JSON.parse(all.subarray(0, split).toString()), body: all.subarray(split + 8).toString(), writes: chunks.length - 1 };
}

describe('stream handler (Function URL, RESPONSE_STREAM, middy streaming mode)', () => {
  it('streams the events of a WAV body as text/event-stream, written as they are decided', async () => {
    const { prelude, body, writes } = await invoke(urlEvent('POST', '/v2/models/voice-detector/generate_stream', readFileSync(SPEECH_FIXTURE)));
    expect(prelude).toMatchObject({ statusCode: 200, headers: { 'content-type': 'text/event-stream' } });
    const events = body.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)));
    expect(events.map((e) => [e.event, e.sample])).toEqual([['start', 9248], ['end', 56800], ['start', 75808], ['end', 118752], ['done', undefined]]);
    // One write per decision, not one buffered body.
    expect(writes).toBeGreaterThanOrEqual(4);
  });

  it('answers a bad header with its status in the prelude, and the other /v2 routes as the API does', async () => {
    const bad = await invoke(urlEvent('POST', '/v2/models/voice-detector/generate_stream', Buffer.from('RIFF....WAVEfmt ')));
    expect(bad.prelude.statusCode).toBe(400);
    expect(JSON.parse(bad.body).error).toMatch(/WAV header truncated/);
    const ready = await invoke(urlEvent('GET', '/v2/health/ready'));
    expect(ready.prelude.statusCode).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({ ready: true });
  });
});

describe('the voice detector through the HTTP API handler (API Gateway HTTP APIs cannot stream)', () => {
  it('answers generate_stream with the whole event stream in one body, the same events', async () => {
    const api = await createInProcessApi({ models: ['silero-vad'] });
    try {
      const result = await api.call('POST', '/v2/models/voice-detector/generate_stream', { body: readFileSync(SPEECH_FIXTURE), headers: { 'content-type': 'audio/wav', accept: 'application/x-ndjson' } });
      expect(result.statusCode).toBe(200);
      expect(result.headers).toMatchObject({ 'content-type': 'application/x-ndjson' });
      const events = resultBytes(result).toString().trim().split('\n').map((l) => JSON.parse(l));
      expect(events.map((e) => [e.event, e.sample])).toEqual([['start', 9248], ['end', 56800], ['start', 75808], ['end', 118752], ['done', undefined]]);
      const wrongMethod = await api.call('GET', '/v2/models/voice-detector/generate_stream');
      expect(wrongMethod.statusCode).toBe(405);
    } finally {
      await api.runtime.registry.dispose();
    }
  });
});
