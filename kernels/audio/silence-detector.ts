import { checkFinite, checkInteger, checkTypedArray, KernelArgumentError } from '../kernel-arguments/kernel-argument-checks';
import { frameFeatures } from './audio-kernels';
import { frameCount, frameFeaturesReference } from './audio-reference';
import {
  frameGeometry, SILENCE_DETECTOR_DEFAULTS, SpeechStateMachine,
  type ResolvedSilenceDetectorOptions, type SilenceDetectorOptions, type SpeechSegment,
} from './speech-state-machine';

type FeatureFn = typeof frameFeatures;

/** Options merged with defaults and checked once. */
export function resolveSilenceDetectorOptions(options: SilenceDetectorOptions = {}): ResolvedSilenceDetectorOptions {
  const o = { ...SILENCE_DETECTOR_DEFAULTS, ...options };
  checkInteger('sampleRate', o.sampleRate, 1000, 384000);
  checkFinite('frameMs', o.frameMs, 1, 1000);
  checkFinite('hopMs', o.hopMs, 1, o.frameMs);
  for (const name of ['onsetDb', 'offsetDb', 'unvoicedDb', 'hangoverMs', 'onsetMs', 'floorRiseDbPerSecond', 'floorRiseInSpeechDbPerSecond'] as const) {
    checkFinite(name, o[name], 0);
  }
  checkFinite('unvoicedZcr', o.unvoicedZcr, 0, 1);
  checkFinite('minSpeechDbfs', o.minSpeechDbfs, -100, 0);
  checkFinite('minNoiseFloorDbfs', o.minNoiseFloorDbfs, -100, 0);
  if (o.offsetDb > o.onsetDb) throw new KernelArgumentError(`'offsetDb' (${o.offsetDb}) must not exceed 'onsetDb' (${o.onsetDb}): hysteresis needs offset <= onset`);
  if (frameGeometry(o).hop < 1) throw new KernelArgumentError(`'hopMs' (${o.hopMs}) is under one sample at ${o.sampleRate} Hz`);
  return o;
}

/**
 * Streaming silence detector: push chunks of any size (0 included) and get the speech segments
 * each chunk closes; `finish()` closes the last one. Frames are whole windows of frameMs every
 * hopMs, numbered from the first sample pushed, so results are identical however the stream is
 * chunked. A partial frame at the very end is not analysed.
 * @example
 * const detector = new SilenceDetector({ sampleRate: 16000 });
 * for (const chunk of chunks) for (const s of detector.push(chunk)) console.log(s.startSample, s.endSample);
 * detector.finish();
 */
export class SilenceDetector {
  readonly options: ResolvedSilenceDetectorOptions;
  readonly #frameLength: number;
  readonly #hop: number;
  readonly #machine: SpeechStateMachine;
  readonly #features: FeatureFn;
  /** Samples received but not yet consumed by a hop (fewer than frameLength + hop). */
  #pending = new Float32Array(0);
  #finished = false;

  constructor(options: SilenceDetectorOptions = {}, features: FeatureFn = frameFeatures) {
    this.options = resolveSilenceDetectorOptions(options);
    ({ frameLength: this.#frameLength, hop: this.#hop } = frameGeometry(this.options));
    this.#machine = new SpeechStateMachine(this.options);
    this.#features = features;
  }

  /** Frames analysed so far. */
  get frames(): number {
    return this.#machine.frames;
  }

  /** Adds samples; returns the segments closed by them (in order). */
  push(chunk: Float32Array): SpeechSegment[] {
    checkTypedArray('chunk', chunk, Float32Array);
    if (this.#finished) throw new KernelArgumentError(`'push' after 'finish': create a new SilenceDetector for a new stream`);
    const closed: SpeechSegment[] = [];
    const total = this.#pending.length + chunk.length;
    const frames = frameCount(total, this.#frameLength, this.#hop);
    let buffer: Float32Array;
    if (this.#pending.length === 0) {
      buffer = chunk;
    } else {
      buffer = new Float32Array(total);
      buffer.set(this.#pending);
      buffer.set(chunk, this.#pending.length);
    }
    if (frames > 0) {
      const { meanSquare, zeroCrossingRate } = this.#features(buffer, this.#frameLength, this.#hop);
      this.#machine.pushFrames(meanSquare, zeroCrossingRate, frames, closed);
    }
    this.#pending = buffer.slice(frames * this.#hop);
    return closed;
  }

  /** Ends the stream: returns the segment still open, if any. */
  finish(): SpeechSegment[] {
    const closed: SpeechSegment[] = [];
    if (!this.#finished) this.#machine.finish(closed);
    this.#finished = true;
    return closed;
  }
}

/** Speech segments of a whole recording (WASM frame features). */
export function detectSpeechSegments(samples: Float32Array, options: SilenceDetectorOptions = {}): SpeechSegment[] {
  const detector = new SilenceDetector(options);
  return [...detector.push(samples), ...detector.finish()];
}

/** The same with the plain TypeScript frame features: the reference and the benchmark's anchor. */
export function detectSpeechSegmentsReference(samples: Float32Array, options: SilenceDetectorOptions = {}): SpeechSegment[] {
  const detector = new SilenceDetector(options, frameFeaturesReference);
  return [...detector.push(samples), ...detector.finish()];
}
