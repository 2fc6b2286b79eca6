import { audioKernels } from '../../kernels/audio/audio-kernels';
import { designResampleFilter, resampledLength, type ResampleFilter } from '../../kernels/audio/resample-filter-design';
import { arenaBytesForByteSizes, createArena } from '../../kernels/runtime/wasm-arena';

/** What the resampler holds between pushes. */
export interface ResamplerSnapshot {
  readonly pending: string;
  readonly received: number;
  readonly produced: number;
}

/**
 * The audio kernel's polyphase anti-aliasing resampler (kernels/audio/resample.ts), streamed.
 * Output j reads `taps` padded input samples from floor(j * down / up), so outputs come in
 * blocks of `up` (each starts at filter phase 0 and consumes `down` inputs): a block is run as
 * soon as its last window has arrived. The outputs are bit for bit those of the whole-clip
 * `resample()` (the same windows through the same kernel), whatever the chunking; `finish`
 * adds the zeros the whole-clip call pads with, up to ceil(n * up / down) outputs.
 */
export class StreamResampler {
  readonly fromRate: number;
  readonly toRate: number;
  readonly #filter: ResampleFilter | undefined;
  /** Padded input from the next block's first window on (the filter's left zeros at first). */
  #pending: Float32Array;
  #received = 0;
  #produced = 0;

  constructor(fromRate: number, toRate: number, snapshot?: ResamplerSnapshot) {
    this.fromRate = fromRate;
    this.toRate = toRate;
    this.#filter = fromRate === toRate ? undefined : designResampleFilter(fromRate, toRate);
    this.#pending = new Float32Array(this.#filter?.padLeft ?? 0);
    if (snapshot) {
      this.#pending = new Float32Array(new Uint8Array(Buffer.from(snapshot.pending, 'base64')).buffer);
      this.#received = snapshot.received;
      this.#produced = snapshot.produced;
    }
  }

  /** Output samples the pushed input completes. */
  push(samples: Float32Array): Float32Array {
    this.#received += samples.length;
    if (!this.#filter) {
      this.#produced += samples.length;
      return samples;
    }
    this.#pending = appended(this.#pending, samples);
    const blocks = Math.floor((this.#pending.length - this.#filter.taps) / this.#filter.down);
    return blocks > 0 ? this.#run(blocks) : new Float32Array(0);
  }

  /** The outputs still owed at the end of the stream (input beyond its end read as zeros). */
  finish(): Float32Array {
    if (!this.#filter) return new Float32Array(0);
    const { up, down, taps } = this.#filter;
    const owed = resampledLength(this.#received, up, down) - this.#produced;
    if (owed <= 0) return new Float32Array(0);
    const blocks = Math.ceil(owed / up);
    this.#pending = appended(this.#pending, new Float32Array(Math.max(0, blocks * down + taps - this.#pending.length)));
    return this.#run(blocks).subarray(0, owed);
  }

  snapshot(): ResamplerSnapshot {
    const bytes = new Uint8Array(this.#pending.buffer, this.#pending.byteOffset, this.#pending.byteLength);
    return { pending: Buffer.from(bytes).toString('base64'), received: this.#received, produced: this.#produced };
  }

  #run(blocks: number): Float32Array {
    const { up, down, taps, bank } = this.#filter!;
    const outLength = blocks * up;
    const used = (blocks - 1) * down + Math.floor(((up - 1) * down) / up) + taps;
    const instance = audioKernels();
    const arena = createArena(instance, arenaBytesForByteSizes(4 * used, 4 * bank.length, 4 * outLength));
    try {
      const src = arena.f32From(this.#pending.subarray(0, used));
      const weights = arena.f32From(bank);
      const dst = arena.f32(outLength);
      instance.exports.resamplePolyphase(src.ptr, outLength, up, down, weights.ptr, taps, dst.ptr);
      this.#pending = this.#pending.slice(blocks * down);
      this.#produced += outLength;
      return dst.view.slice();
    } finally {
      arena.release();
    }
  }
}

function appended(a: Float32Array, b: Float32Array): Float32Array {
  if (b.length === 0) return a;
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
