/**
 * Plain TypeScript reference implementations of the audio kernels: the tests compare the WASM
 * kernels against these, and the benchmarks use them as the "plain TS" anchor. Float64 math
 * unless a float32 result is the contract.
 */
import { analysisWindow, melFilterbank, resolveLogMelOptions, type LogMelOptions } from './mel-filterbank';
import { designResampleFilter, resampledLength } from './resample-filter-design';

/** int16 -> float in [-1, 1): x / 32768. */
export function pcm16ToFloat32Reference(samples: Int16Array): Float32Array {
  const out = new Float32Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = samples[i]! / 32768;
  return out;
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** float -> int16: round half to even of x * 32768 (computed in float32, as the kernel), clamp; NaN -> 0. */
export function float32ToPcm16Reference(samples: Float32Array): Int16Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const scaled = Math.fround(samples[i]! * 32768);
    out[i] = Number.isNaN(scaled) ? 0 : Math.max(-32768, Math.min(32767, roundHalfEven(scaled)));
  }
  return out;
}

/** Mean of the channels of each interleaved frame. */
export function downmixReference(interleaved: Float32Array, channels: number): Float32Array {
  const frames = Math.floor(interleaved.length / channels);
  const out = new Float32Array(frames);
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += interleaved[i * channels + c]!;
    out[i] = sum / channels;
  }
  return out;
}

/** y[i] = x[i] - a x[i-1], x[-1] = previous. */
export function preEmphasisReference(samples: Float32Array, coefficient: number, previous = 0): Float32Array {
  const out = new Float32Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = samples[i]! - coefficient * (i === 0 ? previous : samples[i - 1]!);
  return out;
}

/** Resampling by direct evaluation of each output (index arithmetic by division, not the kernel's increments). */
export function resampleReference(samples: Float32Array, fromRate: number, toRate: number): Float32Array {
  if (fromRate === toRate) return Float32Array.from(samples);
  const { up, down, taps, padLeft, bank } = designResampleFilter(fromRate, toRate);
  const out = new Float32Array(resampledLength(samples.length, up, down));
  for (let j = 0; j < out.length; j++) {
    const base = Math.floor((j * down) / up);
    const phase = (j * down) % up;
    let acc = 0;
    for (let k = 0; k < taps; k++) {
      const i = base - padLeft + k;
      if (i >= 0 && i < samples.length) acc += samples[i]! * bank[phase * taps + k]!;
    }
    out[j] = acc;
  }
  return out;
}

/** Naive O(n^2) DFT of a real signal: bins 0..n/2. The gold standard for the FFTs. */
export function dftReference(samples: ArrayLike<number>): { re: Float64Array; im: Float64Array } {
  const n = samples.length;
  const bins = Math.floor(n / 2) + 1;
  const re = new Float64Array(bins);
  const im = new Float64Array(bins);
  for (let k = 0; k < bins; k++) {
    let sr = 0;
    let si = 0;
    for (let t = 0; t < n; t++) {
      const angle = (-2 * Math.PI * ((k * t) % n)) / n;
      sr += samples[t]! * Math.cos(angle);
      si += samples[t]! * Math.sin(angle);
    }
    re[k] = sr;
    im[k] = si;
  }
  return { re, im };
}

const twiddleCache = new Map<number, { cos: Float64Array; sin: Float64Array }>();

/** cos/sin of -2*pi*k/n for k < n/2, computed once per size (as any reasonable plain FFT does). */
function twiddles(n: number): { cos: Float64Array; sin: Float64Array } {
  let t = twiddleCache.get(n);
  if (!t) {
    t = { cos: new Float64Array(n / 2), sin: new Float64Array(n / 2) };
    for (let k = 0; k < n / 2; k++) {
      t.cos[k] = Math.cos((-2 * Math.PI * k) / n);
      t.sin[k] = Math.sin((-2 * Math.PI * k) / n);
    }
    twiddleCache.set(n, t);
  }
  return t;
}

/** A plain TypeScript radix-2 FFT (float64, cached twiddles), power spectrum of a real frame of power-of-two length: bins 0..n/2. */
export function fftPowerReference(frame: ArrayLike<number>, scratchRe?: Float64Array, scratchIm?: Float64Array): Float64Array {
  const n = frame.length;
  const re = scratchRe ?? new Float64Array(n);
  const im = scratchIm ?? new Float64Array(n);
  const { cos, sin } = twiddles(n);
  for (let i = 0, j = 0; i < n; i++) {
    re[j] = frame[i]!;
    im[j] = 0;
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
  }
  for (let size = 2; size <= n; size <<= 1) {
    const half = size >> 1;
    const stride = n / size;
    for (let s = 0; s < n; s += size) {
      for (let k = 0; k < half; k++) {
        const wr = cos[k * stride]!;
        const wi = sin[k * stride]!;
        const a = s + k;
        const b = a + half;
        const tr = re[b]! * wr - im[b]! * wi;
        const ti = re[b]! * wi + im[b]! * wr;
        re[b] = re[a]! - tr;
        im[b] = im[a]! - ti;
        re[a] = re[a]! + tr;
        im[a] = im[a]! + ti;
      }
    }
  }
  const power = new Float64Array(n / 2 + 1);
  for (let k = 0; k <= n / 2; k++) power[k] = re[k]! * re[k]! + im[k]! * im[k]!;
  return power;
}

/** Number of whole frames of `winLength` at `hop` in `length` samples (no centre padding). */
export function frameCount(length: number, winLength: number, hop: number): number {
  return length < winLength ? 0 : 1 + Math.floor((length - winLength) / hop);
}

/** Log-mel spectrogram, frame-major [frames, nMels], with the plain TypeScript FFT. */
export function logMelSpectrogramReference(samples: Float32Array, options: LogMelOptions = {}): { data: Float32Array; frames: number; nMels: number } {
  const o = resolveLogMelOptions(options);
  const window = analysisWindow(o.window, o.winLength);
  const mel = melFilterbank(o);
  // Each band's non-zero bin range, so the plain version skips zero weights as the kernel does.
  const ranges = mel.map((row) => {
    const first = row.findIndex((w) => w > 0);
    let last = first;
    for (let k = row.length - 1; k > first; k--) if (row[k]! > 0) { last = k; break; }
    return first < 0 ? [0, -1] : [first, last];
  });
  const frames = frameCount(samples.length, o.winLength, o.hopLength);
  const data = new Float32Array(frames * o.nMels);
  const frame = new Float64Array(o.nFft);
  const re = new Float64Array(o.nFft);
  const im = new Float64Array(o.nFft);
  for (let f = 0; f < frames; f++) {
    for (let i = 0; i < o.winLength; i++) frame[i] = samples[f * o.hopLength + i]! * window[i]!;
    const power = fftPowerReference(frame, re, im);
    for (let b = 0; b < o.nMels; b++) {
      const row = mel[b]!;
      let energy = 0;
      const [first, last] = ranges[b]!;
      for (let k = first!; k <= last!; k++) energy += row[k]! * power[k]!;
      data[f * o.nMels + b] = Math.log(energy < o.logFloor ? o.logFloor : energy);
    }
  }
  return { data, frames, nMels: o.nMels };
}

/** Per-frame mean square and zero-crossing rate (pairs inside the frame whose signs differ; NaN counts as non-negative). */
export function frameFeaturesReference(samples: Float32Array, frameLength: number, hop: number): { meanSquare: Float32Array; zeroCrossingRate: Float32Array } {
  const frames = frameCount(samples.length, frameLength, hop);
  const meanSquare = new Float32Array(frames);
  const zeroCrossingRate = new Float32Array(frames);
  for (let f = 0; f < frames; f++) {
    const start = f * hop;
    let sum = 0;
    let crossings = 0;
    for (let i = 0; i < frameLength; i++) {
      const x = samples[start + i]!;
      sum += x * x;
      if (i > 0 && (samples[start + i - 1]! < 0) !== (x < 0)) crossings++;
    }
    meanSquare[f] = sum / frameLength;
    zeroCrossingRate[f] = frameLength > 1 ? crossings / (frameLength - 1) : 0;
  }
  return { meanSquare, zeroCrossingRate };
}
