import type { SileroRateWeights } from './silero-weights-artifact';

/** Largest deviation the STFT basis may have from window × DFT for the kernels' FFT path (float32 rounding of the exported basis is ~6e-8). */
export const WINDOWED_DFT_TOLERANCE = 1e-6;

/**
 * How far the graph's STFT basis is from an analysis window times the DFT: row k is
 * w[j]·cos(2πkj/N), row bins + k is −w[j]·sin(2πkj/N), with w the basis' first row (k = 0).
 * The kernels compute the STFT with an FFT of the windowed frame, which is the same sum only when
 * this is within WINDOWED_DFT_TOLERANCE; the build refuses a model where it is not.
 */
export function windowedDftDeviation(w: Pick<SileroRateWeights, 'filterLength' | 'bins' | 'basis'>): number {
  const n = w.filterLength;
  let deviation = 0;
  for (let k = 0; k < w.bins; k++) {
    for (let j = 0; j < n; j++) {
      const window = w.basis[j]!;
      const angle = (2 * Math.PI * ((k * j) % n)) / n;
      deviation = Math.max(
        deviation,
        Math.abs(window * Math.cos(angle) - w.basis[k * n + j]!),
        Math.abs(-window * Math.sin(angle) - w.basis[(w.bins + k) * n + j]!),
      );
    }
  }
  return deviation;
}
