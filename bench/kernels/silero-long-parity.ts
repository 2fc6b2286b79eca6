// npm run parity:silero — the long parity run of issue 11: 10 minutes of speech-like audio per rate
// (16 and 8 kHz) through the kernels and onnxruntime-node (the pinned silero_vad_v5.onnx), state
// carried throughout, every frame compared; then each edge signal for 60 s. Writes
// bench/results/silero-parity.json; exits 1 when a probability differs by more than 1e-4 or a state
// value passes the bound (layers/models/model-builders/silero-kernel-artifact.ts, SILERO_PARITY) further
// from the float64 reference than twice onnxruntime-node's own distance from it.
import { writeBenchResults, type BenchResult } from '../bench-results';
import { syntheticSpeechLikeAudio } from '../../kernels/audio/synthetic-speech-signal';
import { SILERO_EDGE_SIGNALS, sileroEdgeSignal } from '../../kernels/silero/silero-test-signals';
import { SILERO_SAMPLE_RATES } from '../../kernels/silero/silero-weights-artifact';
import { SILERO_PARITY } from '../../layers/models/model-builders/silero-kernel-artifact';
import { sileroKernelFromPinnedFile, sileroModelBytes, sileroOnnxSession, sileroWeights, streamParity, type StreamParity } from '../../test/support/silero-parity';

const SPEECH_SECONDS = 600;
const EDGE_SECONDS = 60;

async function main(): Promise<void> {
  const started = performance.now();
  const bytes = sileroModelBytes();
  const session = await sileroOnnxSession(bytes);
  const kernel = sileroKernelFromPinnedFile(bytes);
  const weights = sileroWeights(bytes);
  const results: BenchResult[] = [];
  let failed = false;
  const record = (name: string, p: StreamParity): void => {
    const ok = p.stepProbability <= SILERO_PARITY.probability && p.carriedProbability <= SILERO_PARITY.probability && p.unexplained === 0;
    failed ||= !ok;
    const line = `${name}: ${p.frames} frames, max |Δp| ${p.stepProbability.toExponential(2)} (own state carried ${p.carriedProbability.toExponential(2)}), max |Δstate| ${p.stepState.toExponential(2)} `
      + `(own state carried ${p.carriedState.toExponential(2)}), frames past 1e-4 + 4 ulps ${p.stateBreaches}, past the bound ${p.stateBoundBreaches}`
      + `${p.stateBoundBreaches > 0 ? ` (there, from float64: onnxruntime-node ${p.onnxFromFloat64.toExponential(2)}, kernels ${p.kernelFromFloat64.toExponential(2)}; unexplained frames ${p.unexplained})` : ''}, largest |state| ${p.largestState.toFixed(1)}`;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${line}`);
    results.push({ case: `silero-parity/${name}/probability`, metric: 'max_abs_diff', value: Number(p.stepProbability.toExponential(3)), lower_is_better: true, target_ratio: SILERO_PARITY.probability, met: p.stepProbability <= SILERO_PARITY.probability, note: line });
    results.push({ case: `silero-parity/${name}/state`, metric: 'max_abs_diff', value: Number(p.stepState.toExponential(3)), lower_is_better: true, met: p.unexplained === 0, note: line });
  };
  try {
    for (const rate of SILERO_SAMPLE_RATES) {
      const { samples } = syntheticSpeechLikeAudio({ seconds: SPEECH_SECONDS, sampleRate: rate, seed: 61 });
      record(`${rate / 1000}k/speech-like-${SPEECH_SECONDS}s`, await streamParity(session, kernel, weights, rate, samples));
      for (const signal of SILERO_EDGE_SIGNALS) record(`${rate / 1000}k/${signal}-${EDGE_SECONDS}s`, await streamParity(session, kernel, weights, rate, sileroEdgeSignal(signal, EDGE_SECONDS, rate)));
    }
  } finally {
    kernel.dispose();
    await session.release();
  }
  console.log(`parity:silero: wrote ${writeBenchResults('silero-parity', results)} in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  if (failed) process.exit(1);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : String(error));
  process.exit(1);
});
