import { InvalidRequestError } from '../../../lib/errors/hotpath-error';
import { UnsupportedAudioError } from '../../../lib/streaming/audio-stream-errors';
import { WavStreamParser, wavHeader, type AudioFormat } from '../../../lib/streaming/wav-stream-parser';

const MONO16: AudioFormat = { encoding: 'pcm16', sampleRate: 16000, channels: 1 };
const audio = Uint8Array.from({ length: 64 }, (_, i) => i);

function wav(format: AudioFormat, data: Uint8Array, extra?: Uint8Array): Uint8Array {
  const header = wavHeader(format, data.byteLength);
  if (!extra) return Buffer.concat([header, data]);
  // A LIST chunk between fmt and data (odd size: padded), as many writers add.
  const riff = Buffer.from(header.subarray(0, 36));
  riff.writeUInt32LE(36 + 8 + extra.byteLength + (extra.byteLength & 1) + 8 + data.byteLength, 4);
  const list = Buffer.concat([Buffer.from('LIST'), Buffer.from(Uint32Array.of(extra.byteLength).buffer), extra, Buffer.alloc(extra.byteLength & 1)]);
  return Buffer.concat([riff, list, header.subarray(36), data]);
}

function parse(bytes: Uint8Array, cut: number[] = []): { format: AudioFormat | undefined; data: Uint8Array } {
  const parser = new WavStreamParser();
  const out: Uint8Array[] = [];
  let at = 0;
  for (const c of [...cut, bytes.byteLength]) {
    out.push(parser.push(bytes.subarray(at, c)));
    at = c;
  }
  parser.finish();
  return { format: parser.format, data: Buffer.concat(out) };
}

describe('WavStreamParser', () => {
  it('reads the format and hands back exactly the data bytes wherever the header is split (each byte, with a LIST chunk)', () => {
    const bytes = wav({ encoding: 'float32', sampleRate: 48000, channels: 2 }, audio, Uint8Array.of(1, 2, 3));
    for (let cut = 0; cut <= 70; cut++) {
      expect(parse(bytes, [cut])).toEqual({ format: { encoding: 'float32', sampleRate: 48000, channels: 2 }, data: Buffer.from(audio) });
    }
    const bytewise = parse(bytes, Array.from({ length: bytes.byteLength }, (_, i) => i));
    expect(bytewise.data).toEqual(Buffer.from(audio));
  });

  it('ignores chunks after the data chunk, and reads a streaming writer\'s unknown size (0xFFFFFFFF) to the end', () => {
    expect(parse(Buffer.concat([wav(MONO16, audio), Buffer.from('LIST\x04\x00\x00\x00abcd')])).data).toEqual(Buffer.from(audio));
    const open = Buffer.from(wav(MONO16, audio));
    open.writeUInt32LE(0xffffffff, 40);
    expect(parse(Buffer.concat([open, Buffer.alloc(6)])).data.byteLength).toBe(70);
  });

  it('reads WAVE_FORMAT_EXTENSIBLE by its subformat', () => {
    const fmt = Buffer.alloc(40);
    fmt.writeUInt16LE(0xfffe, 0); fmt.writeUInt16LE(1, 2); fmt.writeUInt32LE(16000, 4); fmt.writeUInt32LE(32000, 8);
    fmt.writeUInt16LE(2, 12); fmt.writeUInt16LE(16, 14); fmt.writeUInt16LE(22, 16); fmt.writeUInt16LE(1, 24);
    const bytes = Buffer.concat([Buffer.from('RIFF'), Buffer.from(Uint32Array.of(4 + 48 + 8 + 64).buffer), Buffer.from('WAVEfmt '), Buffer.from(Uint32Array.of(40).buffer), fmt, Buffer.from('data'), Buffer.from(Uint32Array.of(64).buffer), audio]);
    expect(parse(bytes).format).toEqual(MONO16);
  });

  it('refuses truncated and lying headers, and a stream short of its declared data, saying what is wrong', () => {
    const good = wav(MONO16, audio);
    const refusal = (bytes: Uint8Array) => { try { parse(bytes); return undefined; } catch (e) { return e as Error; } };
    const edit = (at: number, value: number, bits: 16 | 32 = 16) => { const b = Buffer.from(good); if (bits === 16) b.writeUInt16LE(value, at); else b.writeUInt32LE(value, at); return b; };
    expect(refusal(new Uint8Array(0))?.message).toMatch(/request body is empty/);
    expect(refusal(good.subarray(0, 43))?.message).toBe('WAV header truncated: the stream ended after 43 bytes, before the \'data\' chunk began');
    expect(refusal(good.subarray(0, 44 + 10))?.message).toBe('WAV audio truncated: the \'data\' chunk declares 64 bytes, the stream ended after 10');
    expect(refusal(edit(32, 4))?.message).toMatch(/block align 4 contradicts 1 channel\(s\) of 16-bit samples \(2 bytes\)/);
    expect(refusal(edit(28, 16000, 32))?.message).toMatch(/byte rate 16000 contradicts 16000 Hz x 2 bytes \(32000\)/);
    expect(refusal(edit(40, 63, 32))?.message).toMatch(/declares 63 bytes, not a whole number of 2-byte sample frames/);
    expect(refusal(edit(4, 40, 32))?.message).toMatch(/runs past the RIFF size/);
    expect(refusal(Buffer.from('RIFX'))?.message).toMatch(/does not begin with 'RIFF'/);
    expect(refusal(Buffer.from('RIFF\0\0\0\0AVI '))?.message).toMatch(/a RIFF file of type 'AVI ', not 'WAVE'/);
    expect(refusal(edit(22, 3))).toMatchObject({ status: 415, message: expect.stringMatching(/3 channels are not supported; send mono or stereo/) });
    expect(refusal(edit(24, 11025, 32))).toBeInstanceOf(InvalidRequestError);
    expect(refusal(edit(24, 11025, 32))?.message).toMatch(/sample rate 11025 Hz is not supported/);
  });

  it('refuses encodings it cannot read with 415', () => {
    const cases: [number, number, RegExp][] = [[1, 8, /PCM, 8-bit/], [1, 24, /PCM, 24-bit/], [7, 8, /mu-law, 8-bit/], [3, 64, /IEEE float, 64-bit/], [2, 4, /Microsoft ADPCM/]];
    for (const [code, bits, message] of cases) {
      const b = Buffer.from(wav(MONO16, audio));
      b.writeUInt16LE(code, 20);
      b.writeUInt16LE(bits, 34);
      const error = (() => { try { parse(b); } catch (e) { return e; } })() as UnsupportedAudioError;
      expect(error).toBeInstanceOf(UnsupportedAudioError);
      expect(error.status).toBe(415);
      expect(error.message).toMatch(message);
    }
  });
});
