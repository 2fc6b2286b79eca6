/** Sample rates the resampler accepts (the rates speech and music pipelines meet). */
export const SUPPORTED_SAMPLE_RATES = [8000, 16000, 22050, 44100, 48000] as const;

/** A polyphase windowed-sinc filter bank for resampling by up/down (a reduced fraction). */
export interface ResampleFilter {
  readonly up: number;
  readonly down: number;
  /** Taps per phase, a multiple of 4 (the kernel's SIMD width). */
  readonly taps: number;
  /** Zeros placed before the input so output 0 reads a full window: taps / 2 - 1. */
  readonly padLeft: number;
  /** `up` rows of `taps` weights: row p is the filter for output time base + p / up. */
  readonly bank: Float32Array;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

/** Blackman window on u in [-1, 1] (about -74 dB sidelobes). */
function blackman(u: number): number {
  if (Math.abs(u) >= 1) return 0;
  return 0.42 + 0.5 * Math.cos(Math.PI * u) + 0.08 * Math.cos(2 * Math.PI * u);
}

const filterCache = new Map<string, ResampleFilter>();

/**
 * Designs (once per rate pair and quality) the anti-aliasing low-pass filter bank: cutoff at
 * `rolloff` times the lower Nyquist frequency, `zeroCrossings` sinc lobes on each side, each
 * phase normalized to unit DC gain.
 */
export function designResampleFilter(fromRate: number, toRate: number, zeroCrossings = 16, rolloff = 0.94): ResampleFilter {
  const key = `${fromRate}|${toRate}|${zeroCrossings}|${rolloff}`;
  const cached = filterCache.get(key);
  if (cached) return cached;
  const g = gcd(fromRate, toRate);
  const up = toRate / g;
  const down = fromRate / g;
  const cutoff = Math.min(1, up / down) * rolloff;
  const halfWidth = Math.ceil(zeroCrossings / cutoff);
  const taps = Math.ceil((2 * halfWidth) / 4) * 4;
  const padLeft = taps / 2 - 1;
  const bank = new Float32Array(up * taps);
  for (let p = 0; p < up; p++) {
    let sum = 0;
    const row = new Float64Array(taps);
    for (let k = 0; k < taps; k++) {
      const d = k - padLeft - p / up;
      row[k] = cutoff * sinc(cutoff * d) * blackman(d / (taps / 2));
      sum += row[k]!;
    }
    for (let k = 0; k < taps; k++) bank[p * taps + k] = row[k]! / sum;
  }
  const filter = { up, down, taps, padLeft, bank };
  filterCache.set(key, filter);
  return filter;
}

/** Output length for `inputLength` samples: ceil(inputLength * up / down). */
export function resampledLength(inputLength: number, up: number, down: number): number {
  return Math.ceil((inputLength * up) / down);
}
