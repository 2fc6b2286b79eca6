import { meanSquareToDbfs, SILENCE_DETECTOR_DEFAULTS } from '../../kernels/audio/speech-state-machine';

/** Gate parameters (levels in dBFS and dB, rises in dB per second). */
export interface NoiseFloorGateOptions {
  /** A frame runs the model only when it is at least this far above the noise floor. */
  readonly marginDb?: number;
  /** The floor never goes below this (digital silence would pin it at -100 dB). */
  readonly minFloorDbfs?: number;
  /** How fast the floor may rise toward louder frames outside speech and inside it; it falls at once. */
  readonly riseDbPerSecond?: number;
  readonly riseInSpeechDbPerSecond?: number;
}

export type ResolvedNoiseFloorGateOptions = Required<NoiseFloorGateOptions>;

/**
 * The silence detector's adaptive floor (kernels/audio/speech-state-machine.ts: its floor
 * limit and rise rates), with the offset margin as the gate: a frame under floor + 6 dB is
 * noise to the silence detector's hysteresis, so it is noise here too.
 */
export const NOISE_FLOOR_GATE_DEFAULTS: ResolvedNoiseFloorGateOptions = {
  marginDb: SILENCE_DETECTOR_DEFAULTS.offsetDb,
  minFloorDbfs: SILENCE_DETECTOR_DEFAULTS.minNoiseFloorDbfs,
  riseDbPerSecond: SILENCE_DETECTOR_DEFAULTS.floorRiseDbPerSecond,
  riseInSpeechDbPerSecond: SILENCE_DETECTOR_DEFAULTS.floorRiseInSpeechDbPerSecond,
};

/**
 * Decides per frame whether the model needs to see it. The floor starts at its minimum (so no
 * frame is skipped before the noise has been heard: the safe side), falls at once to a quieter
 * frame and rises slowly toward louder ones, more slowly inside speech. State is one number.
 */
export class NoiseFloorGate {
  readonly options: ResolvedNoiseFloorGateOptions;
  readonly #riseSilence: number;
  readonly #riseSpeech: number;
  #floor: number;

  constructor(frameSeconds: number, options: NoiseFloorGateOptions = {}, floorDbfs?: number) {
    this.options = { ...NOISE_FLOOR_GATE_DEFAULTS, ...options };
    this.#riseSilence = this.options.riseDbPerSecond * frameSeconds;
    this.#riseSpeech = this.options.riseInSpeechDbPerSecond * frameSeconds;
    this.#floor = floorDbfs ?? this.options.minFloorDbfs;
  }

  get floorDbfs(): number {
    return this.#floor;
  }

  /** True when the frame (its mean square) is under the floor's margin: skip the model. Then moves the floor. */
  skips(meanSquare: number, inSpeech: boolean): boolean {
    const e = Number.isNaN(meanSquare) ? -100 : meanSquareToDbfs(meanSquare);
    const floor = this.#floor;
    const skip = e < floor + this.options.marginDb;
    const rise = inSpeech ? this.#riseSpeech : this.#riseSilence;
    this.#floor = Math.max(this.options.minFloorDbfs, e < floor ? e : Math.min(e, floor + rise));
    return skip;
  }
}
