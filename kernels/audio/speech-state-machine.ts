/**
 * The decision half of silence detection, in plain TypeScript (per frame, cheap): an adaptive
 * noise floor, hysteresis between an onset and an offset threshold, a zero-crossing-rate rule
 * that keeps unvoiced sounds (fricatives) inside speech, and a hangover before a segment closes.
 * The frame features (mean square, zero-crossing rate) come from the WASM kernel or its reference.
 */

/** Silence detection parameters; times in milliseconds, levels in dB (dBFS: 0 dB is a full-scale square wave). */
export interface SilenceDetectorOptions {
  readonly sampleRate?: number;
  readonly frameMs?: number;
  readonly hopMs?: number;
  /** A frame is voiced when its energy is this far above the noise floor. */
  readonly onsetDb?: number;
  /** Inside speech a frame stays active down to this far above the floor (hysteresis: below onsetDb). */
  readonly offsetDb?: number;
  /** Inside speech, frames with at least this zero-crossing rate stay active down to unvoicedDb above the floor. */
  readonly unvoicedZcr?: number;
  readonly unvoicedDb?: number;
  /** Frames quieter than this absolute level are never speech. */
  readonly minSpeechDbfs?: number;
  /** The noise floor never goes below this level (digital silence would otherwise pin it at -100 dB). */
  readonly minNoiseFloorDbfs?: number;
  /** Consecutive voiced frames needed to open a segment (the segment starts at the first of them). */
  readonly onsetMs?: number;
  /** Inactive time after the last active frame before a segment closes. */
  readonly hangoverMs?: number;
  /** How fast the floor may rise toward louder frames outside speech, and inside speech. It falls at once. */
  readonly floorRiseDbPerSecond?: number;
  readonly floorRiseInSpeechDbPerSecond?: number;
}

export type ResolvedSilenceDetectorOptions = Required<SilenceDetectorOptions>;

export const SILENCE_DETECTOR_DEFAULTS: ResolvedSilenceDetectorOptions = {
  sampleRate: 16000,
  frameMs: 20,
  hopMs: 10,
  onsetDb: 12,
  offsetDb: 6,
  unvoicedZcr: 0.3,
  unvoicedDb: 3,
  minSpeechDbfs: -60,
  minNoiseFloorDbfs: -75,
  onsetMs: 50,
  hangoverMs: 250,
  floorRiseDbPerSecond: 3,
  floorRiseInSpeechDbPerSecond: 0.3,
};

/** One detected speech segment: samples [startSample, endSample), frames [startFrame, endFrame] (endFrame is the last active frame). */
export interface SpeechSegment {
  readonly startSample: number;
  readonly endSample: number;
  readonly startFrame: number;
  readonly endFrame: number;
}

/** Energy of a mean square in dBFS, floored at -100 dB. */
export function meanSquareToDbfs(meanSquare: number): number {
  return 10 * Math.log10(meanSquare > 1e-10 ? meanSquare : 1e-10);
}

/** Frame geometry in samples for the options' rate. */
export function frameGeometry(o: ResolvedSilenceDetectorOptions): { frameLength: number; hop: number } {
  return { frameLength: Math.round((o.frameMs * o.sampleRate) / 1000), hop: Math.round((o.hopMs * o.sampleRate) / 1000) };
}

/**
 * Feeds frames one at a time (in order, numbered from 0) and reports the segments they close.
 * NaN policy: a frame whose mean square is NaN is treated as silence at -100 dBFS and does not move the floor.
 */
export class SpeechStateMachine {
  readonly #o: ResolvedSilenceDetectorOptions;
  readonly #frameLength: number;
  readonly #hop: number;
  readonly #onsetFrames: number;
  readonly #hangoverFrames: number;
  readonly #riseSilence: number;
  readonly #riseSpeech: number;
  #floor = NaN;
  #inSpeech = false;
  #onsetRun = 0;
  #start = 0;
  #lastActive = 0;
  #frame = 0;

  constructor(options: ResolvedSilenceDetectorOptions) {
    this.#o = options;
    ({ frameLength: this.#frameLength, hop: this.#hop } = frameGeometry(options));
    this.#onsetFrames = Math.max(1, Math.round(options.onsetMs / options.hopMs));
    this.#hangoverFrames = Math.max(0, Math.round(options.hangoverMs / options.hopMs));
    this.#riseSilence = (options.floorRiseDbPerSecond * options.hopMs) / 1000;
    this.#riseSpeech = (options.floorRiseInSpeechDbPerSecond * options.hopMs) / 1000;
  }

  /** Frames seen so far. */
  get frames(): number {
    return this.#frame;
  }

  /** The current noise floor estimate in dBFS (NaN before the first frame). */
  get noiseFloorDbfs(): number {
    return this.#floor;
  }

  /** Processes frames [0, count) of the feature arrays; pushes closed segments onto `closed`. */
  pushFrames(meanSquare: ArrayLike<number>, zeroCrossingRate: ArrayLike<number>, count: number, closed: SpeechSegment[]): void {
    const o = this.#o;
    for (let i = 0; i < count; i++, this.#frame++) {
      const ms = meanSquare[i]!;
      const valid = !Number.isNaN(ms);
      const e = valid ? meanSquareToDbfs(ms) : -100;
      if (Number.isNaN(this.#floor)) this.#floor = Math.max(e, o.minNoiseFloorDbfs);
      const floor = this.#floor;
      const loudEnough = e >= o.minSpeechDbfs;
      if (!this.#inSpeech) {
        if (loudEnough && e >= floor + o.onsetDb) {
          if (this.#onsetRun === 0) this.#start = this.#frame;
          this.#onsetRun++;
          if (this.#onsetRun >= this.#onsetFrames) {
            this.#inSpeech = true;
            this.#lastActive = this.#frame;
          }
        } else {
          this.#onsetRun = 0;
        }
      } else {
        const active = loudEnough && (e >= floor + o.offsetDb || (zeroCrossingRate[i]! >= o.unvoicedZcr && e >= floor + o.unvoicedDb));
        if (active) {
          this.#lastActive = this.#frame;
        } else if (this.#frame - this.#lastActive > this.#hangoverFrames) {
          closed.push(this.#close());
        }
      }
      if (valid) {
        const rise = this.#inSpeech ? this.#riseSpeech : this.#riseSilence;
        this.#floor = Math.max(o.minNoiseFloorDbfs, e < floor ? e : Math.min(e, floor + rise));
      }
    }
  }

  /** Closes a segment still open at the end of the stream. */
  finish(closed: SpeechSegment[]): void {
    if (this.#inSpeech) closed.push(this.#close());
  }

  #close(): SpeechSegment {
    this.#inSpeech = false;
    this.#onsetRun = 0;
    return {
      startSample: this.#start * this.#hop,
      endSample: this.#lastActive * this.#hop + this.#frameLength,
      startFrame: this.#start,
      endFrame: this.#lastActive,
    };
  }
}
