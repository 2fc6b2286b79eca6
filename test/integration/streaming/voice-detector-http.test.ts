/**
 * The streaming route on the OIP server (what `npm start` serves) over real HTTP: chunked input
 * and output, SSE and NDJSON, the whole-clip infer route, every bad input, and 100 clients that
 * disconnect mid-stream (the work stops, nothing leaks).
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { resample } from '../../../kernels/audio/audio-kernels';
import { startOipServer, type RunningOipServer } from '../../../lib/server/oip-server';
import type { ServingRuntime } from '../../../lib/serving/serving-runtime';
import { wavHeader } from '../../../lib/streaming/wav-stream-parser';
import { pcmBytes, sileroRuntime, SPEECH_FIXTURE } from './streaming-fixtures';

let runtime: ServingRuntime;
let server: RunningOipServer;
beforeAll(async () => {
  runtime = await sileroRuntime();
  server = await startOipServer({ runtime, port: 0, logger: { info() {}, warn() {}, error() {} } });
});
afterAll(async () => {
  await server.close(100);
  await runtime.registry.dispose();
});

const WAV = readFileSync(SPEECH_FIXTURE);
const STREAM = '/v2/models/voice-detector/generate_stream';

/** Opens a chunked POST; resolves with the request (to write more) and the response once its head has arrived. */
function openStream(path: string, headers: Record<string, string> = {}): { req: ClientRequest; response: Promise<IncomingMessage> } {
  const url = new URL(path, server.url);
  const req = httpRequest(url, { method: 'POST', headers: { 'transfer-encoding': 'chunked', ...headers } });
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
  });
  req.flushHeaders();
  return { req, response };
}

/** Reads SSE `data:` lines (or NDJSON lines) as they arrive. */
async function* lines(res: IncomingMessage): AsyncGenerator<string> {
  let buffered = '';
  for await (const chunk of res) {
    buffered += chunk.toString();
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line.length > 0) yield line;
    }
  }
}

async function post(path: string, body: Uint8Array, headers: Record<string, string> = {}): Promise<{ status: number; type: string; text: string }> {
  const res = await fetch(new URL(path, server.url), { method: 'POST', body, headers });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

const sse = (text: string) => text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)) as Record<string, unknown>);

describe('POST /v2/models/voice-detector/generate_stream on the OIP server', () => {
  it('sends the first segment\'s start while the upload is still running, then the rest and done (text/event-stream)', async () => {
    const { req, response } = openStream(STREAM);
    // Header and the first 2 s (the first utterance starts at 0.6 s); the rest waits for the event.
    const firstPart = 44 + 2 * 22050 * 2;
    req.write(WAV.subarray(0, firstPart));
    const res = await response;
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream');
    const read = lines(res);
    const first = JSON.parse((await read.next()).value!.replace(/^data: /, ''));
    expect(first).toMatchObject({ model_name: 'voice-detector', event: 'start', segment: 0, sample: 9248, sample_rate: 16000, time: 0.578 });
    req.end(WAV.subarray(firstPart));
    const rest = [];
    for await (const line of read) rest.push(JSON.parse(line.replace(/^data: /, '')));
    expect(rest.map((e) => [e.event, e.sample])).toEqual([['end', 56800], ['start', 75808], ['end', 118752], ['done', undefined]]);
    expect(rest.at(-1)).toMatchObject({ event: 'done', samples: 129131, frames: 253, segments: 2 });
  });

  it('writes NDJSON when the client accepts only that, and takes raw PCM with rate and format in the query', async () => {
    const audio16k = resample(Float32Array.from(new Int16Array(WAV.buffer.slice(WAV.byteOffset + 44, WAV.byteOffset + WAV.byteLength)), (v) => v / 32768), 22050, 16000);
    const raw = pcmBytes(audio16k, { encoding: 'float32', sampleRate: 16000, channels: 1 });
    const answer = await post(`${STREAM}?format=float32&rate=16000`, raw, { accept: 'application/x-ndjson' });
    expect(answer.status).toBe(200);
    expect(answer.type).toBe('application/x-ndjson');
    const events = answer.text.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.map((e) => e.event)).toEqual(['start', 'end', 'start', 'end', 'done']);
  });

  it('refuses bad input before the first byte with a status and a message that says what to fix', async () => {
    const lying = Buffer.from(WAV.subarray(0, 4096));
    lying.writeUInt16LE(3, 32); // block align 3 for mono 16-bit
    const eightBit = Buffer.from(wavHeader({ encoding: 'pcm16', sampleRate: 16000, channels: 1 }, 1000));
    eightBit.writeUInt16LE(8, 34);
    eightBit.writeUInt16LE(1, 32);
    eightBit.writeUInt32LE(16000, 28);
    const cases: [string, Uint8Array, number, RegExp][] = [
      [STREAM, WAV.subarray(0, 30), 400, /WAV header truncated: the stream ended after 30 bytes/],
      [STREAM, lying, 400, /block align 3 contradicts 1 channel\(s\) of 16-bit samples \(2 bytes\)/],
      [STREAM, Buffer.concat([eightBit, Buffer.alloc(1000)]), 415, /WAV encoding PCM, 8-bit is not supported; send WAV or raw PCM, 16-bit/],
      [STREAM, Buffer.from('hello, not audio'), 400, /not a WAV stream: it does not begin with 'RIFF'/],
      [STREAM, new Uint8Array(0), 400, /request body is empty/],
      [`${STREAM}?format=pcm16&rate=11025`, Buffer.alloc(100), 400, /sample rate 11025 Hz is not supported; send 8000, 16000, 22050, 44100, 48000 Hz/],
      [`${STREAM}?format=mulaw&rate=8000`, Buffer.alloc(100), 400, /'format' must be pcm16 or float32/],
      [`${STREAM}?rate=8000`, Buffer.alloc(100), 400, /raw PCM needs 'format'/],
    ];
    for (const [path, body, status, message] of cases) {
      const answer = await post(path, body);
      expect({ path, status: answer.status }).toEqual({ path, status });
      expect(JSON.parse(answer.text).error).toMatch(message);
    }
  });

  it('ends with an {"error"} event when the audio goes wrong after the first byte, and flushes a stream that stops mid-frame', async () => {
    // The data chunk declares the whole clip; the stream stops 1.3 s in, inside a model frame.
    const truncated = await post(STREAM, WAV.subarray(0, 44 + 1.3 * 22050 * 2 + 100));
    expect(truncated.status).toBe(200);
    const events = sse(truncated.text);
    expect(events.at(-1)).toEqual({ error: `WAV audio truncated: the 'data' chunk declares ${WAV.byteLength - 44} bytes, the stream ended after ${1.3 * 22050 * 2 + 100}` });
    expect(events[0]).toMatchObject({ event: 'start', sample: 9248 });
    // Raw PCM16 with half a sample at the end.
    const halfSample = await post(`${STREAM}?format=pcm16&rate=16000`, Buffer.alloc(16001));
    expect(sse(halfSample.text)).toEqual([{ error: 'the audio ended inside a sample frame: 1 byte(s) left over; pcm16 x 1 channel(s) takes 2 bytes per frame' }]);
    // A WAV of unknown length (streaming writers' 0xFFFFFFFF) that stops mid-frame: the open segment closes at the end.
    const open = Buffer.from(WAV.subarray(0, 44 + 2 * 22050 * 2 + 2 * 1000));
    open.writeUInt32LE(0xffffffff, 40);
    open.writeUInt32LE(0xffffffff, 4);
    const flushed = sse((await post(STREAM, open)).text);
    expect(flushed.map((e) => [e.event, e.sample])).toEqual([['start', 9248], ['end', Math.floor(((2 * 22050 + 1000) * 16000) / 22050) + 1], ['done', undefined]]);
  });

  it('answers a whole clip through /infer with the same segments as OIP outputs', async () => {
    const pcm = Float32Array.from(new Int16Array(WAV.buffer.slice(WAV.byteOffset + 44, WAV.byteOffset + WAV.byteLength)), (v) => v / 32768);
    const body = JSON.stringify({ id: 'clip', inputs: [
      { name: 'audio', datatype: 'FP32', shape: [pcm.length], data: Array.from(pcm) },
      { name: 'sample_rate', datatype: 'INT32', shape: [1], data: [22050] },
    ] });
    const answer = await post('/v2/models/voice-detector/infer', Buffer.from(body), { 'content-type': 'application/json' });
    expect(answer.status).toBe(200);
    const parsed = JSON.parse(answer.text);
    expect(parsed).toMatchObject({ model_name: 'voice-detector', id: 'clip', parameters: { sample_rate: 16000, frames: 253 } });
    const outputs = Object.fromEntries(parsed.outputs.map((o: { name: string }) => [o.name, o]));
    expect(outputs.segment_samples).toEqual({ name: 'segment_samples', datatype: 'INT64', shape: [2, 2], data: [9248, 56800, 75808, 118752] });
    expect(outputs.segments.data).toEqual([9248 / 16000, 56800 / 16000, 75808 / 16000, 118752 / 16000].map(Math.fround));
    const metadata = await (await fetch(new URL('/v2/models/voice-detector', server.url))).json();
    expect(metadata).toMatchObject({ name: 'voice-detector', outputs: [{ name: 'segments', datatype: 'FP32', shape: [-1, 2] }, expect.anything(), expect.anything()] });
  });

  it('stops the work and keeps nothing when 100 clients disconnect mid-stream', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const abortOne = async () => {
      const { req, response } = openStream(STREAM);
      req.on('error', () => {});
      req.write(WAV.subarray(0, 44 + 22050 * 2));
      const res = await response;
      await new Promise<void>((resolve) => res.once('data', () => resolve()));
      req.destroy();
      res.destroy();
    };
    const settle = async () => {
      for (let i = 0; i < 100 && server.inflight() > 0; i++) await new Promise((r) => setTimeout(r, 10));
      gc();
    };
    for (let i = 0; i < 10; i++) await abortOne();
    await settle();
    const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
    const heap = process.memoryUsage().heapUsed;
    for (let i = 0; i < 100; i++) await abortOne();
    await settle();
    expect(server.inflight()).toBe(0);
    expect((process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length).toBeLessThanOrEqual(handles + 2);
    expect(process.memoryUsage().heapUsed - heap).toBeLessThan(8 * 1024 * 1024);
  });
});
