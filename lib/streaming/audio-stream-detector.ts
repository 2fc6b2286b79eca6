import type { BackendRunOptions } from '../backends/inference-backend';
import { PcmStreamDecoder, type PcmDecoderSnapshot } from './pcm-stream-decoder';
import type { SegmentEvent } from './silero-segmenter';
import { StreamResampler, type ResamplerSnapshot } from './stream-resampler';
import { VoiceActivityDetector, type DetectorCounters, type DetectorRate, type SileroStep, type VoiceDetectorOptions, type VoiceDetectorSnapshot } from './voice-activity-detector';
import { checkAudioFormat, WavStreamParser, type AudioFormat, type WavParserSnapshot } from './wav-stream-parser';

/** A segment event as the doors send it: the sample at the model's rate and the same instant in seconds. */
export interface VoiceEvent extends SegmentEvent {
  readonly time: number;
}

/** How the bytes arrive: a WAV stream (format from its header) or raw PCM of a known format. */
export type AudioStreamInput = { readonly container: 'wav' } | { readonly container: 'raw'; readonly format: AudioFormat };

/** The whole pipeline's state between pushes (JSON). */
export interface AudioStreamSnapshot {
  readonly input: AudioStreamInput;
  readonly wav?: WavParserSnapshot;
  readonly decoder?: PcmDecoderSnapshot;
  readonly resampler?: ResamplerSnapshot;
  readonly detector: VoiceDetectorSnapshot;
}

/** The model's rate for an input rate: 8 kHz audio runs Silero's 8 kHz branch, everything else is resampled to 16 kHz. */
export function detectorRateFor(sampleRate: number): DetectorRate {
  return sampleRate === 8000 ? 8000 : 16000;
}

/**
 * Bytes in, segment events out: WAV parsed incrementally (or raw PCM), decoded and downmixed to
 * mono, resampled to the model's rate by the audio kernel, then the VoiceActivityDetector. Every
 * stage keeps what a chunk leaves unfinished (header bytes, half a sample frame, the resampler's
 * window, half a model frame), so the events do not depend on where the chunks split.
 */
export class AudioStreamDetector {
  readonly input: AudioStreamInput;
  readonly #step: (rate: DetectorRate) => SileroStep;
  readonly #options: VoiceDetectorOptions;
  readonly #wav: WavStreamParser | undefined;
  #decoder: PcmStreamDecoder | undefined;
  #resampler: StreamResampler | undefined;
  #detector: VoiceActivityDetector | undefined;
  #pendingDetector: VoiceDetectorSnapshot | undefined;

  constructor(input: AudioStreamInput, step: (rate: DetectorRate) => SileroStep, options: VoiceDetectorOptions = {}, snapshot?: AudioStreamSnapshot) {
    this.input = snapshot?.input ?? input;
    this.#step = step;
    this.#options = options;
    if (this.input.container === 'wav') this.#wav = new WavStreamParser(snapshot?.wav);
    else checkAudioFormat(this.input.format, 'raw PCM parameters');
    const format = this.format;
    if (format) this.#open(format, snapshot);
    else this.#pendingDetector = snapshot?.detector;
  }

  /** The audio's format: given for raw PCM, from the header for WAV (undefined until it has arrived). */
  get format(): AudioFormat | undefined {
    return this.input.container === 'raw' ? this.input.format : this.#wav!.format;
  }

  get counters(): DetectorCounters | undefined {
    return this.#detector?.counters;
  }

  /** The model's rate (undefined until the format is known). */
  get detectorRate(): DetectorRate | undefined {
    return this.#detector?.sampleRate;
  }

  /** Adds bytes; resolves to the events they decide. Throws on a bad header or bad samples. */
  async push(bytes: Uint8Array, options?: BackendRunOptions): Promise<VoiceEvent[]> {
    let audio = bytes;
    if (this.#wav) {
      const known = this.#wav.format !== undefined;
      audio = this.#wav.push(bytes);
      if (!known && this.#wav.format) this.#open(this.#wav.format);
    }
    if (!this.#detector || audio.byteLength === 0) return [];
    const samples = this.#resampler!.push(this.#decoder!.push(audio));
    return this.#timed(await this.#detector.push(samples, options));
  }

  /** Ends the stream: refuses a truncated one, flushes the resampler and the detector. */
  async finish(options?: BackendRunOptions): Promise<VoiceEvent[]> {
    this.#wav?.finish();
    this.#decoder!.finish();
    const tail = this.#resampler!.finish();
    const events = await this.#detector!.push(tail, options);
    events.push(...(await this.#detector!.finish(options)));
    return this.#timed(events);
  }

  snapshot(): AudioStreamSnapshot {
    return {
      input: this.input,
      ...(this.#wav ? { wav: this.#wav.snapshot() } : {}),
      ...(this.#decoder ? { decoder: this.#decoder.snapshot(), resampler: this.#resampler!.snapshot() } : {}),
      detector: this.#detector?.snapshot() ?? this.#pendingDetector ?? new VoiceActivityDetector(this.#step(16000), this.#options).snapshot(),
    };
  }

  #open(format: AudioFormat, snapshot?: AudioStreamSnapshot): void {
    const rate = detectorRateFor(format.sampleRate);
    this.#decoder = new PcmStreamDecoder(format, snapshot?.decoder);
    this.#resampler = new StreamResampler(format.sampleRate, rate, snapshot?.resampler);
    const detectorSnapshot = snapshot?.detector ?? this.#pendingDetector;
    this.#detector = new VoiceActivityDetector(this.#step(rate), { ...this.#options, sampleRate: rate }, detectorSnapshot?.sampleRate === rate ? detectorSnapshot : undefined);
  }

  #timed(events: readonly SegmentEvent[]): VoiceEvent[] {
    const rate = this.#detector!.sampleRate;
    return events.map((e) => ({ ...e, time: e.sample / rate }));
  }
}
