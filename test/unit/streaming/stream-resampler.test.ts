import fc from 'fast-check';
import { resample } from '../../../kernels/audio/audio-kernels';
import { mulberry32 } from '../../../kernels/seeded-random/seeded-random';
import { StreamResampler } from '../../../lib/streaming/stream-resampler';

function streamed(samples: Float32Array, from: number, to: number, cuts: number[]): Float32Array {
  const resampler = new StreamResampler(from, to);
  const parts: Float32Array[] = [];
  let at = 0;
  for (const c of [...cuts.map((x) => x % (samples.length + 1)).sort((a, b) => a - b), samples.length]) {
    parts.push(resampler.push(samples.subarray(at, Math.max(at, c))).slice());
    at = Math.max(at, c);
  }
  parts.push(resampler.finish());
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** RMS of a tone's output after the filter has settled, in dB relative to the input's. */
function gainDb(frequency: number, from: number, to: number): number {
  const n = from;
  const x = Float32Array.from({ length: n }, (_, i) => Math.sin((2 * Math.PI * frequency * i) / from));
  const y = streamed(x, from, to, [1234, 5000]);
  const settled = y.subarray(Math.round(to * 0.1), Math.round(to * 0.9));
  const rms = Math.sqrt(settled.reduce((s, v) => s + v * v, 0) / settled.length);
  return 20 * Math.log10(rms / Math.SQRT1_2);
}

describe('StreamResampler', () => {
  it('gives the whole-clip kernel resample() bit for bit, however the input is chunked', () => {
    fc.assert(
      fc.property(fc.constantFrom(22050, 44100, 48000), fc.integer({ min: 0, max: 6000 }), fc.array(fc.nat(), { maxLength: 30 }), fc.integer(), (from, n, cuts, seed) => {
        const random = mulberry32(seed);
        const x = Float32Array.from({ length: n }, () => random() * 2 - 1);
        expect(streamed(x, from, 16000, cuts)).toEqual(resample(x, from, 16000));
      }),
      { numRuns: 60 },
    );
  });

  it('passes 16 kHz and 8 kHz through untouched', () => {
    const x = Float32Array.of(0.1, -0.2, 0.3);
    expect(streamed(x, 16000, 16000, [1])).toEqual(x);
    expect(streamed(x, 8000, 8000, [])).toEqual(x);
  });

  it('keeps speech-band tones and suppresses what would alias (measured: tones above 8 kHz at 48, 44.1 and 22.05 kHz)', () => {
    for (const from of [48000, 44100, 22050]) {
      expect(Math.abs(gainDb(1000, from, 16000))).toBeLessThan(0.05);
      expect(Math.abs(gainDb(6000, from, 16000))).toBeLessThan(0.1);
      // 9 kHz would fold to 7 kHz, 10 kHz to 6 kHz (measured here: -79 and -86 dB; the cutoff is 0.94 of 8 kHz).
      expect(gainDb(9000, from, 16000)).toBeLessThan(-75);
      expect(gainDb(10000, from, 16000)).toBeLessThan(-80);
    }
  });
});
