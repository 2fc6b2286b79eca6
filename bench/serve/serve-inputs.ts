import type { HostTensor } from '../../lib/protocol/tensor';
import { mulberry32 } from '../../kernels/seeded-random/seeded-random';

/** One benchmarked request: a model and the tensors sent to it. */
export interface ServeCase {
  readonly model: string;
  readonly batch: number;
  /** e.g. `iris-classifier/b1`, `text-detector/b1-3x96x96`. */
  readonly label: string;
  readonly inputs: readonly HostTensor[];
}

/** Deterministic floats in [0, 1) (mulberry32), so every run sends the same tensors. */
export function seededFloats(count: number, seed = 0x9e3779b9): Float32Array {
  const next = mulberry32(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = next();
  return out;
}

function fp32(name: string, shape: number[], seed?: number): HostTensor {
  return { name, datatype: 'FP32', shape, data: seededFloats(shape.reduce((a, b) => a * b, 1), seed) };
}

/** [batch, D] FP32 `input` of the iris classifier and the benchmark MLPs. */
export function rowsCase(model: string, width: number, batch: number): ServeCase {
  return { model, batch, label: `${model}/b${batch}`, inputs: [fp32('input', [batch, width])] };
}

/** Silero VAD: one 32 ms frame (512 samples + 64 of context at 16 kHz) and a zero recurrent state; batch 1 only. */
export function sileroCase(): ServeCase {
  return {
    model: 'silero-vad',
    batch: 1,
    label: 'silero-vad/b1-576',
    inputs: [
      { name: 'input', datatype: 'FP32', shape: [1, 576], data: seededFloats(576).map((v) => v * 0.2 - 0.1) },
      { name: 'state', datatype: 'FP32', shape: [2, 1, 128], data: new Float32Array(256) },
      { name: 'sr', datatype: 'INT64', shape: [], data: BigInt64Array.of(16000n) },
    ],
  };
}

/** The text detector (PP-OCRv4 det) on small images: `batch` x 3 x side x side. */
export function textDetectorCase(batch: number, side = 96): ServeCase {
  return { model: 'text-detector', batch, label: `text-detector/b${batch}-3x${side}x${side}`, inputs: [fp32('x', [batch, 3, side, side])] };
}
