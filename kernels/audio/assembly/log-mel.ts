import { dot, f32At, i32At } from './offsets';
import { rfftPower } from './fft';

// Mel bands are stored sparsely: `bands` holds three int32 per band (first FFT bin, bin count,
// offset of its weights in `weights`), so each band is a short dot product over its own bins.
@inline function bandFirstBin(bands: usize, b: i32): i32 { return load<i32>(i32At(bands, 3 * b)); }
@inline function bandBinCount(bands: usize, b: i32): i32 { return load<i32>(i32At(bands, 3 * b + 1)); }
@inline function bandWeightOffset(bands: usize, b: i32): i32 { return load<i32>(i32At(bands, 3 * b + 2)); }

/**
 * Log-mel spectrogram, frame-major: out[f * nMels + b] = ln(max(floor, sum_k mel[b][k] * |X_f[k]|^2)),
 * where X_f is the real FFT (n = 2m points) of src[f*hop .. f*hop + winLength) times `window`,
 * zero-padded to n. `frame` (n floats) and `power` (m + 1 floats) are scratch; `plan` is an
 * rfft plan for m (rfftPlanInit).
 */
export function logMelSpectrogram(
  src: usize, frames: i32, hop: i32, winLength: i32, window: usize,
  plan: usize, m: i32, frame: usize, power: usize,
  bands: usize, nMels: i32, weights: usize, logFloor: f32, out: usize,
): void {
  const n = 2 * m;
  for (let i = winLength; i < n; i++) store<f32>(f32At(frame, i), 0);
  for (let f = 0; f < frames; f++) {
    const start = f32At(src, f * hop);
    let i = 0;
    for (; i + 4 <= winLength; i += 4) {
      v128.store(f32At(frame, i), f32x4.mul(v128.load(f32At(start, i)), v128.load(f32At(window, i))));
    }
    for (; i < winLength; i++) store<f32>(f32At(frame, i), load<f32>(f32At(start, i)) * load<f32>(f32At(window, i)));
    rfftPower(plan, m, frame, power);
    const row = f32At(out, f * nMels);
    for (let b = 0; b < nMels; b++) {
      const energy = dot(f32At(power, bandFirstBin(bands, b)), f32At(weights, bandWeightOffset(bands, b)), bandBinCount(bands, b));
      // NaN fails the comparison, so a NaN frame stays NaN instead of turning into the floor.
      store<f32>(f32At(row, b), Mathf.log(energy < logFloor ? logFloor : energy));
    }
  }
}
