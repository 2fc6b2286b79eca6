import { dot, f32At } from './offsets';

/**
 * Polyphase windowed-sinc resampling by upFactor/downFactor (a reduced fraction).
 * `src` holds the input with the filter's left padding already in front: output j reads
 * taps samples starting at src[floor(j*down/up)], weighted by the bank's row for phase
 * (j*down) mod up. `bank` is up rows of `taps` float32 weights (taps a multiple of 4).
 */
export function resamplePolyphase(src: usize, outLength: i32, upFactor: i32, downFactor: i32, bank: usize, taps: i32, dst: usize): void {
  const baseStep = downFactor / upFactor;
  const phaseStep = downFactor % upFactor;
  let base = 0;
  let phase = 0;
  for (let j = 0; j < outLength; j++) {
    store<f32>(f32At(dst, j), dot(f32At(src, base), f32At(bank, phase * taps), taps));
    base += baseStep;
    phase += phaseStep;
    if (phase >= upFactor) {
      phase -= upFactor;
      base++;
    }
  }
}
