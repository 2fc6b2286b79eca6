import fc from 'fast-check';
import { detectSpeechSegments, detectSpeechSegmentsReference, SilenceDetector } from '../../../kernels/audio/silence-detector';
import type { SpeechSegment } from '../../../kernels/audio/speech-state-machine';
import { syntheticSpeechLikeAudio } from '../../../kernels/audio/synthetic-speech-signal';
import { mulberry32 } from '../../../kernels/seeded-random/seeded-random';
import { KernelArgumentError } from '../../../kernels/kernel-arguments/kernel-argument-checks';

const speech = syntheticSpeechLikeAudio({ seconds: 30, seed: 11 });

/** Feeds `samples` in chunks whose sizes come from `sizes` (cycled), including empty chunks. */
function detectInChunks(samples: Float32Array, sizes: readonly number[], options = {}): SpeechSegment[] {
  const detector = new SilenceDetector(options);
  const out: SpeechSegment[] = [];
  let at = 0;
  for (let i = 0; at < samples.length; i++) {
    const size = sizes[i % sizes.length]!;
    out.push(...detector.push(samples.subarray(at, at + size)));
    at += size;
  }
  out.push(...detector.finish());
  return out;
}

describe('SilenceDetector', () => {
  it('finds each speech-like burst with boundaries within one frame before and the hangover after', () => {
    const segments = detectSpeechSegments(speech.samples);
    expect(segments).toHaveLength(speech.bursts.length);
    segments.forEach((segment, i) => {
      const burst = speech.bursts[i]!;
      expect(segment.startSample).toBeGreaterThanOrEqual(burst.start - 320);
      expect(segment.startSample).toBeLessThanOrEqual(burst.start + 160);
      expect(segment.endSample).toBeGreaterThanOrEqual(burst.end - 160);
      expect(segment.endSample).toBeLessThanOrEqual(burst.end + 480);
    });
  });

  it('gives identical segments whether fed at once or in random chunk sizes (0, 1, odd, larger than a frame)', () => {
    const whole = detectSpeechSegments(speech.samples);
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom(0, 1, 159, 160, 161, 319, 320, 321), fc.integer({ min: 0, max: 40000 })), { minLength: 1, maxLength: 30 }), (sizes) => {
        fc.pre(sizes.some((s) => s > 0));
        expect(detectInChunks(speech.samples, sizes)).toEqual(whole);
      }),
      { numRuns: 60 },
    );
  });

  it('agrees with the plain TypeScript reference features on speech-like audio', () => {
    expect(detectSpeechSegments(speech.samples)).toEqual(detectSpeechSegmentsReference(speech.samples));
  });

  it('reports no speech in digital silence, in steady noise, or for an input shorter than a frame', () => {
    expect(detectSpeechSegments(new Float32Array(16000))).toEqual([]);
    const random = mulberry32(5);
    expect(detectSpeechSegments(Float32Array.from({ length: 48000 }, () => (random() - 0.5) * 0.02))).toEqual([]);
    expect(detectSpeechSegments(new Float32Array(100).fill(0.5))).toEqual([]);
  });

  it('closes a segment still open at the end of the stream in finish()', () => {
    const x = new Float32Array(16000);
    const random = mulberry32(2);
    for (let i = 0; i < x.length; i++) x[i] = (random() - 0.5) * 1e-3 + (i >= 8000 ? 0.3 * Math.sin(i * 0.05) : 0);
    const detector = new SilenceDetector();
    expect(detector.push(x)).toEqual([]);
    const [last] = detector.finish();
    expect(last!.startSample).toBeGreaterThanOrEqual(8000 - 320);
    expect(last!.endSample).toBe(16000);
    expect(() => detector.push(x)).toThrow(/'push' after 'finish'/);
  });

  it('treats NaN frames as silence without disturbing the noise floor (NaN policy)', () => {
    const withNaN = speech.samples.slice();
    const gap = speech.bursts[2]!.start - 4000;
    withNaN.fill(NaN, gap, gap + 800);
    const clean = detectSpeechSegments(speech.samples);
    const dirty = detectSpeechSegments(withNaN);
    expect(dirty).toEqual(clean);
  });

  it('splits speech across pauses longer than the hangover and bridges shorter ones', () => {
    const rate = 16000;
    const x = new Float32Array(rate * 3);
    const random = mulberry32(9);
    for (let i = 0; i < x.length; i++) x[i] = (random() - 0.5) * 1e-3;
    const loud = (from: number, to: number) => { for (let i = from; i < to; i++) x[i] = x[i]! + 0.3 * Math.sin(i * 0.07); };
    loud(4000, 12000);
    loud(12000 + 0.1 * rate, 20000); // 100 ms pause: bridged (hangover 250 ms)
    loud(20000 + 0.6 * rate, 40000); // 600 ms pause: split
    const segments = detectSpeechSegments(x);
    expect(segments).toHaveLength(2);
    expect(segments[0]!.endSample).toBeGreaterThan(19000);
    expect(segments[1]!.startSample).toBeGreaterThan(29000);
  });

  it('refuses options that break hysteresis, naming them', () => {
    expect(() => new SilenceDetector({ onsetDb: 3, offsetDb: 6 })).toThrow(KernelArgumentError);
    expect(() => new SilenceDetector({ onsetDb: 3, offsetDb: 6 })).toThrow(/'offsetDb' \(6\) must not exceed 'onsetDb' \(3\)/);
    expect(() => new SilenceDetector({ sampleRate: 12.5 })).toThrow(/'sampleRate' must be an integer/);
  });
});
