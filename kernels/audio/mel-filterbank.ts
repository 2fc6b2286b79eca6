/** Log-mel spectrogram parameters (defaults: 25 ms window, 10 ms hop at 16 kHz, 512-point FFT, 80 HTK mel bands). */
export interface LogMelOptions {
  readonly sampleRate?: number;
  /** FFT size, a power of two >= winLength. */
  readonly nFft?: number;
  /** Window length in samples (the frame is zero-padded to nFft). */
  readonly winLength?: number;
  readonly hopLength?: number;
  readonly window?: 'hann' | 'hamming';
  readonly nMels?: number;
  readonly fMin?: number;
  /** Default sampleRate / 2. */
  readonly fMax?: number;
  readonly melScale?: 'htk' | 'slaney';
  /** Power floor before the natural log (ln(1e-10) = -23.03). */
  readonly logFloor?: number;
}

export type ResolvedLogMelOptions = Required<LogMelOptions>;

/** Options merged with defaults once, so each call does little work. */
export function resolveLogMelOptions(options: LogMelOptions = {}): ResolvedLogMelOptions {
  const sampleRate = options.sampleRate ?? 16000;
  const winLength = options.winLength ?? Math.round(sampleRate * 0.025);
  return {
    sampleRate,
    winLength,
    nFft: options.nFft ?? 2 ** Math.ceil(Math.log2(winLength)),
    hopLength: options.hopLength ?? Math.round(sampleRate * 0.01),
    window: options.window ?? 'hann',
    nMels: options.nMels ?? 80,
    fMin: options.fMin ?? 0,
    fMax: options.fMax ?? sampleRate / 2,
    melScale: options.melScale ?? 'htk',
    logFloor: options.logFloor ?? 1e-10,
  };
}

/** Periodic analysis window of `length` samples (as torch.hann_window / hamming_window). */
export function analysisWindow(kind: 'hann' | 'hamming', length: number): Float64Array {
  const w = new Float64Array(length);
  const a = kind === 'hann' ? 0.5 : 0.54;
  for (let i = 0; i < length; i++) w[i] = a - (1 - a) * Math.cos((2 * Math.PI * i) / length);
  return w;
}

function hzToMel(hz: number, scale: 'htk' | 'slaney'): number {
  if (scale === 'htk') return 2595 * Math.log10(1 + hz / 700);
  const fSp = 200 / 3;
  const minLogHz = 1000;
  if (hz < minLogHz) return hz / fSp;
  return minLogHz / fSp + Math.log(hz / minLogHz) / (Math.log(6.4) / 27);
}

function melToHz(mel: number, scale: 'htk' | 'slaney'): number {
  if (scale === 'htk') return 700 * (10 ** (mel / 2595) - 1);
  const fSp = 200 / 3;
  const minLogMel = 1000 / fSp;
  if (mel < minLogMel) return mel * fSp;
  return 1000 * Math.exp((Math.log(6.4) / 27) * (mel - minLogMel));
}

/** Triangular mel filters (no area normalization, as torchaudio's melscale_fbanks with norm=None): nMels rows of nFft/2 + 1 weights. */
export function melFilterbank(o: ResolvedLogMelOptions): Float64Array[] {
  const bins = o.nFft / 2 + 1;
  const melMin = hzToMel(o.fMin, o.melScale);
  const melMax = hzToMel(o.fMax, o.melScale);
  const edges: number[] = [];
  for (let i = 0; i < o.nMels + 2; i++) edges.push(melToHz(melMin + ((melMax - melMin) * i) / (o.nMels + 1), o.melScale));
  const rows: Float64Array[] = [];
  for (let b = 0; b < o.nMels; b++) {
    const row = new Float64Array(bins);
    const [lo, mid, hi] = [edges[b]!, edges[b + 1]!, edges[b + 2]!];
    for (let k = 0; k < bins; k++) {
      const f = (k * o.sampleRate) / o.nFft;
      row[k] = Math.max(0, Math.min((f - lo) / (mid - lo), (hi - f) / (hi - mid)));
    }
    rows.push(row);
  }
  return rows;
}

/** The filterbank packed for the kernel: per band (first bin, bin count, weight offset) and the non-zero weights. */
export interface PackedMelFilterbank {
  readonly bands: Int32Array;
  readonly weights: Float32Array;
}

export function packMelFilterbank(rows: readonly Float64Array[]): PackedMelFilterbank {
  const bands = new Int32Array(rows.length * 3);
  const weights: number[] = [];
  rows.forEach((row, b) => {
    let first = row.findIndex((w) => w > 0);
    let last = first;
    for (let k = row.length - 1; k >= 0; k--) if (row[k]! > 0) { last = k; break; }
    if (first < 0) first = last = 0;
    const count = row[first]! > 0 ? last - first + 1 : 0;
    bands.set([first, count, weights.length], 3 * b);
    for (let k = 0; k < count; k++) weights.push(row[first + k]!);
  });
  return { bands, weights: Float32Array.from(weights) };
}
