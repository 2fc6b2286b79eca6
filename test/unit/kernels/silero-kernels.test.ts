import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { SileroVadKernel } from '../../../kernels/silero/silero-kernels';
import { sileroReferenceBatch, sileroReferenceStep, sileroStateLength, sileroWindowSamples } from '../../../kernels/silero/silero-reference';
import { decodeSileroWeights, encodeSileroWeights, SILERO_SAMPLE_RATES, type SileroSampleRate, type SileroWeights } from '../../../kernels/silero/silero-weights-artifact';
import { WINDOWED_DFT_TOLERANCE, windowedDftDeviation } from '../../../kernels/silero/stft-basis';
import { KernelArgumentError } from '../../../kernels/kernel-arguments/kernel-argument-checks';
import { extractSileroWeights } from '../../../layers/models/model-builders/silero-kernel-weights';
import { SILERO_PARITY, sileroStateBound } from '../../../layers/models/model-builders/silero-kernel-artifact';
import { SILERO_VAD_FILE } from '../../../layers/models/default-models';

const weights: SileroWeights = extractSileroWeights(new Uint8Array(readFileSync(SILERO_VAD_FILE)));
const artifact = encodeSileroWeights(weights);

/** Random windows and states for `batch` streams: audio in [-1, 1], h in [-1, 1], c in [-30, 30]. */
const streamsArbitrary = (rate: SileroSampleRate) => fc.integer({ min: 1, max: 6 }).chain((batch) => fc.record({
  batch: fc.constant(batch),
  windows: fc.float32Array({ minLength: batch * sileroWindowSamples(rate), maxLength: batch * sileroWindowSamples(rate), min: -1, max: 1, noNaN: true }),
  h: fc.float32Array({ minLength: batch * 128, maxLength: batch * 128, min: -1, max: 1, noNaN: true }),
  c: fc.float32Array({ minLength: batch * 128, maxLength: batch * 128, min: -30, max: 30, noNaN: true }),
}));

describe('silero weights extracted from silero_vad_v5.onnx', () => {
  it('reads each rate branch\'s STFT geometry, encoder strides and shapes from the graph', () => {
    expect(weights.rates[16000]).toMatchObject({ filterLength: 256, hop: 128, rightPad: 64, bins: 129 });
    expect(weights.rates[8000]).toMatchObject({ filterLength: 128, hop: 64, rightPad: 32, bins: 65 });
    for (const rate of SILERO_SAMPLE_RATES) {
      expect(weights.rates[rate].encoder.map((c) => [c.inChannels, c.outChannels, c.stride])).toEqual([
        [weights.rates[rate].bins, 128, 1], [128, 64, 2], [64, 64, 2], [64, 128, 1],
      ]);
      expect(windowedDftDeviation(weights.rates[rate])).toBeLessThan(WINDOWED_DFT_TOLERANCE);
    }
  });

  it('round-trips through the HPSILV05 artifact', () => {
    const decoded = decodeSileroWeights(artifact);
    for (const rate of SILERO_SAMPLE_RATES) {
      const same = (a: Float32Array, b: Float32Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
      expect(same(decoded.rates[rate].basis, weights.rates[rate].basis)).toBe(true);
      expect(same(decoded.rates[rate].weightHh, weights.rates[rate].weightHh)).toBe(true);
      expect(same(decoded.rates[rate].encoder[0]!.weight, weights.rates[rate].encoder[0]!.weight)).toBe(true);
      expect(decoded.rates[rate].decoderBias).toBe(weights.rates[rate].decoderBias);
    }
  });

  it('refuses an artifact with a bad magic, cut short, or with a non-finite weight', () => {
    const badMagic = artifact.slice();
    badMagic[0] = 0x58;
    expect(() => decodeSileroWeights(badMagic)).toThrow(/bad magic/);
    expect(() => decodeSileroWeights(artifact.subarray(0, artifact.length - 4))).toThrow(/runs past the data section/);
    const nan = artifact.slice();
    new DataView(nan.buffer).setFloat32(nan.length - 4, Number.NaN, true);
    expect(() => decodeSileroWeights(nan)).toThrow(/non-finite/);
    expect(() => decodeSileroWeights(artifact.subarray(0, 10))).toThrow(KernelArgumentError);
  });

  it('refuses a graph that is not Silero VAD v5', () => {
    expect(() => extractSileroWeights(new Uint8Array([0x08, 0x07]))).toThrow(/silero weights/);
  });
});

describe('SileroVadKernel', () => {
  const kernel = SileroVadKernel.fromArtifact(artifact);
  afterAll(() => kernel.dispose());

  it.each(SILERO_SAMPLE_RATES)('matches the float64 reference on random windows and states, batches 1-6, at %i Hz', (rate) => {
    fc.assert(fc.property(streamsArbitrary(rate), ({ batch, windows, h, c }) => {
      const state = new Float32Array(sileroStateLength(batch));
      state.set(h, 0);
      state.set(c, batch * 128);
      const expected = sileroReferenceBatch(weights.rates[rate], windows, batch, state);
      const ours = kernel.step(rate, windows, state, batch);
      for (let b = 0; b < batch; b++) expect(Math.abs(ours.probabilities[b]! - expected.probabilities[b]!)).toBeLessThanOrEqual(SILERO_PARITY.probability);
      for (let i = 0; i < state.length; i++) expect(Math.abs(ours.state[i]! - expected.state[i]!)).toBeLessThanOrEqual(sileroStateBound(expected.state[i]!));
    }), { numRuns: 8, seed: 11 });
  });

  it('gives the reference\'s answer for digital silence from a zero state, and the same per stream batched or alone', () => {
    const rate = 16000;
    const n = sileroWindowSamples(rate);
    const zero = kernel.step(rate, new Float32Array(n), new Float32Array(256));
    const expected = sileroReferenceStep(weights.rates[rate], new Float32Array(n), new Float32Array(256));
    expect(zero.probabilities[0]).toBeCloseTo(expected.probability, 6);
    const windows = Float32Array.from({ length: 5 * n }, (_, i) => Math.sin(i * 0.37) * ((i % 7) - 3) / 4);
    const state = Float32Array.from({ length: sileroStateLength(5) }, (_, i) => Math.cos(i) * 2);
    const batched = kernel.step(rate, windows, state, 5);
    for (let b = 0; b < 5; b++) {
      const own = Float32Array.from([...state.subarray(b * 128, (b + 1) * 128), ...state.subarray((5 + b) * 128, (6 + b) * 128)]);
      const alone = kernel.step(rate, windows.subarray(b * n, (b + 1) * n), own);
      expect(Math.abs(alone.probabilities[0]! - batched.probabilities[b]!)).toBeLessThan(1e-6);
    }
  });

  it('answers NaN for a stream whose window holds NaN and leaves the other streams alone', () => {
    const n = sileroWindowSamples(8000);
    const windows = new Float32Array(3 * n).fill(0.01);
    windows[n + 100] = Number.NaN;
    const { probabilities } = kernel.step(8000, windows, new Float32Array(sileroStateLength(3)), 3);
    expect(Number.isNaN(probabilities[1])).toBe(true);
    expect(Number.isFinite(probabilities[0])).toBe(true);
    expect(probabilities[2]).toBe(probabilities[0]);
  });

  it('runs the debug build (bounds-checked) to the release build\'s answer', () => {
    const debug = SileroVadKernel.fromArtifact(artifact, { variant: 'debug' });
    const n = sileroWindowSamples(16000);
    const window = Float32Array.from({ length: 2 * n }, (_, i) => Math.sin(i / 9) * 0.5);
    const state = new Float32Array(sileroStateLength(2)).fill(0.25);
    expect(debug.step(16000, window, state, 2).probabilities).toEqual(kernel.step(16000, window, state, 2).probabilities);
    debug.dispose();
  });

  it('refuses a wrong window length, state length, rate or batch, saying what it expected', () => {
    expect(() => kernel.step(16000, new Float32Array(512), new Float32Array(256))).toThrow("'windows': expected batch × 576 = 576 samples at 16000 Hz, got 512");
    expect(() => kernel.step(8000, new Float32Array(288), new Float32Array(128))).toThrow("'state': expected [2, 1, 128] = 256 floats, got 128");
    expect(() => kernel.step(44100 as SileroSampleRate, new Float32Array(576), new Float32Array(256))).toThrow("'sampleRate' must be 16000 or 8000");
    expect(() => kernel.step(16000, new Float32Array(0), new Float32Array(0), 0)).toThrow(KernelArgumentError);
  });

  it('refuses a step after dispose', () => {
    const short = SileroVadKernel.fromArtifact(artifact);
    short.dispose();
    expect(() => short.step(16000, new Float32Array(576), new Float32Array(256))).toThrow('after dispose');
  });
});
