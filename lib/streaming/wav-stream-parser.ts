import { InvalidRequestError } from '../errors/hotpath-error';
import { SUPPORTED_SAMPLE_RATES } from '../../kernels/audio/resample-filter-design';
import { SUPPORTED_ENCODINGS_TEXT, UnsupportedAudioError } from './audio-stream-errors';

/** How samples are stored: little-endian int16 or IEEE float32. */
export type SampleEncoding = 'pcm16' | 'float32';

/** What the bytes of an audio stream hold. */
export interface AudioFormat {
  readonly encoding: SampleEncoding;
  readonly sampleRate: number;
  readonly channels: number;
}

/** Bytes of one sample frame (all channels). */
export function blockAlignOf(format: AudioFormat): number {
  return format.channels * (format.encoding === 'pcm16' ? 2 : 4);
}

/** Checks a format's rate and channels (the parser's and the raw-PCM parameters' one rule). */
export function checkAudioFormat(format: AudioFormat, source: string): AudioFormat {
  if (!(SUPPORTED_SAMPLE_RATES as readonly number[]).includes(format.sampleRate)) {
    throw new InvalidRequestError(`${source}: sample rate ${format.sampleRate} Hz is not supported; send ${SUPPORTED_SAMPLE_RATES.join(', ')} Hz`);
  }
  if (format.channels !== 1 && format.channels !== 2) {
    throw new UnsupportedAudioError(`${source}: ${format.channels} channels are not supported; send mono or stereo (${SUPPORTED_ENCODINGS_TEXT})`);
  }
  return format;
}

/** A header that has not reached its `data` chunk within this many bytes is refused (real ones take 44 to a few hundred). */
export const MAX_WAV_HEADER_BYTES = 64 * 1024;

const FORMAT_NAMES: Readonly<Record<number, string>> = { 1: 'PCM', 2: 'Microsoft ADPCM', 3: 'IEEE float', 6: 'A-law', 7: 'mu-law', 17: 'IMA ADPCM', 85: 'MPEG layer 3' };
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
/** A data or RIFF size streaming writers put when they do not know the length yet. */
const UNKNOWN_SIZES = new Set([0, 0xffffffff]);

/** What the parser holds between pushes (JSON: a stream can span invocations). */
export interface WavParserSnapshot {
  readonly header: string;
  readonly format?: AudioFormat;
  readonly dataBytes?: number;
  readonly dataReceived: number;
}

/**
 * Incremental RIFF/WAVE reader: push the stream's bytes in chunks of any size (the header may
 * be split anywhere) and get the `data` chunk's bytes back; chunks after `data` are ignored.
 * The header is checked before any audio is handed out: PCM 16-bit or IEEE float 32-bit
 * (WAVE_FORMAT_EXTENSIBLE too), one or two channels, a supported rate, and a block align and
 * byte rate that agree with them. A stream that ends inside the header, or before the byte
 * count the `data` chunk declares, is refused at `finish` (a streaming writer's unknown size,
 * 0 or 0xFFFFFFFF, reads to the end).
 */
export class WavStreamParser {
  #header: Uint8Array = new Uint8Array(0);
  #format: AudioFormat | undefined;
  /** Declared byte count of the data chunk; undefined when unknown (read to the end). */
  #dataBytes: number | undefined;
  #dataReceived = 0;

  constructor(snapshot?: WavParserSnapshot) {
    if (snapshot) {
      this.#header = Buffer.from(snapshot.header, 'base64');
      this.#format = snapshot.format;
      this.#dataBytes = snapshot.dataBytes;
      this.#dataReceived = snapshot.dataReceived;
    }
  }

  /** The format, once the header up to the `data` chunk has arrived. */
  get format(): AudioFormat | undefined {
    return this.#format;
  }

  /** Bytes of the stream consumed by the header so far (before the format is known). */
  get headerBytes(): number {
    return this.#header.byteLength;
  }

  /** Returns the audio bytes in `chunk` (possibly none: still in the header, or past the data chunk). */
  push(chunk: Uint8Array): Uint8Array {
    if (this.#format === undefined) {
      const joined = new Uint8Array(this.#header.byteLength + chunk.byteLength);
      joined.set(this.#header);
      joined.set(chunk, this.#header.byteLength);
      const parsed = parseWavHeader(joined);
      if (parsed === undefined) {
        if (joined.byteLength > MAX_WAV_HEADER_BYTES) throw new InvalidRequestError(`WAV header: no 'data' chunk in the first ${MAX_WAV_HEADER_BYTES} bytes`);
        this.#header = joined;
        return new Uint8Array(0);
      }
      this.#format = parsed.format;
      this.#dataBytes = parsed.dataBytes;
      this.#header = joined.subarray(0, parsed.dataOffset).slice();
      return this.#take(joined.subarray(parsed.dataOffset));
    }
    return this.#take(chunk);
  }

  /** Ends the stream: refuses one that stopped inside the header or short of the declared data. */
  finish(): void {
    if (this.#format === undefined) {
      if (this.#header.byteLength === 0) throw new InvalidRequestError('request body is empty; send a WAV stream or raw PCM audio');
      throw new InvalidRequestError(`WAV header truncated: the stream ended after ${this.#header.byteLength} bytes, before the 'data' chunk began`);
    }
    if (this.#dataBytes !== undefined && this.#dataReceived < this.#dataBytes) {
      throw new InvalidRequestError(`WAV audio truncated: the 'data' chunk declares ${this.#dataBytes} bytes, the stream ended after ${this.#dataReceived}`);
    }
  }

  snapshot(): WavParserSnapshot {
    return {
      header: Buffer.from(this.#header).toString('base64'),
      ...(this.#format ? { format: this.#format } : {}),
      ...(this.#dataBytes !== undefined ? { dataBytes: this.#dataBytes } : {}),
      dataReceived: this.#dataReceived,
    };
  }

  #take(bytes: Uint8Array): Uint8Array {
    const left = this.#dataBytes === undefined ? bytes.byteLength : Math.max(0, this.#dataBytes - this.#dataReceived);
    const taken = bytes.byteLength <= left ? bytes : bytes.subarray(0, left);
    this.#dataReceived += taken.byteLength;
    return taken;
  }
}

/**
 * Parses a WAV header from the stream's first bytes: undefined while the `data` chunk's header
 * has not arrived; throws as soon as what has arrived is wrong.
 */
export function parseWavHeader(bytes: Uint8Array): { format: AudioFormat; dataOffset: number; dataBytes: number | undefined } | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ascii = (offset: number) => String.fromCharCode(...bytes.subarray(offset, offset + 4));
  const magic = Math.min(4, bytes.byteLength);
  if (ascii(0).slice(0, magic) !== 'RIFF'.slice(0, magic)) {
    throw new InvalidRequestError(`not a WAV stream: it does not begin with 'RIFF'; for raw PCM give format (pcm16 or float32) and rate in the query or the x-audio-format and x-audio-rate headers`);
  }
  if (bytes.byteLength >= 12 && ascii(8) !== 'WAVE') throw new InvalidRequestError(`not a WAV stream: a RIFF file of type '${ascii(8)}', not 'WAVE'`);
  if (bytes.byteLength < 12) return undefined;
  const riffBytes = view.getUint32(4, true);
  let format: AudioFormat | undefined;
  let offset = 12;
  while (offset + 8 <= bytes.byteLength) {
    const id = ascii(offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'data') {
      if (format === undefined) throw new InvalidRequestError(`WAV header: the 'data' chunk comes before the 'fmt ' chunk`);
      const known = !UNKNOWN_SIZES.has(size);
      const align = blockAlignOf(format);
      if (known && size % align !== 0) {
        throw new InvalidRequestError(`WAV header: the 'data' chunk declares ${size} bytes, not a whole number of ${align}-byte sample frames`);
      }
      if (known && !UNKNOWN_SIZES.has(riffBytes) && body + size > 8 + riffBytes) {
        throw new InvalidRequestError(`WAV header: the 'data' chunk (${size} bytes from byte ${body}) runs past the RIFF size (${riffBytes} + 8 bytes)`);
      }
      return { format, dataOffset: body, dataBytes: known ? size : undefined };
    }
    if (body + size + (size & 1) > bytes.byteLength) {
      if (size > MAX_WAV_HEADER_BYTES) throw new InvalidRequestError(`WAV header: chunk '${id}' declares ${size} bytes before the 'data' chunk; headers over ${MAX_WAV_HEADER_BYTES} bytes are refused`);
      return undefined;
    }
    if (id === 'fmt ') format = parseFmtChunk(view, body, size);
    offset = body + size + (size & 1);
  }
  return undefined;
}

function parseFmtChunk(view: DataView, at: number, size: number): AudioFormat {
  if (size < 16) throw new InvalidRequestError(`WAV header: the 'fmt ' chunk has ${size} bytes, at least 16 are needed`);
  let code = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const sampleRate = view.getUint32(at + 4, true);
  const byteRate = view.getUint32(at + 8, true);
  const blockAlign = view.getUint16(at + 12, true);
  const bits = view.getUint16(at + 14, true);
  if (code === WAVE_FORMAT_EXTENSIBLE) {
    if (size < 40) throw new InvalidRequestError(`WAV header: WAVE_FORMAT_EXTENSIBLE needs a 40-byte 'fmt ' chunk, this one has ${size}`);
    code = view.getUint16(at + 24, true);
  }
  const encoding = code === 1 && bits === 16 ? 'pcm16' : code === 3 && bits === 32 ? 'float32' : undefined;
  if (encoding === undefined) {
    const name = FORMAT_NAMES[code] ?? `format code ${code}`;
    throw new UnsupportedAudioError(`WAV encoding ${name}, ${bits}-bit is not supported; send ${SUPPORTED_ENCODINGS_TEXT}`);
  }
  const format = checkAudioFormat({ encoding, sampleRate, channels }, 'WAV header');
  const align = blockAlignOf(format);
  if (blockAlign !== align) throw new InvalidRequestError(`WAV header: block align ${blockAlign} contradicts ${channels} channel(s) of ${bits}-bit samples (${align} bytes)`);
  if (byteRate !== sampleRate * align) throw new InvalidRequestError(`WAV header: byte rate ${byteRate} contradicts ${sampleRate} Hz x ${align} bytes (${sampleRate * align})`);
  return format;
}

/**
 * A canonical 44-byte WAV header for `dataBytes` bytes of audio (tests, benchmarks, clients).
 * @example const wav = Buffer.concat([wavHeader({ encoding: 'pcm16', sampleRate: 16000, channels: 1 }, pcm.byteLength), pcm]);
 */
export function wavHeader(format: AudioFormat, dataBytes: number): Uint8Array {
  const header = new Uint8Array(44);
  const view = new DataView(header.buffer);
  const align = blockAlignOf(format);
  header.set([82, 73, 70, 70], 0);
  view.setUint32(4, 36 + dataBytes, true);
  header.set([87, 65, 86, 69, 102, 109, 116, 32], 8);
  view.setUint32(16, 16, true);
  view.setUint16(20, format.encoding === 'pcm16' ? 1 : 3, true);
  view.setUint16(22, format.channels, true);
  view.setUint32(24, format.sampleRate, true);
  view.setUint32(28, format.sampleRate * align, true);
  view.setUint16(32, align, true);
  view.setUint16(34, format.encoding === 'pcm16' ? 16 : 32, true);
  header.set([100, 97, 116, 97], 36);
  view.setUint32(40, dataBytes, true);
  return header;
}
