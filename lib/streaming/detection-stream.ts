import { InvalidRequestError } from '../errors/hotpath-error';
import { HotpathError } from '../errors/hotpath-error';
import type { ServingRuntime } from '../serving/serving-runtime';
import { AudioStreamDetector, type AudioStreamInput, type VoiceEvent } from './audio-stream-detector';
import { sileroStep, type DetectorCounters } from './voice-activity-detector';
import { checkAudioFormat, type SampleEncoding } from './wav-stream-parser';

/** The detector's name under /v2/models, and the model it runs as the registry serves it. */
export const VOICE_DETECTOR_MODEL = 'voice-detector';
export const VOICE_DETECTOR_VERSION = '1';
export const SILERO_MODEL = 'silero-vad';

/** How events leave: Server-Sent Events (`data: {json}` lines, as Triton's generate_stream) or NDJSON. */
export type EventFraming = 'sse' | 'ndjson';

/** A streaming detection request as any door sees it. */
export interface DetectionStreamRequest {
  /** Lower-cased names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly query: URLSearchParams;
  /** The body as it arrives (the OIP server's socket; on Lambda, the event's body in slices). */
  readonly body: AsyncIterable<Uint8Array>;
  /** Fires when the caller has gone: no further audio is read or run. */
  readonly signal?: AbortSignal;
  /** Absolute deadline on the performance.now() clock: past it the stream ends with an error event. */
  readonly deadline?: number;
  /** Told of an error that ended the stream after its first byte and is not the caller's (the door's logger). */
  readonly logError?: (error: unknown) => void;
}

/** The answer once the audio's format is known: the status and headers go out, then the events as they are decided. */
export interface DetectionStreamAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly events: AsyncGenerator<string, void, undefined>;
}

const NDJSON_TYPES = ['application/x-ndjson', 'application/jsonl', 'application/json-seq', 'application/ndjson'];

/** SSE unless the caller accepts only NDJSON (Accept: application/x-ndjson). */
export function eventFramingFor(accept: string | undefined): EventFraming {
  const types = (accept ?? '').split(',').map((t) => t.split(';')[0]!.trim().toLowerCase());
  if (types.some((t) => t === 'text/event-stream')) return 'sse';
  return types.some((t) => NDJSON_TYPES.includes(t)) ? 'ndjson' : 'sse';
}

/** One event as its framing writes it. */
export function frameEvent(framing: EventFraming, value: unknown): string {
  const json = JSON.stringify(value);
  return framing === 'sse' ? `data: ${json}\n\n` : `${json}\n`;
}

function parameter(request: Pick<DetectionStreamRequest, 'headers' | 'query'>, name: string): string | undefined {
  return request.query.get(name) ?? request.headers[`x-audio-${name}`] ?? undefined;
}

/**
 * The input a request describes: raw PCM when it names a `format` (pcm16 or float32) in the
 * query or the x-audio-format header, with `rate` and `channels` (default 1); otherwise WAV,
 * whatever the Content-Type says (curl's --data-binary sends application/x-www-form-urlencoded):
 * the bytes must begin with a RIFF/WAVE header.
 */
export function audioInputOf(request: Pick<DetectionStreamRequest, 'headers' | 'query'>): AudioStreamInput {
  const format = parameter(request, 'format');
  const rate = parameter(request, 'rate');
  const channels = parameter(request, 'channels');
  if (format === undefined) {
    if (rate !== undefined || channels !== undefined) throw new InvalidRequestError(`raw PCM needs 'format' (pcm16 or float32) beside 'rate' and 'channels'; a WAV stream needs none of them`);
    return { container: 'wav' };
  }
  if (format !== 'pcm16' && format !== 'float32') throw new InvalidRequestError(`'format' must be pcm16 or float32 (little-endian), got '${format}'`);
  if (rate === undefined) throw new InvalidRequestError(`raw PCM needs 'rate' (8000, 16000, 22050, 44100 or 48000) in the query or the x-audio-rate header`);
  const sampleRate = Number(rate);
  const channelCount = channels === undefined ? 1 : Number(channels);
  if (!Number.isInteger(sampleRate)) throw new InvalidRequestError(`'rate' must be an integer in Hz, got '${rate}'`);
  if (!Number.isInteger(channelCount)) throw new InvalidRequestError(`'channels' must be 1 or 2, got '${channels}'`);
  return { container: 'raw', format: checkAudioFormat({ encoding: format as SampleEncoding, sampleRate, channels: channelCount }, 'raw PCM parameters') };
}

/** `gate=false` in the query runs the model on every frame (the benchmark's ungated case). */
function gateOf(query: URLSearchParams): boolean {
  const gate = query.get('gate');
  if (gate === null || gate === 'true' || gate === '1') return true;
  if (gate === 'false' || gate === '0') return false;
  throw new InvalidRequestError(`'gate' must be true or false, got '${gate}'`);
}

/** A detector for one stream over the silero-vad session the registry serves now (whatever its backend). */
export function createStreamDetector(runtime: Pick<ServingRuntime, 'registry'>, input: AudioStreamInput, gate: boolean): AudioStreamDetector {
  const { session } = runtime.registry.findReady(SILERO_MODEL).state;
  return new AudioStreamDetector(input, (rate) => sileroStep(session, rate), { gate });
}

/** An event as the doors send it. */
export function eventBody(e: VoiceEvent, sampleRate: number) {
  return {
    model_name: VOICE_DETECTOR_MODEL, model_version: VOICE_DETECTOR_VERSION, event: e.event, segment: e.segment,
    sample: e.sample, sample_rate: sampleRate, time: e.time, probability: e.probability, decided_at: e.decidedAt,
  };
}

function doneBody(counters: DetectorCounters | undefined) {
  const c = counters ?? { samples: 0, frames: 0, modelCalls: 0, skippedFrames: 0, segments: 0, droppedSegments: 0 };
  return {
    model_name: VOICE_DETECTOR_MODEL, model_version: VOICE_DETECTOR_VERSION, event: 'done',
    samples: c.samples, frames: c.frames, model_calls: c.modelCalls, skipped_frames: c.skippedFrames,
    segments: c.segments, dropped_segments: c.droppedSegments,
  };
}

/** What an error after the first byte says (the same text the error answer would have shown). */
function errorText(error: unknown): string {
  return error instanceof HotpathError && error.expose ? error.message : 'internal error while detecting; the events above stand';
}

/**
 * `POST /v2/models/voice-detector/generate_stream`, for every door: reads the body until the
 * audio's format is known (a bad header, bad parameters or an empty body throw here, before any
 * byte of the answer: the door answers them with a status), then hands back the status and the
 * events, which are decided and written while the rest of the audio arrives. After the first
 * byte an error is an `{"error": ...}` event and the end of the stream; a caller that goes away
 * stops the reading and the model at the next chunk. The last event is `done` with the counters.
 */
export async function openDetectionStream(runtime: ServingRuntime, request: DetectionStreamRequest): Promise<DetectionStreamAnswer> {
  const framing = eventFramingFor(request.headers.accept);
  const input = audioInputOf(request);
  const gate = gateOf(request.query);
  await runtime.ensureLoaded();
  const detector = createStreamDetector(runtime, input, gate);
  const source = request.body[Symbol.asyncIterator]();
  const run = { signal: request.signal, deadline: request.deadline };
  const early: VoiceEvent[] = [];
  let ended = false;
  let received = 0;
  try {
    // Until the format is known (and at least one byte came, so an empty body is a 400).
    while (detector.format === undefined || received === 0) {
      const next = await source.next();
      if (next.done) {
        ended = true;
        early.push(...(await detector.finish(run)));
        break;
      }
      received += next.value.byteLength;
      early.push(...(await detector.push(next.value, run)));
    }
    if (received === 0) throw new InvalidRequestError('request body is empty; send a WAV stream or raw PCM audio');
  } catch (error) {
    await source.return?.();
    throw error;
  }
  const headers = {
    'content-type': framing === 'sse' ? 'text/event-stream' : 'application/x-ndjson',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
  };
  return { status: 200, headers, events: detectionEvents(detector, source, early, ended, framing, request) };
}

async function* detectionEvents(
  detector: AudioStreamDetector,
  source: AsyncIterator<Uint8Array>,
  early: readonly VoiceEvent[],
  ended: boolean,
  framing: EventFraming,
  request: DetectionStreamRequest,
): AsyncGenerator<string, void, undefined> {
  const run = { signal: request.signal, deadline: request.deadline };
  const send = (events: readonly VoiceEvent[]) => events.map((e) => frameEvent(framing, eventBody(e, detector.detectorRate!))).join('');
  try {
    if (early.length > 0) yield send(early);
    while (!ended) {
      const next = await source.next();
      if (request.signal?.aborted) return;
      if (request.deadline !== undefined && performance.now() > request.deadline) throw new InvalidRequestError('the stream ran out of time (the function\'s timeout is near); send the rest in a new stream');
      if (next.done) break;
      const events = await detector.push(next.value, run);
      if (events.length > 0) yield send(events);
    }
    if (!ended) {
      const events = await detector.finish(run);
      if (events.length > 0) yield send(events);
    }
    yield frameEvent(framing, doneBody(detector.counters));
  } catch (error) {
    if (request.signal?.aborted) return;
    if (!(error instanceof HotpathError && error.expose)) request.logError?.(error);
    yield frameEvent(framing, { error: errorText(error) });
  } finally {
    await source.return?.();
  }
}
