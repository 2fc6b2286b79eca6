import { SileroVadKernel } from '../../../kernels/silero/silero-kernels';
import { sileroStateLength, sileroWindowSamples } from '../../../kernels/silero/silero-reference';
import { SILERO_HIDDEN, type SileroSampleRate } from '../../../kernels/silero/silero-weights-artifact';
import { InvalidRequestError, ModelVerificationError } from '../../errors/hotpath-error';
import type { HostTensor, TensorSignature } from '../../protocol/tensor';
import type { KernelModel, KernelModelKind } from '../kernel-backend';

/** The executor's name: manifest `kernel.executor` of silero-vad, artifact `model.silero-vad-v5.bin`. */
export const SILERO_VAD_EXECUTOR = 'silero-vad-v5';

/** Exactly what silero_vad_v5.onnx declares, so clients see the same model whichever backend serves it. */
export const SILERO_VAD_INPUTS: readonly TensorSignature[] = [
  { name: 'input', datatype: 'FP32', shape: [-1, -1] },
  { name: 'state', datatype: 'FP32', shape: [2, -1, SILERO_HIDDEN] },
  { name: 'sr', datatype: 'INT64', shape: [] },
];
export const SILERO_VAD_OUTPUTS: readonly TensorSignature[] = [
  { name: 'output', datatype: 'FP32', shape: [-1, 1] },
  { name: 'stateN', datatype: 'FP32', shape: [-1, -1, -1] },
];

function input(inputs: readonly HostTensor[], name: string): HostTensor {
  const t = inputs.find((i) => i.name === name);
  if (!t) throw new InvalidRequestError(`input '${name}' is missing (inputs given: ${inputs.map((i) => `'${i.name}'`).join(', ') || 'none'})`);
  return t;
}

function sampleRate(inputs: readonly HostTensor[]): SileroSampleRate {
  const sr = input(inputs, 'sr');
  if (!(sr.data instanceof BigInt64Array) || sr.data.length !== 1) throw new InvalidRequestError(`input 'sr': expected one INT64 value, got ${sr.datatype} [${sr.shape.join(',')}]`);
  const rate = Number(sr.data[0]);
  if (rate !== 16000 && rate !== 8000) throw new InvalidRequestError(`input 'sr': expected 16000 or 8000 (Hz), got ${rate}`);
  return rate;
}

/**
 * Silero VAD v5 served by the kernels with the graph's contract: `input` [B, 576] at 16 kHz
 * ([B, 288] at 8 kHz: 64 or 32 samples of context, then 512 or 256 new), `state` [2, B, 128],
 * `sr` → `output` [B, 1] and `stateN` [2, B, 128].
 */
export function createSileroVadModel(kernel: SileroVadKernel): KernelModel {
  return {
    inputs: SILERO_VAD_INPUTS,
    outputs: SILERO_VAD_OUTPUTS,
    run(inputs) {
      const rate = sampleRate(inputs);
      const window = input(inputs, 'input');
      const state = input(inputs, 'state');
      const n = sileroWindowSamples(rate);
      if (!(window.data instanceof Float32Array) || window.shape.length !== 2 || window.shape[1] !== n || window.shape[0]! < 1) {
        throw new InvalidRequestError(`input 'input': expected FP32 [-1,${n}] at ${rate} Hz, got ${window.datatype} [${window.shape.join(',')}]`);
      }
      const batch = window.shape[0]!;
      if (!(state.data instanceof Float32Array) || state.shape.length !== 3 || state.shape[0] !== 2 || state.shape[1] !== batch || state.shape[2] !== SILERO_HIDDEN || state.data.length !== sileroStateLength(batch)) {
        throw new InvalidRequestError(`input 'state': expected FP32 [2,${batch},${SILERO_HIDDEN}] (one state per stream of 'input'), got ${state.datatype} [${state.shape.join(',')}]`);
      }
      const step = kernel.step(rate, window.data, state.data, batch);
      return [
        { name: 'output', datatype: 'FP32', shape: [batch, 1], data: step.probabilities },
        { name: 'stateN', datatype: 'FP32', shape: [2, batch, SILERO_HIDDEN], data: step.state },
      ];
    },
    dispose() {
      kernel.dispose();
    },
  };
}

/** The kernel backend's executor for silero-vad's kernel artifact (`*.silero-vad-v5.bin`, kernels/silero/silero-weights-artifact.ts). */
export const sileroVadExecutor: KernelModelKind = {
  kind: SILERO_VAD_EXECUTOR,
  fileSuffix: `.${SILERO_VAD_EXECUTOR}.bin`,
  load(bytes, model) {
    let kernel: SileroVadKernel;
    try {
      kernel = SileroVadKernel.fromArtifact(bytes);
    } catch (cause) {
      throw new ModelVerificationError(`model '${model.name}': ${(cause as Error).message}`, cause);
    }
    return createSileroVadModel(kernel);
  },
};
