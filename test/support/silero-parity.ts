import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { SileroVadKernel } from '../../kernels/silero/silero-kernels';
import type { SileroSampleRate, SileroWeights } from '../../kernels/silero/silero-weights-artifact';
import { sileroReferenceStep } from '../../kernels/silero/silero-reference';
import { extractSileroWeights } from '../../layers/models/model-builders/silero-kernel-weights';
import { sileroStateBound, sileroStateTolerance, sileroWindows } from '../../layers/models/model-builders/silero-kernel-artifact';
import { SILERO_VAD_FILE } from '../../layers/models/default-models';

/** The pinned silero_vad_v5.onnx (its sha256 is checked by the models-layer build). */
export const sileroModelBytes = (): Uint8Array => new Uint8Array(readFileSync(SILERO_VAD_FILE));

export async function sileroOnnxSession(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1, logSeverityLevel: 3 });
}

let weights: SileroWeights | undefined;

/** The pinned file's weights (extracted once per process). */
export function sileroWeights(bytes: Uint8Array): SileroWeights {
  weights ??= extractSileroWeights(bytes);
  return weights;
}

export const sileroKernelFromPinnedFile = (bytes: Uint8Array): SileroVadKernel => new SileroVadKernel(sileroWeights(bytes));

/** One onnxruntime-node step: windows [batch, n], state [2, batch, 128]. */
export async function onnxStep(session: ort.InferenceSession, rate: SileroSampleRate, windows: Float32Array, state: Float32Array, batch: number): Promise<{ probabilities: Float32Array; state: Float32Array }> {
  const out = await session.run({
    input: new ort.Tensor('float32', windows, [batch, windows.length / batch]),
    state: new ort.Tensor('float32', state, [2, batch, 128]),
    sr: new ort.Tensor('int64', BigInt64Array.of(BigInt(rate)), []),
  });
  return { probabilities: Float32Array.from(out.output!.data as Float32Array), state: Float32Array.from(out.stateN!.data as Float32Array) };
}

/** Worst differences of a stream run on both, and the frames that broke the tolerance. */
export interface StreamParity {
  readonly frames: number;
  /** Each kernel step from onnxruntime's carried state (the same frames, the same inputs). */
  readonly stepProbability: number;
  readonly stepState: number;
  /** Frames where a state value differed by more than sileroStateTolerance (the 1e-4 goal). */
  readonly stateBreaches: number;
  /** Frames where one differed by more than sileroStateBound; each is then judged against the float64 reference. */
  readonly stateBoundBreaches: number;
  /**
   * Frames past the bound that the float64 reference does not explain: the kernels' state is
   * farther from float64 (worst value) than max(bound, 2 × onnxruntime-node's worst distance from
   * it on that frame). Never allowed.
   */
  readonly unexplained: number;
  /** On the bound-breaching frames: the largest distance from float64 of onnxruntime-node and of the kernels. */
  readonly onnxFromFloat64: number;
  readonly kernelFromFloat64: number;
  /** Each side carrying its own state from the stream's start. */
  readonly carriedProbability: number;
  readonly carriedState: number;
  /** Largest |state| onnxruntime carried. */
  readonly largestState: number;
}

/** Runs `samples` through both, state carried (zeros at start), as upstream's wrapper feeds the model. */
export async function streamParity(session: ort.InferenceSession, kernel: SileroVadKernel, kernelWeights: SileroWeights, rate: SileroSampleRate, samples: Float32Array): Promise<StreamParity> {
  let state: Float32Array = new Float32Array(256);
  let own: Float32Array = new Float32Array(256);
  const worst = { frames: 0, stepProbability: 0, stepState: 0, stateBreaches: 0, stateBoundBreaches: 0, unexplained: 0, onnxFromFloat64: 0, kernelFromFloat64: 0, carriedProbability: 0, carriedState: 0, largestState: 0 };
  for (const window of sileroWindows(samples, rate)) {
    const expected = await onnxStep(session, rate, window, state, 1);
    const step = kernel.step(rate, window, state);
    const carried = kernel.step(rate, window, own);
    worst.stepProbability = Math.max(worst.stepProbability, Math.abs(expected.probabilities[0]! - step.probabilities[0]!));
    worst.carriedProbability = Math.max(worst.carriedProbability, Math.abs(expected.probabilities[0]! - carried.probabilities[0]!));
    let breach = false;
    let boundBreach = false;
    for (let i = 0; i < 256; i++) {
      const e = expected.state[i]!;
      const d = Math.abs(e - step.state[i]!);
      if (!(d <= sileroStateTolerance(e))) breach = true;
      if (!(d <= sileroStateBound(e))) boundBreach = true;
      worst.stepState = Math.max(worst.stepState, d);
      worst.carriedState = Math.max(worst.carriedState, Math.abs(e - carried.state[i]!));
      worst.largestState = Math.max(worst.largestState, Math.abs(e));
    }
    if (breach) worst.stateBreaches++;
    if (boundBreach) {
      worst.stateBoundBreaches++;
      // Conditioning is the frame's: compare the kernels' worst distance from float64 with onnxruntime-node's on the same frame.
      const exact = sileroReferenceStep(kernelWeights.rates[rate], window, state).state;
      let onnx = 0;
      let ours = 0;
      let scale = 0;
      for (let i = 0; i < 256; i++) {
        onnx = Math.max(onnx, Math.abs(expected.state[i]! - exact[i]!));
        ours = Math.max(ours, Math.abs(step.state[i]! - exact[i]!));
        scale = Math.max(scale, Math.abs(exact[i]!));
      }
      worst.onnxFromFloat64 = Math.max(worst.onnxFromFloat64, onnx);
      worst.kernelFromFloat64 = Math.max(worst.kernelFromFloat64, ours);
      if (!(ours <= Math.max(sileroStateBound(scale), 2 * onnx))) worst.unexplained++;
    }
    state = expected.state;
    own = carried.state;
    worst.frames++;
  }
  return worst;
}
