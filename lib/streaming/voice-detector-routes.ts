import { InvalidRequestError, NotFoundError } from '../errors/hotpath-error';
import { jsonResponse, type HttpRequest, type HttpResponse } from '../http/http-types';
import { decodeInferRequest } from '../protocol/infer-request-decoder';
import { encodeInferResponse } from '../protocol/infer-response-encoder';
import type { HostTensor, TensorSignature } from '../protocol/tensor';
import type { ServingRuntime } from '../serving/serving-runtime';
import type { VoiceEvent } from './audio-stream-detector';
import { createStreamDetector, openDetectionStream, SILERO_MODEL, VOICE_DETECTOR_MODEL, VOICE_DETECTOR_VERSION } from './detection-stream';
import { blockAlignOf } from './wav-stream-parser';

/** The detector's routes: metadata, readiness, whole-clip infer and the stream (buffered on doors that cannot stream). */
export type VoiceDetectorRouteKind = 'model' | 'model-ready' | 'infer' | 'generate-stream';

const INPUTS: readonly TensorSignature[] = [
  { name: 'audio', datatype: 'FP32', shape: [-1] },
  { name: 'sample_rate', datatype: 'INT32', shape: [1] },
  { name: 'wav', datatype: 'BYTES', shape: [1] },
];
const OUTPUTS: readonly TensorSignature[] = [
  { name: 'segments', datatype: 'FP32', shape: [-1, 2] },
  { name: 'segment_samples', datatype: 'INT64', shape: [-1, 2] },
  { name: 'probability', datatype: 'FP32', shape: [-1] },
];

/** Whether the router should hand a model route to the detector: its name, unless a model of that name is served. */
export function isVoiceDetectorModel(runtime: Pick<ServingRuntime, 'registry'>, model: string): boolean {
  return model === VOICE_DETECTOR_MODEL && !runtime.registry.entries.some((e) => e.manifest.name === model);
}

/**
 * The detector under /v2/models/voice-detector, on every door (transport-neutral, buffered):
 * metadata, ready, `infer` (a whole clip's segments as OIP outputs) and `generate_stream`
 * (the whole event stream in one body, for doors that cannot stream: API Gateway HTTP APIs).
 */
export async function answerVoiceDetectorRequest(
  runtime: ServingRuntime, route: { kind: VoiceDetectorRouteKind; version?: string }, request: HttpRequest, query = new URLSearchParams(),
): Promise<HttpResponse> {
  if (route.version !== undefined && route.version !== VOICE_DETECTOR_VERSION) {
    throw new NotFoundError(`model '${VOICE_DETECTOR_MODEL}' has no version '${route.version}'; its versions are: ${VOICE_DETECTOR_VERSION}`);
  }
  const silero = runtime.registry.entries.find((e) => e.manifest.name === SILERO_MODEL && e.state.ready);
  switch (route.kind) {
    case 'model':
      return jsonResponse(200, {
        name: VOICE_DETECTOR_MODEL, versions: [VOICE_DETECTOR_VERSION], platform: 'hotpath_stream', inputs: INPUTS, outputs: OUTPUTS,
        parameters: {
          version: VOICE_DETECTOR_VERSION,
          description: `Speech segments (Silero VAD v5 streaming semantics, energy-gated) of a clip (infer: 'audio' FP32 mono + 'sample_rate', or 'wav' BYTES) or a stream (POST .../generate_stream with WAV or raw PCM, events as text/event-stream or NDJSON); runs ${SILERO_MODEL}`,
          ...(silero?.state.ready ? { route: silero.state.backend.route } : {}),
        },
      });
    case 'model-ready': {
      const body = { name: VOICE_DETECTOR_MODEL, version: VOICE_DETECTOR_VERSION, ready: silero !== undefined };
      return silero ? jsonResponse(200, body) : jsonResponse(400, { ...body, error: `'${SILERO_MODEL}' is not loaded here (HOTPATH_MODELS)` });
    }
    case 'generate-stream': {
      const answer = await openDetectionStream(runtime, { headers: request.headers, query, body: oneChunk(request.body) });
      let body = '';
      for await (const text of answer.events) body += text;
      return { status: answer.status, headers: answer.headers, body };
    }
    case 'infer':
      return answerClipInfer(runtime, request);
  }
}

async function* oneChunk(body: Uint8Array): AsyncGenerator<Uint8Array> {
  if (body.byteLength > 0) yield body;
}

async function answerClipInfer(runtime: ServingRuntime, request: HttpRequest): Promise<HttpResponse> {
  const decoded = decodeInferRequest(request.text ?? request.body, request.headers);
  const gate = decoded.parameters?.gate;
  if (gate !== undefined && typeof gate !== 'boolean') throw new InvalidRequestError(`parameter 'gate' must be a boolean, got ${JSON.stringify(gate)}`);
  const byName = new Map(decoded.inputs.map((t) => [t.name, t]));
  for (const name of byName.keys()) {
    if (!INPUTS.some((s) => s.name === name)) throw new InvalidRequestError(`input '${name}' is not an input of '${VOICE_DETECTOR_MODEL}'; send 'audio' (FP32 [-1]) with 'sample_rate' (INT32 [1]), or 'wav' (BYTES [1])`);
  }
  const audio = byName.get('audio');
  const wav = byName.get('wav');
  if ((audio ? 1 : 0) + (wav ? 1 : 0) !== 1) throw new InvalidRequestError(`send exactly one of input 'audio' (FP32 [-1]) or 'wav' (BYTES [1]), got ${audio ? 'both' : 'neither'}`);
  await runtime.ensureLoaded();
  let detector;
  let bytes: Uint8Array;
  if (wav) {
    if (wav.datatype !== 'BYTES' || !Array.isArray(wav.data) || wav.data.length !== 1) throw new InvalidRequestError(`input 'wav': expected BYTES [1] (one WAV file), got ${wav.datatype} [${wav.shape.join(',')}]`);
    detector = createStreamDetector(runtime, { container: 'wav' }, gate !== false);
    bytes = wav.data[0]!;
  } else {
    const samples = audio!.data;
    if (!(samples instanceof Float32Array) || audio!.shape.length !== 1) throw new InvalidRequestError(`input 'audio': expected FP32 [-1] (mono samples), got ${audio!.datatype} [${audio!.shape.join(',')}]`);
    const format = { encoding: 'float32' as const, sampleRate: sampleRateOf(byName.get('sample_rate')), channels: 1 };
    detector = createStreamDetector(runtime, { container: 'raw', format }, gate !== false);
    bytes = new Uint8Array(samples.buffer, samples.byteOffset, samples.length * blockAlignOf(format));
  }
  const events = [...(await detector.push(bytes)), ...(await detector.finish())];
  if (detector.counters?.samples === 0) throw new InvalidRequestError(`input '${wav ? 'wav' : 'audio'}' holds no samples`);
  const encoded = encodeInferResponse({
    modelName: VOICE_DETECTOR_MODEL,
    modelVersion: VOICE_DETECTOR_VERSION,
    id: decoded.id,
    parameters: { sample_rate: detector.detectorRate, ...countersParameters(detector.counters!) },
    outputs: segmentOutputs(events, detector.detectorRate!),
    binaryOutputs: new Set((decoded.outputs ?? []).filter((o) => o.binary).map((o) => o.name)),
  });
  const headers: Record<string, string> = { 'content-type': encoded.contentType };
  if (encoded.inferenceHeaderContentLength !== undefined) headers['inference-header-content-length'] = String(encoded.inferenceHeaderContentLength);
  return { status: 200, headers, body: encoded.contentType === 'application/json' ? encoded.body.toString('utf8') : encoded.body };
}

function sampleRateOf(tensor: HostTensor | undefined): number {
  if (tensor === undefined) return 16000;
  if (!(tensor.data instanceof Int32Array) || tensor.data.length !== 1) throw new InvalidRequestError(`input 'sample_rate': expected INT32 [1], got ${tensor.datatype} [${tensor.shape.join(',')}]`);
  return tensor.data[0]!;
}

function countersParameters(c: NonNullable<ReturnType<typeof createStreamDetector>['counters']>) {
  return { frames: c.frames, model_calls: c.modelCalls, skipped_frames: c.skippedFrames, dropped_segments: c.droppedSegments };
}

/** Segments as [start, end) pairs in seconds and in samples at the model's rate, with each start's probability. */
export function segmentOutputs(events: readonly VoiceEvent[], sampleRate: number): HostTensor[] {
  const starts = events.filter((e) => e.event === 'start');
  const ends = events.filter((e) => e.event === 'end');
  const k = ends.length;
  const seconds = new Float32Array(2 * k);
  const samples = new BigInt64Array(2 * k);
  const probability = new Float32Array(k);
  for (let i = 0; i < k; i++) {
    samples[2 * i] = BigInt(starts[i]!.sample);
    samples[2 * i + 1] = BigInt(ends[i]!.sample);
    seconds[2 * i] = starts[i]!.sample / sampleRate;
    seconds[2 * i + 1] = ends[i]!.sample / sampleRate;
    probability[i] = starts[i]!.probability;
  }
  return [
    { name: 'segments', datatype: 'FP32', shape: [k, 2], data: seconds },
    { name: 'segment_samples', datatype: 'INT64', shape: [k, 2], data: samples },
    { name: 'probability', datatype: 'FP32', shape: [k], data: probability },
  ];
}
