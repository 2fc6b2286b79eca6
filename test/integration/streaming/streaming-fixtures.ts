/** Shared by the streaming tests: audio bytes in any supported format, chunkings, and a detector over the real silero-vad session. */
import { float32ToPcm16 } from '../../../kernels/audio/audio-kernels';
import { syntheticSpeechLikeAudio } from '../../../kernels/audio/synthetic-speech-signal';
import { loadServingConfig } from '../../../lib/config/serving-config';
import { createServingRuntime, type ServingRuntime } from '../../../lib/serving/serving-runtime';
import type { AudioStreamDetector, VoiceEvent } from '../../../lib/streaming/audio-stream-detector';
import { wavHeader, type AudioFormat } from '../../../lib/streaming/wav-stream-parser';

export const SPEECH_FIXTURE = `${__dirname}/fixtures/espeak-two-utterances-22k.wav`;

/** A runtime serving only silero-vad on onnxruntime-web, one thread. */
export function sileroRuntime(): Promise<ServingRuntime> {
  return createServingRuntime(loadServingConfig(process.env, { wasmThreads: 1, models: ['silero-vad'] }), { info() {}, error() {} });
}

/** Interleaved little-endian bytes of mono `samples` in `format` (stereo: the right channel is the left at 0.8). */
export function pcmBytes(samples: Float32Array, format: AudioFormat): Uint8Array {
  const interleaved = new Float32Array(samples.length * format.channels);
  for (let i = 0; i < samples.length; i++) {
    interleaved[i * format.channels] = samples[i]!;
    if (format.channels === 2) interleaved[i * 2 + 1] = samples[i]! * 0.8;
  }
  const data = format.encoding === 'pcm16' ? float32ToPcm16(interleaved) : interleaved;
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** A WAV file of mono `samples`. */
export function wavBytes(samples: Float32Array, format: AudioFormat): Uint8Array {
  const pcm = pcmBytes(samples, format);
  return Buffer.concat([wavHeader(format, pcm.byteLength), pcm]);
}

/** Speech-like audio (repo generator) at `rate`. */
export function speechLike(seconds: number, rate: number, seed: number): Float32Array {
  return syntheticSpeechLikeAudio({ seconds, sampleRate: rate, seed }).samples;
}

/** `bytes` cut at the given offsets (sorted, deduplicated, inside the buffer). */
export function cutAt(bytes: Uint8Array, offsets: readonly number[]): Uint8Array[] {
  const points = [...new Set(offsets.map((o) => Math.min(bytes.byteLength, Math.max(0, o))))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (const p of [...points, bytes.byteLength]) {
    chunks.push(bytes.subarray(at, p));
    at = p;
  }
  return chunks;
}

/** Every event a detector gives for these chunks, finish included. */
export async function eventsOf(detector: AudioStreamDetector, chunks: Iterable<Uint8Array>): Promise<VoiceEvent[]> {
  const events: VoiceEvent[] = [];
  for (const chunk of chunks) events.push(...(await detector.push(chunk)));
  events.push(...(await detector.finish()));
  return events;
}
