import { InvalidRequestError } from '../errors/hotpath-error';
import type { BackendRunOptions, BackendSession } from '../backends/inference-backend';
import type { HostTensor } from '../protocol/tensor';
import { frameFeatures } from '../../kernels/audio/audio-kernels';
import { NoiseFloorGate, type NoiseFloorGateOptions } from './noise-floor-gate';
import { SileroSegmenter, type SegmentEvent, type SegmenterOptions, type SegmenterSnapshot } from './silero-segmenter';

/** Silero VAD v5's window per rate: new samples per frame and samples of context before them. */
export const SILERO_FRAMES = { 16000: { frame: 512, context: 64 }, 8000: { frame: 256, context: 32 } } as const;
export type DetectorRate = keyof typeof SILERO_FRAMES;
/** Size of Silero's recurrent state [2, 1, 128]. */
export const SILERO_STATE_SIZE = 2 * 128;

export interface VoiceDetectorOptions extends SegmenterOptions {
  /** The rate the model runs at: 16000 (resample other rates to it) or 8000. */
  readonly sampleRate?: DetectorRate;
  /** Skip the model on frames under the adaptive noise floor (default true); false runs it on every frame. */
  readonly gate?: boolean;
  readonly gateOptions?: NoiseFloorGateOptions;
  /**
   * When the gate reopens, the last this many skipped windows run through the model first (their
   * probabilities stay 0): the recurrent state then has heard the noise before the onset, as it
   * has ungated. Default 4.
   */
  readonly prerollFrames?: number;
  /** After the last frame above the gate (or in a segment), this many quiet frames still run the model (default 8). */
  readonly hangoverFrames?: number;
  /**
   * Silero's LSTM cell state integrates without bound on noise (one unit gains ~0.85 per frame:
   * thousands after minutes) and the ungated segments depend on it, so when the gate reopens the
   * cell state advances by the skipped frames not replayed times its per-frame change on noise,
   * learnt as an exponential average (this weight) over the quiet frames that ran. 0 turns it off. Default 0.1.
   */
  readonly noiseRateWeight?: number;
}

const DEFAULT_PREROLL_FRAMES = 4;
const DEFAULT_HANGOVER_FRAMES = 8;
const DEFAULT_NOISE_RATE_WEIGHT = 0.1;

/** Frames seen, model calls made, frames the gate skipped. */
export interface DetectorCounters {
  readonly samples: number;
  readonly frames: number;
  readonly modelCalls: number;
  readonly skippedFrames: number;
  readonly segments: number;
  readonly droppedSegments: number;
}

/** Everything a detector holds between pushes, as JSON (Float32 data as base64 of its bytes: exact). */
export interface VoiceDetectorSnapshot {
  readonly kind: 'voice-detector';
  readonly sampleRate: DetectorRate;
  readonly gate: boolean;
  /** [context | frame samples so far] of the window being filled. */
  readonly window: string;
  readonly fill: number;
  readonly state: string;
  readonly floorDbfs: number;
  readonly samples: number;
  readonly frames: number;
  readonly modelCalls: number;
  readonly skippedFrames: number;
  readonly finished: boolean;
  /** The skipped windows kept for the next preroll, and the length of the current skipped run. */
  readonly skippedWindows: readonly string[];
  readonly skippedRun: number;
  /** Quiet frames that still run before the gate may skip, and the cell state's learnt change per noise frame. */
  readonly hangover: number;
  readonly noiseRate: string;
  readonly segmenter: SegmenterSnapshot;
}

/** One Silero VAD step: probability of the window's new samples and the next state. */
export type SileroStep = (window: Float32Array, state: Float32Array, options?: BackendRunOptions) => Promise<{ probability: number; state: Float32Array }>;

/**
 * A SileroStep over the model's session as the registry serves it (any backend: wasm, native,
 * kernel, remote): inputs `input` [1, context + frame], `state` [2, 1, 128], `sr` scalar.
 */
export function sileroStep(session: BackendSession, sampleRate: DetectorRate): SileroStep {
  const sr: HostTensor = { name: 'sr', datatype: 'INT64', shape: [], data: BigInt64Array.of(BigInt(sampleRate)) };
  const { frame, context } = SILERO_FRAMES[sampleRate];
  const outputs = ['output', 'stateN'] as const;
  return async function runSileroStep(window, state, options) {
    const answer = await session.run(
      [
        { name: 'input', datatype: 'FP32', shape: [1, frame + context], data: window },
        { name: 'state', datatype: 'FP32', shape: [2, 1, 128], data: state },
        sr,
      ],
      outputs,
      options,
    );
    const probability = answer.find((t) => t.name === 'output')?.data as Float32Array | undefined;
    const next = answer.find((t) => t.name === 'stateN')?.data as Float32Array | undefined;
    if (!probability || !next || next.length !== SILERO_STATE_SIZE) throw new Error(`silero-vad answered without 'output' and a ${SILERO_STATE_SIZE}-value 'stateN'`);
    return { probability: probability[0]!, state: Float32Array.from(next) };
  };
}

const toBase64 = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
const fromBase64 = (text: string) => {
  const bytes = Buffer.from(text, 'base64');
  const out = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
};

/**
 * Streaming voice activity detection on Silero VAD v5: push mono samples at the model's rate in
 * chunks of any size and get the segment events they decide. A window buffer cuts exact frames
 * (512 new samples after 64 of context at 16 kHz, 256 after 32 at 8 kHz; the context is the
 * previous frame's tail, zeros at the start) and the recurrent state travels from frame to
 * frame; the energy kernel's mean square gates the model (NoiseFloorGate: a skipped frame is
 * probability 0 and leaves the state as it was). Frames are numbered from the first sample, so
 * the events are the same, bit for bit, however the stream is chunked. `finish` runs the last
 * partial frame padded with zeros and closes what is open. One detector per stream.
 * @example
 * const detector = new VoiceActivityDetector(sileroStep(session, 16000));
 * for await (const chunk of audio16k) for (const e of await detector.push(chunk)) send(e);
 * for (const e of await detector.finish()) send(e);
 */
export class VoiceActivityDetector {
  readonly sampleRate: DetectorRate;
  readonly gated: boolean;
  readonly #step: SileroStep;
  readonly #frame: number;
  readonly #context: number;
  readonly #gate: NoiseFloorGate;
  readonly #segmenter: SileroSegmenter;
  /** [context | frame]: filled from `context` to `context + frame`, then run, then its tail moves to the front. */
  readonly #window: Float32Array;
  #fill: number;
  #state: Float32Array;
  #samples = 0;
  #frames = 0;
  #modelCalls = 0;
  #skipped = 0;
  #busy = false;
  #finished = false;
  /** The last skipped windows (oldest first), replayed through the model when the gate reopens. */
  #skippedWindows: Float32Array[] = [];
  #skippedRun = 0;
  readonly #prerollFrames: number;
  readonly #hangoverFrames: number;
  readonly #noiseRateWeight: number;
  #hangover = 0;
  /** Per-frame change of the cell state (second half of the state) on quiet frames outside speech. */
  #noiseRate = new Float32Array(SILERO_STATE_SIZE);

  constructor(step: SileroStep, options: VoiceDetectorOptions = {}, snapshot?: VoiceDetectorSnapshot) {
    const sampleRate = snapshot?.sampleRate ?? options.sampleRate ?? 16000;
    if (!(sampleRate in SILERO_FRAMES)) throw new InvalidRequestError(`voice detector: 'sampleRate' must be 16000 or 8000, got ${String(sampleRate)}`);
    this.sampleRate = sampleRate;
    this.gated = snapshot?.gate ?? options.gate ?? true;
    this.#step = step;
    this.#prerollFrames = options.prerollFrames ?? DEFAULT_PREROLL_FRAMES;
    this.#hangoverFrames = options.hangoverFrames ?? DEFAULT_HANGOVER_FRAMES;
    this.#noiseRateWeight = options.noiseRateWeight ?? DEFAULT_NOISE_RATE_WEIGHT;
    ({ frame: this.#frame, context: this.#context } = SILERO_FRAMES[sampleRate]);
    this.#gate = new NoiseFloorGate(this.#frame / sampleRate, options.gateOptions, snapshot?.floorDbfs);
    this.#segmenter = new SileroSegmenter(sampleRate, this.#frame, options, snapshot?.segmenter);
    this.#window = snapshot ? fromBase64(snapshot.window) : new Float32Array(this.#context + this.#frame);
    this.#fill = snapshot?.fill ?? this.#context;
    this.#state = snapshot ? fromBase64(snapshot.state) : new Float32Array(SILERO_STATE_SIZE);
    if (snapshot) {
      if (this.#window.length !== this.#context + this.#frame || this.#state.length !== SILERO_STATE_SIZE) {
        throw new InvalidRequestError(`voice detector snapshot: window or state has the wrong size for ${sampleRate} Hz`);
      }
      this.#samples = snapshot.samples;
      this.#frames = snapshot.frames;
      this.#modelCalls = snapshot.modelCalls;
      this.#skipped = snapshot.skippedFrames;
      this.#finished = snapshot.finished;
      this.#skippedWindows = snapshot.skippedWindows.map(fromBase64);
      this.#skippedRun = snapshot.skippedRun;
      this.#hangover = snapshot.hangover;
      this.#noiseRate = fromBase64(snapshot.noiseRate);
      if (this.#noiseRate.length !== SILERO_STATE_SIZE) throw new InvalidRequestError(`voice detector snapshot: 'noiseRate' must hold ${SILERO_STATE_SIZE} values`);
    }
  }

  get counters(): DetectorCounters {
    const { segments, dropped } = this.#segmenter.counts;
    return { samples: this.#samples, frames: this.#frames, modelCalls: this.#modelCalls, skippedFrames: this.#skipped, segments, droppedSegments: dropped };
  }

  /** Adds samples (at `sampleRate`); resolves to the events they decide, in order. One push at a time. */
  async push(samples: Float32Array, options?: BackendRunOptions): Promise<SegmentEvent[]> {
    this.#enter('push');
    const out: SegmentEvent[] = [];
    try {
      const energies = this.#energiesOfFramesIn(samples);
      let frame = 0;
      let i = 0;
      while (i < samples.length) {
        const n = Math.min(samples.length - i, this.#context + this.#frame - this.#fill);
        this.#window.set(samples.subarray(i, i + n), this.#fill);
        this.#fill += n;
        this.#samples += n;
        i += n;
        if (this.#fill === this.#context + this.#frame) await this.#runFrame(out, options, energies?.[frame++]);
      }
    } finally {
      this.#busy = false;
    }
    return out;
  }

  /** Ends the stream: the last partial frame (zero-padded) and the segment still open. Further calls return nothing. */
  async finish(options?: BackendRunOptions): Promise<SegmentEvent[]> {
    if (this.#finished) return [];
    this.#enter('finish');
    const out: SegmentEvent[] = [];
    try {
      if (this.#fill > this.#context) {
        this.#window.fill(0, this.#fill);
        await this.#runFrame(out, options);
      }
      this.#segmenter.finish(this.#samples, out);
      this.#finished = true;
    } finally {
      this.#busy = false;
    }
    return out.map((e) => (e.sample > this.#samples ? { ...e, sample: this.#samples } : e));
  }

  /** The detector's state between pushes, as JSON: `new VoiceActivityDetector(step, options, snapshot)` continues the stream. */
  snapshot(): VoiceDetectorSnapshot {
    if (this.#busy) throw new InvalidRequestError(`voice detector: 'snapshot' while a push is running; take it between pushes`);
    return {
      kind: 'voice-detector', sampleRate: this.sampleRate, gate: this.gated,
      window: toBase64(this.#window), fill: this.#fill, state: toBase64(this.#state), floorDbfs: this.#gate.floorDbfs,
      samples: this.#samples, frames: this.#frames, modelCalls: this.#modelCalls, skippedFrames: this.#skipped,
      finished: this.#finished, skippedWindows: this.#skippedWindows.map(toBase64), skippedRun: this.#skippedRun,
      hangover: this.#hangover, noiseRate: toBase64(this.#noiseRate),
      segmenter: this.#segmenter.snapshot(),
    };
  }

  #enter(what: string): void {
    if (this.#finished) throw new InvalidRequestError(`voice detector: '${what}' after 'finish'; create a new detector for a new stream`);
    if (this.#busy) throw new InvalidRequestError(`voice detector: '${what}' before the previous push resolved; await each push in turn`);
    this.#busy = true;
  }

  #remember(): void {
    this.#skippedRun++;
    if (this.#prerollFrames === 0) return;
    this.#skippedWindows.push(this.#window.slice());
    if (this.#skippedWindows.length > this.#prerollFrames) this.#skippedWindows.shift();
  }

  async #preroll(options?: BackendRunOptions): Promise<void> {
    // The skipped frames the preroll does not replay: the cell state moves on as it would have on noise.
    const ahead = this.#skippedRun - this.#skippedWindows.length;
    if (ahead > 0 && this.#noiseRateWeight > 0) {
      const state = this.#state.slice();
      for (let k = SILERO_STATE_SIZE / 2; k < SILERO_STATE_SIZE; k++) state[k] = state[k]! + ahead * this.#noiseRate[k]!;
      this.#state = state;
    }
    for (const window of this.#skippedWindows) {
      this.#modelCalls++;
      this.#state = (await this.#step(window, this.#state, options)).state;
    }
    this.#skippedWindows = [];
    this.#skippedRun = 0;
  }

  /**
   * Mean squares of the frames `samples` completes, in one energy-kernel call (a call per frame
   * cost ~34 µs of arena set-up here, a quarter of a model run). The kernel's figures depend only
   * on each frame's samples, so they are the same whatever the chunking.
   */
  #energiesOfFramesIn(samples: Float32Array): Float32Array | undefined {
    const pending = this.#fill - this.#context;
    const frames = Math.floor((pending + samples.length) / this.#frame);
    if (!this.gated || frames === 0) return undefined;
    const joined = new Float32Array(frames * this.#frame);
    joined.set(this.#window.subarray(this.#context, this.#fill));
    joined.set(samples.subarray(0, frames * this.#frame - pending), pending);
    return frameFeatures(joined, this.#frame, this.#frame).meanSquare;
  }

  async #runFrame(out: SegmentEvent[], options?: BackendRunOptions, meanSquare?: number): Promise<void> {
    const fresh = this.#window.subarray(this.#context);
    // Frame end: the samples the stream held when this frame filled (the last one counts its zero padding too).
    const frameEnd = (this.#frames + 1) * this.#frame;
    this.#frames++;
    let probability = 0;
    const inSpeech = this.#segmenter.inSpeech;
    // Inside a segment every frame runs: its end is the model's decision, as ungated; so do the hang-over's quiet frames after it.
    const quiet = this.gated && this.#gate.skips(meanSquare ?? frameFeatures(fresh, this.#frame, this.#frame).meanSquare[0]!, inSpeech) && !inSpeech;
    if (!quiet) this.#hangover = this.#hangoverFrames;
    const skip = quiet && this.#hangover <= 0;
    if (quiet) this.#hangover--;
    if (skip) {
      this.#skipped++;
      this.#remember();
    } else {
      if (this.#skippedRun > 0) await this.#preroll(options);
      this.#modelCalls++;
      const result = await this.#step(this.#window.slice(), this.#state, options);
      probability = result.probability;
      if (quiet && this.#noiseRateWeight > 0) {
        const w = this.#noiseRateWeight;
        for (let k = SILERO_STATE_SIZE / 2; k < SILERO_STATE_SIZE; k++) this.#noiseRate[k] = this.#noiseRate[k]! + w * (result.state[k]! - this.#state[k]! - this.#noiseRate[k]!);
      }
      this.#state = result.state;
    }
    this.#segmenter.frame(probability, frameEnd, out);
    this.#window.copyWithin(0, this.#frame, this.#frame + this.#context);
    this.#fill = this.#context;
  }
}
