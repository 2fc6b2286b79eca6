/**
 * Silero VAD's streaming decisions (silero-vad's VADIterator), per frame in plain TypeScript,
 * plus the offline rule that segments under `minSpeechMs` are dropped: a `start` leaves only
 * once the segment is sure to last that long, so no start is ever taken back.
 */

/** Segmentation parameters (Silero's defaults). */
export interface SegmenterOptions {
  /** A frame at or above this probability is speech (it opens a segment, or cancels a pending end). */
  readonly threshold?: number;
  /** Inside speech, a frame below this is silence (default threshold - 0.15). */
  readonly negThreshold?: number;
  /** Silence that closes a segment. */
  readonly minSilenceMs?: number;
  /** Added before a start and after an end. */
  readonly speechPadMs?: number;
  /** Segments shorter than this are dropped (never announced). */
  readonly minSpeechMs?: number;
}

export const SEGMENTER_DEFAULTS = { threshold: 0.5, minSilenceMs: 100, speechPadMs: 30, minSpeechMs: 250 } as const;

/** One decision: a segment starts or ends at `sample` (at the detector's rate); `decidedAt` is the frame end that decided it. */
export interface SegmentEvent {
  readonly event: 'start' | 'end';
  readonly segment: number;
  readonly sample: number;
  /** Speech probability of the frame that decided it (0 for a frame the gate skipped, or the end of the stream). */
  readonly probability: number;
  readonly decidedAt: number;
}

/** The segmenter's state (JSON). */
export interface SegmenterSnapshot {
  readonly triggered: boolean;
  readonly tempEnd: number;
  readonly start: number;
  readonly startProbability: number;
  readonly announced: boolean;
  readonly segments: number;
  readonly dropped: number;
}

export class SileroSegmenter {
  readonly #threshold: number;
  readonly #negThreshold: number;
  readonly #minSilence: number;
  readonly #pad: number;
  readonly #minSpeech: number;
  readonly #window: number;
  #triggered = false;
  /** Frame end where the current run of silence began (0: none), as VADIterator's temp_end. */
  #tempEnd = 0;
  #start = 0;
  #startProbability = 0;
  /** Whether this segment's start has been sent. */
  #announced = false;
  #segments = 0;
  #dropped = 0;

  constructor(sampleRate: number, window: number, options: SegmenterOptions = {}, snapshot?: SegmenterSnapshot) {
    this.#threshold = options.threshold ?? SEGMENTER_DEFAULTS.threshold;
    this.#negThreshold = options.negThreshold ?? this.#threshold - 0.15;
    this.#minSilence = (sampleRate * (options.minSilenceMs ?? SEGMENTER_DEFAULTS.minSilenceMs)) / 1000;
    this.#pad = (sampleRate * (options.speechPadMs ?? SEGMENTER_DEFAULTS.speechPadMs)) / 1000;
    this.#minSpeech = (sampleRate * (options.minSpeechMs ?? SEGMENTER_DEFAULTS.minSpeechMs)) / 1000;
    this.#window = window;
    if (snapshot) {
      this.#triggered = snapshot.triggered;
      this.#tempEnd = snapshot.tempEnd;
      this.#start = snapshot.start;
      this.#startProbability = snapshot.startProbability;
      this.#announced = snapshot.announced;
      this.#segments = snapshot.segments;
      this.#dropped = snapshot.dropped;
    }
  }

  get inSpeech(): boolean {
    return this.#triggered;
  }

  /** Segments announced and segments dropped as too short. */
  get counts(): { segments: number; dropped: number } {
    return { segments: this.#segments, dropped: this.#dropped };
  }

  /** One frame's probability; `frameEnd` is the stream position after it (VADIterator's current_sample). */
  frame(probability: number, frameEnd: number, out: SegmentEvent[]): void {
    const speech = probability >= this.#threshold;
    if (speech && this.#tempEnd) this.#tempEnd = 0;
    if (speech && !this.#triggered) {
      this.#triggered = true;
      this.#start = Math.max(0, frameEnd - this.#pad - this.#window);
      this.#startProbability = probability;
      this.#announced = false;
    } else if (probability < this.#negThreshold && this.#triggered) {
      if (!this.#tempEnd) this.#tempEnd = frameEnd;
      if (frameEnd - this.#tempEnd >= this.#minSilence) {
        this.#close(Math.floor(this.#tempEnd + this.#pad - this.#window), probability, frameEnd, out);
        return;
      }
    }
    // The earliest this segment can still end: where its silence began, or after the next frame.
    if (this.#triggered && !this.#announced) {
      const earliestEnd = this.#tempEnd ? this.#tempEnd + this.#pad - this.#window : frameEnd + this.#pad;
      if (earliestEnd - this.#start >= this.#minSpeech) this.#announce(frameEnd, out);
    }
  }

  /** End of stream at `total` samples: closes an open segment there (or where its silence began). */
  finish(total: number, out: SegmentEvent[]): void {
    if (!this.#triggered) return;
    const end = this.#tempEnd ? Math.min(total, Math.floor(this.#tempEnd + this.#pad - this.#window)) : total;
    this.#close(end, 0, total, out);
  }

  snapshot(): SegmenterSnapshot {
    return {
      triggered: this.#triggered, tempEnd: this.#tempEnd, start: this.#start, startProbability: this.#startProbability,
      announced: this.#announced, segments: this.#segments, dropped: this.#dropped,
    };
  }

  /** A start carries the probability of the frame that opened the segment. */
  #announce(decidedAt: number, out: SegmentEvent[]): void {
    this.#announced = true;
    out.push({ event: 'start', segment: this.#segments, sample: Math.floor(this.#start), probability: this.#startProbability, decidedAt });
  }

  #close(end: number, probability: number, decidedAt: number, out: SegmentEvent[]): void {
    this.#triggered = false;
    this.#tempEnd = 0;
    if (!this.#announced && end - this.#start >= this.#minSpeech) this.#announce(decidedAt, out);
    if (this.#announced) {
      out.push({ event: 'end', segment: this.#segments, sample: end, probability, decidedAt });
      this.#segments++;
    } else {
      this.#dropped++;
    }
    this.#announced = false;
  }
}
