import { InvalidRequestError } from '../errors/hotpath-error';
import { downmixToMono, pcm16ToFloat32 } from '../../kernels/audio/audio-kernels';
import { blockAlignOf, type AudioFormat } from './wav-stream-parser';

/** What the decoder holds between pushes: the bytes of a sample frame split across chunks. */
export interface PcmDecoderSnapshot {
  readonly leftover: string;
  readonly frames: number;
}

/**
 * Little-endian PCM bytes (pcm16 or float32, interleaved channels) -> mono float32, on the
 * audio kernels (int16 -> float32 exact, stereo -> mean of the two). Bytes of a sample frame
 * split across chunks wait for the rest, so the samples are the same whatever the chunking.
 * float32 samples must be finite (NaN would poison the model's recurrent state).
 */
export class PcmStreamDecoder {
  readonly format: AudioFormat;
  readonly #align: number;
  #leftover: Uint8Array = new Uint8Array(0);
  /** Sample frames decoded so far (the index of the next one, for messages). */
  #frames = 0;

  constructor(format: AudioFormat, snapshot?: PcmDecoderSnapshot) {
    this.format = format;
    this.#align = blockAlignOf(format);
    if (snapshot) {
      this.#leftover = Buffer.from(snapshot.leftover, 'base64');
      this.#frames = snapshot.frames;
    }
  }

  /** Decodes the whole sample frames `bytes` completes. */
  push(bytes: Uint8Array): Float32Array {
    const total = this.#leftover.byteLength + bytes.byteLength;
    const frames = Math.floor(total / this.#align);
    if (frames === 0) {
      this.#leftover = concat(this.#leftover, bytes);
      return new Float32Array(0);
    }
    const used = frames * this.#align;
    // A fresh, aligned copy: the typed array views below need 2- or 4-byte alignment.
    const whole = new Uint8Array(used);
    whole.set(this.#leftover.subarray(0, Math.min(used, this.#leftover.byteLength)));
    if (this.#leftover.byteLength < used) whole.set(bytes.subarray(0, used - this.#leftover.byteLength), this.#leftover.byteLength);
    this.#leftover = bytes.slice(used - this.#leftover.byteLength);
    const { channels, encoding } = this.format;
    let interleaved: Float32Array;
    if (encoding === 'pcm16') {
      interleaved = pcm16ToFloat32(new Int16Array(whole.buffer, 0, used / 2));
    } else {
      interleaved = new Float32Array(whole.buffer, 0, used / 4);
      for (let i = 0; i < interleaved.length; i++) {
        if (!Number.isFinite(interleaved[i]!)) {
          throw new InvalidRequestError(`float32 audio: sample frame ${this.#frames + Math.floor(i / channels)} holds ${interleaved[i]}; samples must be finite`);
        }
      }
    }
    this.#frames += frames;
    return channels === 1 ? interleaved : downmixToMono(interleaved, channels);
  }

  /** Ends the stream: refuses bytes left over inside a sample frame. */
  finish(): void {
    if (this.#leftover.byteLength > 0) {
      throw new InvalidRequestError(
        `the audio ended inside a sample frame: ${this.#leftover.byteLength} byte(s) left over; ${this.format.encoding} x ${this.format.channels} channel(s) takes ${this.#align} bytes per frame`,
      );
    }
  }

  snapshot(): PcmDecoderSnapshot {
    return { leftover: Buffer.from(this.#leftover).toString('base64'), frames: this.#frames };
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}
