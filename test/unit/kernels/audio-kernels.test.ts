import fc from 'fast-check';
import {
  downmixToMono, float32ToPcm16, frameFeatures, logMelSpectrogram, pcm16ToFloat32, preEmphasis, resample, rfft, rfftPower,
} from '../../../kernels/audio/audio-kernels';
import {
  dftReference, downmixReference, fftPowerReference, float32ToPcm16Reference, frameFeaturesReference,
  logMelSpectrogramReference, pcm16ToFloat32Reference, preEmphasisReference, resampleReference,
} from '../../../kernels/audio/audio-reference';
import { KernelArgumentError } from '../../../kernels/kernel-arguments/kernel-argument-checks';
import { mulberry32 } from '../../../kernels/seeded-random/seeded-random';

/** Largest |a - b| / (1 + |b|); NaN in the same places counts as equal, NaN in one only as Infinity. */
function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (Number.isNaN(x) !== Number.isNaN(y)) return Infinity;
      continue;
    }
    worst = Math.max(worst, Math.abs(x - y) / (1 + Math.abs(y)));
  }
  return worst;
}

const samplesArb = (maxLength: number) =>
  fc.float32Array({ minLength: 0, maxLength, noNaN: true, noDefaultInfinity: true, min: -1, max: 1 });

function noise(n: number, seed: number, amplitude = 1): Float32Array {
  const random = mulberry32(seed);
  return Float32Array.from({ length: n }, () => (random() * 2 - 1) * amplitude);
}

function tone(n: number, rate: number, hz: number, amplitude = 0.5): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => amplitude * Math.sin((2 * Math.PI * hz * i) / rate));
}

function rms(x: Float32Array, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / (to - from));
}

describe('pcm16ToFloat32 / float32ToPcm16', () => {
  it('matches the reference on any int16 input, and round-trips exactly', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: -32768, max: 32767 }), { maxLength: 67 }), (values) => {
      const pcm = Int16Array.from(values);
      const floats = pcm16ToFloat32(pcm);
      expect(floats).toEqual(pcm16ToFloat32Reference(pcm));
      expect(float32ToPcm16(floats)).toEqual(pcm);
    }));
  });

  it('rounds half to even, clamps out-of-range values and maps NaN to 0 when converting to int16', () => {
    const x = Float32Array.from([0.5 / 32768, 1.5 / 32768, -0.5 / 32768, 2, -2, NaN, Infinity, -Infinity, 1, -1, 0.25, -0]);
    const expected = Int16Array.from([0, 2, 0, 32767, -32768, 0, 32767, -32768, 32767, -32768, 8192, 0]);
    expect(float32ToPcm16(x)).toEqual(expected);
    expect(float32ToPcm16Reference(x)).toEqual(expected);
  });

  it('matches the reference on odd lengths with NaN and large values', () => {
    fc.assert(fc.property(fc.float32Array({ maxLength: 41 }), (x) => {
      expect(float32ToPcm16(x)).toEqual(float32ToPcm16Reference(x));
    }));
  });

  it('refuses a plain array with a message naming the argument', () => {
    expect(() => pcm16ToFloat32([1, 2] as unknown as Int16Array)).toThrow(/'samples' must be a Int16Array, got Array/);
  });
});

describe('downmixToMono', () => {
  it('matches the reference for 1 to 6 channels on odd frame counts', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 37 }), fc.integer(), (channels, frames, seed) => {
      const x = noise(channels * frames, seed);
      expect(maxRelativeError(downmixToMono(x, channels), downmixReference(x, channels))).toBeLessThan(1e-6);
    }));
  });

  it('gives NaN only for frames that hold a NaN', () => {
    const x = Float32Array.from([1, 3, NaN, 0, -1, -1, 0.5, 0.5, 2, 4]);
    const out = downmixToMono(x, 2);
    expect(Array.from(out)).toEqual([2, NaN, -1, 0.5, 3]);
  });

  it('refuses a length that is not a multiple of the channel count', () => {
    expect(() => downmixToMono(new Float32Array(5), 2)).toThrow(KernelArgumentError);
    expect(() => downmixToMono(new Float32Array(4), 0)).toThrow(/'channels' must be an integer in \[1, 64\], got 0/);
  });
});

describe('preEmphasis', () => {
  it('matches the reference, and chunked calls with the previous sample equal one call', () => {
    fc.assert(fc.property(samplesArb(45), fc.double({ min: 0, max: 1, noNaN: true }), fc.nat(), (x, a, cut) => {
      const whole = preEmphasis(x, a);
      expect(maxRelativeError(whole, preEmphasisReference(x, a))).toBeLessThan(1e-6);
      const k = x.length === 0 ? 0 : cut % x.length;
      const first = preEmphasis(x.subarray(0, k), a);
      const second = preEmphasis(x.subarray(k), a, k > 0 ? x[k - 1]! : 0);
      expect(Float32Array.from([...first, ...second])).toEqual(whole);
    }));
  });

  it('propagates NaN to the sample and the one after it', () => {
    const out = preEmphasis(Float32Array.from([0, 1, NaN, 1, 1, 1, 1]), 0.5);
    expect(Array.from(out).map(Number.isNaN)).toEqual([false, false, true, true, false, false, false]);
  });
});

describe('resample', () => {
  const rates = [8000, 16000, 22050, 44100, 48000] as const;

  it('matches the direct-evaluation reference for every rate pair on odd lengths', () => {
    for (const from of rates) {
      for (const to of rates) {
        const x = noise(137, from + to);
        const out = resample(x, from, to);
        expect(out.length).toBe(Math.ceil((137 * to) / from));
        expect(maxRelativeError(out, resampleReference(x, from, to))).toBeLessThan(1e-5);
      }
    }
  });

  it('keeps an in-band tone and its level when converting 48 kHz to 16 kHz', () => {
    const out = resample(tone(48000, 48000, 1000), 48000, 16000);
    const expected = tone(16000, 16000, 1000);
    let err = 0;
    for (let i = 200; i < 15800; i++) err = Math.max(err, Math.abs(out[i]! - expected[i]!));
    expect(err).toBeLessThan(5e-3);
  });

  it('removes a tone above the new Nyquist frequency (anti-aliasing) when converting 48 kHz to 8 kHz', () => {
    const out = resample(tone(48000, 48000, 6000), 48000, 8000);
    // Without the filter 6 kHz would alias to 2 kHz at full level (rms 0.35); the filter leaves < -60 dB.
    expect(rms(out, 200, 7800)).toBeLessThan(0.5 * 1e-3);
  });

  it('refuses unsupported rates with the accepted list', () => {
    expect(() => resample(new Float32Array(4), 11025, 16000)).toThrow(/'fromRate' must be one of 8000, 16000, 22050, 44100, 48000 Hz, got 11025/);
  });
});

describe('rfft / rfftPower', () => {
  it('matches the naive DFT for every power-of-two size from 2 to 1024', () => {
    for (let n = 2; n <= 1024; n *= 2) {
      const x = noise(n, n);
      const { re, im } = rfft(x);
      const ref = dftReference(x);
      const scale = Math.sqrt(n);
      for (let k = 0; k < re.length; k++) {
        expect(Math.abs(re[k]! - ref.re[k]!) / scale).toBeLessThan(1e-5);
        expect(Math.abs(im[k]! - ref.im[k]!) / scale).toBeLessThan(1e-5);
      }
      const power = rfftPower(x);
      const refPower = fftPowerReference(x);
      for (let k = 0; k < power.length; k++) expect(Math.abs(power[k]! - refPower[k]!) / n).toBeLessThan(1e-4);
    }
  });

  it('gives zeros for zeros and NaN everywhere for a NaN sample', () => {
    expect(Array.from(rfftPower(new Float32Array(16)))).toEqual(new Array(9).fill(0));
    const x = new Float32Array(16);
    x[5] = NaN;
    expect(Array.from(rfftPower(x)).every(Number.isNaN)).toBe(true);
  });

  it('refuses a length that is not a power of two', () => {
    expect(() => rfft(new Float32Array(12))).toThrow(/'frame' length must be a power of two in \[2, 2\^24\], got 12/);
  });
});

describe('logMelSpectrogram', () => {
  it('matches the plain TypeScript reference with the defaults (25 ms / 10 ms, 80 bands, 16 kHz)', () => {
    const x = Float32Array.from(noise(16000, 3, 0.01), (v, i) => v + 0.3 * Math.sin(i * 0.13) + 0.1 * Math.sin(i * 0.71));
    const ours = logMelSpectrogram(x);
    const ref = logMelSpectrogramReference(x);
    expect(ours.frames).toBe(98);
    expect(ours.nMels).toBe(80);
    // log of power: absolute error in nats; float32 FFT vs float64.
    expect(maxRelativeError(ours.data, ref.data)).toBeLessThan(2e-3);
  });

  it('matches the reference for random configurations, odd lengths and silence', () => {
    fc.assert(
      fc.property(
        fc.record({
          nFft: fc.constantFrom(64, 128, 256, 512),
          hopLength: fc.integer({ min: 1, max: 97 }),
          nMels: fc.integer({ min: 1, max: 40 }),
          window: fc.constantFrom('hann' as const, 'hamming' as const),
          melScale: fc.constantFrom('htk' as const, 'slaney' as const),
          fMin: fc.integer({ min: 0, max: 300 }),
        }),
        fc.integer({ min: 0, max: 2001 }),
        fc.boolean(),
        (cfg, length, silent) => {
          const options = { ...cfg, winLength: cfg.nFft - (cfg.nFft >> 3), sampleRate: 16000, fMax: 7600 };
          const x = silent ? new Float32Array(length) : noise(length, length + cfg.nFft, 0.5);
          const ours = logMelSpectrogram(x, options);
          const ref = logMelSpectrogramReference(x, options);
          expect(ours.frames).toBe(ref.frames);
          expect(maxRelativeError(ours.data, ref.data)).toBeLessThan(5e-3);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('gives the log floor for silence and NaN for the frames that hold a NaN sample', () => {
    const x = new Float32Array(1000);
    x[450] = NaN;
    const { data, frames, nMels } = logMelSpectrogram(x);
    expect(frames).toBe(4);
    for (let f = 0; f < frames; f++) {
      const row = Array.from(data.subarray(f * nMels, (f + 1) * nMels));
      const hasNaN = f * 160 <= 450 && 450 < f * 160 + 400;
      expect(row.every((v) => (hasNaN ? Number.isNaN(v) : Math.abs(v - Math.log(1e-10)) < 1e-3))).toBe(true);
    }
  });

  it('refuses an FFT size smaller than the window', () => {
    expect(() => logMelSpectrogram(new Float32Array(10), { nFft: 256, winLength: 400 })).toThrow(/'nFft' must be a power of two >= 'winLength' \(400\)/);
  });
});

describe('frameFeatures', () => {
  it('matches the reference on odd frame lengths and hops, zeros, negatives and NaN', () => {
    fc.assert(fc.property(fc.float32Array({ maxLength: 300, noDefaultInfinity: true, min: -4, max: 4 }), fc.integer({ min: 1, max: 41 }), fc.integer({ min: 1, max: 23 }), (x, frameLength, hop) => {
      const ours = frameFeatures(x, frameLength, hop);
      const ref = frameFeaturesReference(x, frameLength, hop);
      expect(maxRelativeError(ours.meanSquare, ref.meanSquare)).toBeLessThan(1e-5);
      expect(ours.zeroCrossingRate).toEqual(ref.zeroCrossingRate);
    }));
  });

  it('counts every pair of a square wave alternating each sample as a crossing', () => {
    const x = Float32Array.from({ length: 33 }, (_, i) => (i % 2 ? -0.5 : 0.5));
    const { meanSquare, zeroCrossingRate } = frameFeatures(x, 11, 11);
    expect(Array.from(zeroCrossingRate)).toEqual([1, 1, 1]);
    expect(Array.from(meanSquare)).toEqual([0.25, 0.25, 0.25]);
  });
});
