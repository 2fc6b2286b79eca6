import type { InferenceSession } from 'onnxruntime-node';
import { syntheticSpeechLikeAudio } from '../../../kernels/audio/synthetic-speech-signal';
import type { SileroVadKernel } from '../../../kernels/silero/silero-kernels';
import { SILERO_EDGE_SIGNALS, sileroEdgeSignal } from '../../../kernels/silero/silero-test-signals';
import { SILERO_SAMPLE_RATES } from '../../../kernels/silero/silero-weights-artifact';
import { sileroWindows, SILERO_PARITY, sileroStateBound } from '../../../layers/models/model-builders/silero-kernel-artifact';
import { onnxStep, sileroKernelFromPinnedFile, sileroModelBytes, sileroOnnxSession, sileroWeights, streamParity } from '../../support/silero-parity';
import type { SileroWeights } from '../../../kernels/silero/silero-weights-artifact';

// The full 10 minutes at both rates run in `npm run parity:silero` (bench/kernels/silero-long-parity.ts, about 20 s);
// here 20 s of speech-like audio per rate, 3 s of each edge signal and the batched call.
describe('Silero VAD v5 kernels against onnxruntime-node (pinned silero_vad_v5.onnx)', () => {
  let session: InferenceSession;
  let kernel: SileroVadKernel;
  let weights: SileroWeights;
  beforeAll(async () => {
    const bytes = sileroModelBytes();
    weights = sileroWeights(bytes);
    session = await sileroOnnxSession(bytes);
    kernel = sileroKernelFromPinnedFile(bytes);
  });
  afterAll(async () => {
    kernel.dispose();
    await session.release();
  });

  describe.each(SILERO_SAMPLE_RATES)('at %i Hz', (rate) => {
    it('matches every frame of 20 s of speech-like audio with the state carried', async () => {
      const { samples } = syntheticSpeechLikeAudio({ seconds: 20, sampleRate: rate, seed: 21 });
      const parity = await streamParity(session, kernel, weights, rate, samples);
      expect(parity.frames).toBe(625);
      expect(parity.stepProbability).toBeLessThanOrEqual(SILERO_PARITY.probability);
      expect(parity.stateBreaches).toBe(0);
      expect(parity.unexplained).toBe(0);
      // Each side carrying its own state throughout still gives the same probabilities.
      expect(parity.carriedProbability).toBeLessThanOrEqual(SILERO_PARITY.probability);
    });

    it.each(SILERO_EDGE_SIGNALS)('matches every frame of 3 s of %s', async (signal) => {
      const parity = await streamParity(session, kernel, weights, rate, sileroEdgeSignal(signal, 3, rate));
      expect(parity.stepProbability).toBeLessThanOrEqual(SILERO_PARITY.probability);
      // Loud tones make the gates cancel large terms: on a few frames onnxruntime-node itself is
      // 1e-4 to 4e-3 from the float64 reference; on such a frame the kernels must be no farther from
      // it than twice onnxruntime-node is (npm run parity:silero has the 60 s figures).
      expect(parity.unexplained).toBe(0);
      expect(parity.stateBreaches).toBeLessThanOrEqual(Math.ceil(0.02 * parity.frames));
      expect(parity.carriedProbability).toBeLessThanOrEqual(SILERO_PARITY.probability);
    });

    it('matches the batched call: 7 streams of different signals in one call per frame, each state carried', async () => {
      const streams = [
        syntheticSpeechLikeAudio({ seconds: 3, sampleRate: rate, seed: 31 }).samples,
        ...SILERO_EDGE_SIGNALS.map((s) => sileroEdgeSignal(s, 3, rate, 7)),
        syntheticSpeechLikeAudio({ seconds: 3, sampleRate: rate, seed: 32, speechDbfs: -10 }).samples,
      ];
      const batch = streams.length;
      const windows = streams.map((s) => [...sileroWindows(s, rate)]);
      const n = windows[0]![0]!.length;
      let expectedState: Float32Array = new Float32Array(2 * batch * 128);
      let state: Float32Array = new Float32Array(2 * batch * 128);
      let worstProbability = 0;
      for (let f = 0; f < windows[0]!.length; f++) {
        const rows = new Float32Array(batch * n);
        windows.forEach((w, b) => rows.set(w[f]!, b * n));
        const expected = await onnxStep(session, rate, rows, expectedState, batch);
        const ours = kernel.step(rate, rows, state, batch);
        for (let b = 0; b < batch; b++) worstProbability = Math.max(worstProbability, Math.abs(expected.probabilities[b]! - ours.probabilities[b]!));
        // The step from onnxruntime's state stays within the bound (the sweep stream passes the 1e-4 goal on a frame); then both carry their own.
        const fromExpected = kernel.step(rate, rows, expectedState, batch);
        for (let i = 0; i < expected.state.length; i++) {
          if (!(Math.abs(expected.state[i]! - fromExpected.state[i]!) <= sileroStateBound(expected.state[i]!))) {
            throw new Error(`frame ${f}: state[${i}] ${fromExpected.state[i]} vs onnxruntime-node ${expected.state[i]}`);
          }
        }
        expectedState = expected.state;
        state = ours.state;
      }
      expect(worstProbability).toBeLessThanOrEqual(SILERO_PARITY.probability);
    });
  });
});
