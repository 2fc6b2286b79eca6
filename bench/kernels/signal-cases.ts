/**
 * Benchmarks of the part-B kernels against plain TypeScript implementations of the same
 * algorithms, measured in the same run: silence detection on 1 hour of 16 kHz audio, log-mel
 * (25 ms / 10 ms, 80 bands) and 1920x1080 RGB -> 640x640 CHW float preprocessing.
 * Run alone with `npx tsx bench/kernels/signal-cases.ts` (prints a table); `bench-kernels.ts`
 * imports `runSignalCases` and writes the results file.
 */
import { performance } from 'node:perf_hooks';
import type { BenchResult } from '../bench-results';
import { logMelSpectrogram } from '../../kernels/audio/audio-kernels';
import { logMelSpectrogramReference } from '../../kernels/audio/audio-reference';
import { SilenceDetector } from '../../kernels/audio/silence-detector';
import { frameFeaturesReference } from '../../kernels/audio/audio-reference';
import type { SpeechSegment } from '../../kernels/audio/speech-state-machine';
import { syntheticSpeechLikeAudio } from '../../kernels/audio/synthetic-speech-signal';
import { mulberry32 } from '../../kernels/seeded-random/seeded-random';
import { preprocessImage } from '../../kernels/image/image-kernels';
import { IMAGENET_NORMALIZATION, preprocessImageReference } from '../../kernels/image/image-reference';

const SAMPLE_RATE = 16000;
const SILENCE_SECONDS = 3600;
const SILENCE_TARGET_RTF = 1.4e-4;
const STREAM_CHUNK = 10 * SAMPLE_RATE;
const PLAIN_TS = 'plain TypeScript, same algorithm, same run';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median wall time in milliseconds of `runs` calls after `warmup` unmeasured ones. */
function timeMs(fn: () => unknown, runs: number, warmup = 1): number {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  return median(times);
}

function ratioOf(value: number, anchor: number): number {
  return Number((value / anchor).toPrecision(4));
}

/** Streams the recording through a detector in 10 s chunks, as a Lambda reading S3 would. */
function streamSilence(samples: Float32Array, makeDetector: () => SilenceDetector): SpeechSegment[] {
  const detector = makeDetector();
  const segments: SpeechSegment[] = [];
  for (let at = 0; at < samples.length; at += STREAM_CHUNK) segments.push(...detector.push(samples.subarray(at, at + STREAM_CHUNK)));
  segments.push(...detector.finish());
  return segments;
}

function silenceCase(): BenchResult[] {
  const { samples } = syntheticSpeechLikeAudio({ seconds: SILENCE_SECONDS, sampleRate: SAMPLE_RATE, seed: 2026 });
  const wasm = () => streamSilence(samples, () => new SilenceDetector({ sampleRate: SAMPLE_RATE }));
  const plain = () => streamSilence(samples, () => new SilenceDetector({ sampleRate: SAMPLE_RATE }, frameFeaturesReference));
  const segments = wasm().length;
  const oursMs = timeMs(wasm, 5);
  const anchorMs = timeMs(plain, 3);
  const rtf = oursMs / 1000 / SILENCE_SECONDS;
  const note = `1 h synthetic speech-like bursts + noise (seed 2026), 10 s chunks, ${segments} segments; target <= 0.5 s per hour (absolute)`;
  return [
    {
      case: 'silence-detection/1h-16khz', metric: 'median_ms', value: Number(oursMs.toFixed(1)), anchor: PLAIN_TS,
      anchor_value: Number(anchorMs.toFixed(1)), ratio: ratioOf(oursMs, anchorMs), lower_is_better: true, met: oursMs <= 500, note,
    },
    {
      case: 'silence-detection/1h-16khz', metric: 'rtf', value: Number(rtf.toPrecision(3)), anchor: PLAIN_TS,
      anchor_value: Number((anchorMs / 1000 / SILENCE_SECONDS).toPrecision(3)), ratio: ratioOf(oursMs, anchorMs), lower_is_better: true,
      met: rtf <= SILENCE_TARGET_RTF, note: `target RTF <= ${SILENCE_TARGET_RTF} (absolute)`,
    },
  ];
}

function logMelCase(): BenchResult[] {
  const seconds = 60;
  const random = mulberry32(7);
  const samples = Float32Array.from({ length: seconds * SAMPLE_RATE }, (_, i) => 0.3 * Math.sin(i * 0.05) + (random() - 0.5) * 0.1);
  const oursMs = timeMs(() => logMelSpectrogram(samples), 7);
  const anchorMs = timeMs(() => logMelSpectrogramReference(samples), 3);
  return [{
    case: 'log-mel/60s-16khz-25ms-10ms-80mels', metric: 'rtf', value: Number((oursMs / 1000 / seconds).toPrecision(3)), anchor: PLAIN_TS,
    anchor_value: Number((anchorMs / 1000 / seconds).toPrecision(3)), ratio: ratioOf(oursMs, anchorMs), lower_is_better: true,
    note: `nFft 512 (400-sample Hann window zero-padded), ${(oursMs).toFixed(1)} ms vs ${(anchorMs).toFixed(1)} ms for 60 s; no target set`,
  }];
}

function imageCase(): BenchResult[] {
  const [h, w, c] = [1080, 1920, 3];
  const random = mulberry32(11);
  const pixels = Uint8Array.from({ length: h * w * c }, (_, i) => ((i * 31) ^ Math.floor(random() * 64)) & 255);
  // Both write into a reused output tensor, as a serving loop would.
  const out = new Float32Array(c * 640 * 640);
  const oursMs = timeMs(() => preprocessImage(pixels, h, w, c, 640, 640, IMAGENET_NORMALIZATION, out), 21, 3);
  const anchorMs = timeMs(() => preprocessImageReference(pixels, h, w, c, 640, 640, IMAGENET_NORMALIZATION, out), 11, 2);
  return [{
    case: 'image-preprocess/1920x1080-rgb-to-640x640-chw', metric: 'median_ms', value: Number(oursMs.toFixed(2)), anchor: PLAIN_TS,
    anchor_value: Number(anchorMs.toFixed(2)), ratio: ratioOf(oursMs, anchorMs), lower_is_better: true,
    note: 'bilinear resize (align_corners=false) + ImageNet mean/std, HWC uint8 -> CHW float32 into a reused output; includes copies in and out of WASM memory; no target set',
  }];
}

/** All part-B cases, in the DESIGN.md result format. */
export async function runSignalCases(): Promise<BenchResult[]> {
  return [...silenceCase(), ...logMelCase(), ...imageCase()];
}

if (require.main === module) {
  runSignalCases().then((results) => {
    console.table(results.map((r) => ({ case: r.case, metric: r.metric, value: r.value, anchor_value: r.anchor_value, ratio: r.ratio, met: r.met ?? '' })));
  });
}
