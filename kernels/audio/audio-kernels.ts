/**
 * TypeScript bindings of the audio kernels (kernels/build/audio.wasm): typed arrays in, fresh
 * typed arrays out. Each call takes an arena sized for all of its buffers up front (so memory
 * never grows while a view is in use), copies inputs in, runs the kernel, copies results out
 * and releases the arena. Arguments are checked here; the kernels never throw.
 */
import { loadKernelModule, type KernelInstance } from '../runtime/load-kernel-module';
import { arenaBytesForByteSizes, createArena, type WasmArena } from '../runtime/wasm-arena';
import { checkFinite, checkInteger, checkTypedArray, KernelArgumentError } from '../kernel-arguments/kernel-argument-checks';
import { analysisWindow, melFilterbank, packMelFilterbank, resolveLogMelOptions, type LogMelOptions, type PackedMelFilterbank } from './mel-filterbank';
import { designResampleFilter, resampledLength, SUPPORTED_SAMPLE_RATES } from './resample-filter-design';
import { frameCount } from './audio-reference';

/** The audio module's exports (pointers are byte offsets into its memory). */
export interface AudioKernelExports {
  pcm16ToFloat32(src: number, dst: number, n: number): void;
  float32ToPcm16(src: number, dst: number, n: number): void;
  downmixToMono(src: number, frames: number, channels: number, dst: number): void;
  preEmphasis(src: number, n: number, coefficient: number, previous: number, dst: number): void;
  resamplePolyphase(src: number, outLength: number, up: number, down: number, bank: number, taps: number, dst: number): void;
  rfftPlanBytes(m: number): number;
  rfftPlanInit(plan: number, m: number): void;
  rfft(plan: number, m: number, src: number, outRe: number, outIm: number): void;
  rfftPower(plan: number, m: number, src: number, outPower: number): void;
  logMelSpectrogram(
    src: number, frames: number, hop: number, winLength: number, window: number,
    plan: number, m: number, frame: number, power: number,
    bands: number, nMels: number, weights: number, logFloor: number, out: number,
  ): void;
  frameFeatures(src: number, frames: number, frameLength: number, hop: number, meanSquare: number, zeroCrossingRate: number): void;
}

/** The per-process audio kernel instance. */
export function audioKernels(): KernelInstance<AudioKernelExports> {
  return loadKernelModule<AudioKernelExports>('audio');
}

/** Runs `body` with an arena of `bytes` and always releases it. */
function withArena<T>(bytes: number, body: (arena: WasmArena, k: AudioKernelExports) => T): T {
  const instance = audioKernels();
  const arena = createArena(instance, bytes);
  try {
    return body(arena, instance.exports);
  } finally {
    arena.release();
  }
}

/** int16 PCM -> float32 in [-1, 1): x / 32768 (exact). */
export function pcm16ToFloat32(samples: Int16Array): Float32Array {
  checkTypedArray('samples', samples, Int16Array);
  const n = samples.length;
  return withArena(arenaBytesForByteSizes(2 * n, 4 * n), (arena, k) => {
    const src = arena.u8(2 * n);
    const dst = arena.f32(n);
    new Int16Array(src.view.buffer, src.view.byteOffset, n).set(samples);
    k.pcm16ToFloat32(src.ptr, dst.ptr, n);
    return dst.view.slice();
  });
}

/** float32 -> int16 PCM: round half to even of x * 32768, clamped to [-32768, 32767]; NaN becomes 0. */
export function float32ToPcm16(samples: Float32Array): Int16Array {
  checkTypedArray('samples', samples, Float32Array);
  const n = samples.length;
  return withArena(arenaBytesForByteSizes(4 * n, 2 * n), (arena, k) => {
    const src = arena.f32From(samples);
    const dst = arena.u8(2 * n);
    k.float32ToPcm16(src.ptr, dst.ptr, n);
    return new Int16Array(dst.view.buffer.slice(dst.view.byteOffset, dst.view.byteOffset + 2 * n));
  });
}

/** Interleaved `channels`-channel audio -> mono (mean of the channels). NaN in any channel gives NaN for that frame. */
export function downmixToMono(interleaved: Float32Array, channels: number): Float32Array {
  checkTypedArray('interleaved', interleaved, Float32Array);
  checkInteger('channels', channels, 1, 64);
  if (interleaved.length % channels !== 0) {
    throw new KernelArgumentError(`'interleaved' length ${interleaved.length} is not a multiple of 'channels' (${channels})`);
  }
  const frames = interleaved.length / channels;
  return withArena(arenaBytesForByteSizes(4 * interleaved.length, 4 * frames), (arena, k) => {
    const src = arena.f32From(interleaved);
    const dst = arena.f32(frames);
    k.downmixToMono(src.ptr, frames, channels, dst.ptr);
    return dst.view.slice();
  });
}

/** y[i] = x[i] - coefficient * x[i-1] with x[-1] = `previous` (pass the last sample of the previous chunk when streaming). */
export function preEmphasis(samples: Float32Array, coefficient = 0.97, previous = 0): Float32Array {
  checkTypedArray('samples', samples, Float32Array);
  checkFinite('coefficient', coefficient, -1, 1);
  checkFinite('previous', previous);
  const n = samples.length;
  return withArena(arenaBytesForByteSizes(4 * n, 4 * n), (arena, k) => {
    const src = arena.f32From(samples);
    const dst = arena.f32(n);
    k.preEmphasis(src.ptr, n, coefficient, previous, dst.ptr);
    return dst.view.slice();
  });
}

function checkSampleRate(name: string, rate: number): void {
  if (!(SUPPORTED_SAMPLE_RATES as readonly number[]).includes(rate)) {
    throw new KernelArgumentError(`'${name}' must be one of ${SUPPORTED_SAMPLE_RATES.join(', ')} Hz, got ${String(rate)}`);
  }
}

/**
 * Resamples mono audio between 8, 16, 22.05, 44.1 and 48 kHz with a polyphase windowed-sinc
 * anti-aliasing filter (Blackman window, 16 zero crossings, cutoff 0.94 of the lower Nyquist).
 * Output length is ceil(n * toRate / fromRate); samples beyond the input are taken as zero.
 * @example const at16k = resample(pcmAt48k, 48000, 16000);
 */
export function resample(samples: Float32Array, fromRate: number, toRate: number): Float32Array {
  checkTypedArray('samples', samples, Float32Array);
  checkSampleRate('fromRate', fromRate);
  checkSampleRate('toRate', toRate);
  if (fromRate === toRate) return samples.slice();
  const { up, down, taps, padLeft, bank } = designResampleFilter(fromRate, toRate);
  const outLength = resampledLength(samples.length, up, down);
  const padded = padLeft + samples.length + taps + 1;
  return withArena(arenaBytesForByteSizes(4 * padded, 4 * bank.length, 4 * outLength), (arena, k) => {
    const src = arena.f32(padded);
    const view = src.view;
    view.fill(0);
    view.set(samples, padLeft);
    const bankBuffer = arena.f32From(bank);
    const dst = arena.f32(outLength);
    k.resamplePolyphase(src.ptr, outLength, up, down, bankBuffer.ptr, taps, dst.ptr);
    return dst.view.slice();
  });
}

function checkPowerOfTwoLength(name: string, length: number): number {
  if (length < 2 || (length & (length - 1)) !== 0 || length > 1 << 24) {
    throw new KernelArgumentError(`'${name}' length must be a power of two in [2, 2^24], got ${length}`);
  }
  return length / 2;
}

/** Real FFT of a power-of-two-length frame: bins 0..n/2 as real and imaginary parts. */
export function rfft(frame: Float32Array): { re: Float32Array; im: Float32Array } {
  checkTypedArray('frame', frame, Float32Array);
  const m = checkPowerOfTwoLength('frame', frame.length);
  return withArena(arenaBytesForByteSizes(28 * m, 4 * frame.length, 4 * (m + 1), 4 * (m + 1)), (arena, k) => {
    const plan = arena.u8(28 * m);
    const src = arena.f32From(frame);
    const re = arena.f32(m + 1);
    const im = arena.f32(m + 1);
    k.rfftPlanInit(plan.ptr, m);
    k.rfft(plan.ptr, m, src.ptr, re.ptr, im.ptr);
    return { re: re.view.slice(), im: im.view.slice() };
  });
}

/** |X[k]|^2 of the real FFT of a power-of-two-length frame: bins 0..n/2. */
export function rfftPower(frame: Float32Array): Float32Array {
  checkTypedArray('frame', frame, Float32Array);
  const m = checkPowerOfTwoLength('frame', frame.length);
  return withArena(arenaBytesForByteSizes(28 * m, 4 * frame.length, 4 * (m + 1)), (arena, k) => {
    const plan = arena.u8(28 * m);
    const src = arena.f32From(frame);
    const power = arena.f32(m + 1);
    k.rfftPlanInit(plan.ptr, m);
    k.rfftPower(plan.ptr, m, src.ptr, power.ptr);
    return power.view.slice();
  });
}

interface PreparedLogMel {
  readonly options: Required<LogMelOptions>;
  readonly window: Float32Array;
  readonly mel: PackedMelFilterbank;
}

const preparedLogMel = new Map<string, PreparedLogMel>();

function prepareLogMel(options: LogMelOptions): PreparedLogMel {
  const o = resolveLogMelOptions(options);
  const key = JSON.stringify(o);
  const cached = preparedLogMel.get(key);
  if (cached) return cached;
  checkInteger('sampleRate', o.sampleRate, 1000, 384000);
  checkInteger('winLength', o.winLength, 2);
  checkInteger('hopLength', o.hopLength, 1);
  checkInteger('nMels', o.nMels, 1, 1024);
  if (o.nFft < o.winLength || (o.nFft & (o.nFft - 1)) !== 0 || o.nFft > 1 << 16) {
    throw new KernelArgumentError(`'nFft' must be a power of two >= 'winLength' (${o.winLength}) and <= 65536, got ${o.nFft}`);
  }
  checkFinite('fMin', o.fMin, 0, o.sampleRate / 2);
  checkFinite('fMax', o.fMax, o.fMin, o.sampleRate / 2);
  if (!(o.fMax > o.fMin)) throw new KernelArgumentError(`'fMax' (${o.fMax}) must be above 'fMin' (${o.fMin})`);
  checkFinite('logFloor', o.logFloor, Number.MIN_VALUE);
  if (o.window !== 'hann' && o.window !== 'hamming') throw new KernelArgumentError(`'window' must be 'hann' or 'hamming', got '${String(o.window)}'`);
  if (o.melScale !== 'htk' && o.melScale !== 'slaney') throw new KernelArgumentError(`'melScale' must be 'htk' or 'slaney', got '${String(o.melScale)}'`);
  const prepared = { options: o, window: Float32Array.from(analysisWindow(o.window, o.winLength)), mel: packMelFilterbank(melFilterbank(o)) };
  preparedLogMel.set(key, prepared);
  return prepared;
}

/**
 * Log-mel spectrogram (natural log of mel-weighted power), frame-major: data[f * nMels + b].
 * Frames are whole windows without centre padding: frames = 1 + floor((n - winLength) / hop).
 * NaN in a frame's samples gives NaN for that frame's bands.
 * @example const { data, frames } = logMelSpectrogram(audio16k); // 25 ms / 10 ms, 80 bands
 */
export function logMelSpectrogram(samples: Float32Array, options: LogMelOptions = {}): { data: Float32Array; frames: number; nMels: number } {
  checkTypedArray('samples', samples, Float32Array);
  const { options: o, window, mel } = prepareLogMel(options);
  const frames = frameCount(samples.length, o.winLength, o.hopLength);
  const m = o.nFft / 2;
  const used = frames === 0 ? 0 : (frames - 1) * o.hopLength + o.winLength;
  const bytes = arenaBytesForByteSizes(4 * used, 4 * o.winLength, 28 * m, 4 * o.nFft, 4 * (m + 1), 4 * mel.bands.length, 4 * mel.weights.length, 4 * frames * o.nMels);
  return withArena(bytes, (arena, k) => {
    const src = arena.f32From(samples.subarray(0, used));
    const win = arena.f32From(window);
    const plan = arena.u8(28 * m);
    const frame = arena.f32(o.nFft);
    const power = arena.f32(m + 1);
    const bands = arena.i32(mel.bands.length);
    bands.view.set(mel.bands);
    const weights = arena.f32From(mel.weights);
    const out = arena.f32(frames * o.nMels);
    k.rfftPlanInit(plan.ptr, m);
    k.logMelSpectrogram(src.ptr, frames, o.hopLength, o.winLength, win.ptr, plan.ptr, m, frame.ptr, power.ptr, bands.ptr, o.nMels, weights.ptr, o.logFloor, out.ptr);
    return { data: out.view.slice(), frames, nMels: o.nMels };
  });
}

/**
 * Per-frame mean square and zero-crossing rate of whole frames (frame f starts at f * hop).
 * NaN samples give a NaN mean square; for crossings NaN counts as non-negative.
 */
export function frameFeatures(samples: Float32Array, frameLength: number, hop: number): { meanSquare: Float32Array; zeroCrossingRate: Float32Array } {
  checkTypedArray('samples', samples, Float32Array);
  checkInteger('frameLength', frameLength, 1);
  checkInteger('hop', hop, 1);
  const frames = frameCount(samples.length, frameLength, hop);
  const used = frames === 0 ? 0 : (frames - 1) * hop + frameLength;
  return withArena(arenaBytesForByteSizes(4 * used, 4 * frames, 4 * frames), (arena, k) => {
    const src = arena.f32From(samples.subarray(0, used));
    const meanSquare = arena.f32(frames);
    const zcr = arena.f32(frames);
    k.frameFeatures(src.ptr, frames, frameLength, hop, meanSquare.ptr, zcr.ptr);
    return { meanSquare: meanSquare.view.slice(), zeroCrossingRate: zcr.view.slice() };
  });
}
