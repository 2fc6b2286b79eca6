import { loadKernelModule, type KernelInstance, type KernelVariant } from '../runtime/load-kernel-module';
import { createArena, arenaBytesForByteSizes, type F32Buffer, type WasmArena } from '../runtime/wasm-arena';
import { checkInteger, checkTypedArray, KernelArgumentError } from '../kernel-arguments/kernel-argument-checks';
import { SILERO_HIDDEN, SILERO_SAMPLE_RATES, decodeSileroWeights, type SileroRateWeights, type SileroSampleRate, type SileroWeights } from './silero-weights-artifact';
import { sileroStateLength, sileroWindowSamples } from './silero-reference';

/** The silero module's exports (pointers are byte offsets into its memory). */
export interface SileroKernelExports {
  sileroForward(model: number, batch: number, windows: number, stateIn: number, stateOut: number, probabilities: number, z: number, gates: number, sums: number): void;
  dot(a: number, b: number, n: number): number;
  dotRowWithFour(w: number, x: number, stride: number, n: number, out: number): void;
  dotFourRows(w: number, rowStride: number, x: number, n: number, out: number): void;
  rfftPlanBytes(m: number): number;
  rfftPlanInit(plan: number, m: number): void;
}

/** Header words of the packed model; kernels/silero/assembly/model-layout.ts reads the same. */
export const SILERO_HEADER = {
  window: 0, filter: 1, hop: 2, rightPad: 3, bins: 4, frames: 5, analysisWindow: 6, padded: 7,
  conv0: 8, convWords: 8,
  conv: { weight: 0, bias: 1, inPad: 2, out: 3, stride: 4, tIn: 5, tOut: 6, input: 7 },
  lstmWeight: 40, lstmBias: 41, decoderWeight: 42, decoderBias: 43, fftPlan: 44, frame: 45,
  words: 46,
} as const;

const H = SILERO_HIDDEN;
const WARM_UP_STEPS = 32;

const roundUp4 = (n: number): number => Math.ceil(n / 4) * 4;

/** Floats the packed model and its per-window scratch take for one rate (for sizing the arena). */
function packedFloats(w: SileroRateWeights, window: number): number[] {
  const frames = Math.floor((window + w.rightPad - w.filterLength) / w.hop) + 1;
  // Header, analysis window, padded window, FFT plan (7 arrays of filter / 2), frame, LSTM, its bias, decoder.
  const sizes = [SILERO_HEADER.words, w.filterLength, roundUp4(window + w.rightPad), 7 * (w.filterLength / 2), w.filterLength, 4 * H * 2 * H, 4 * H, H];
  let tIn = frames;
  let inChannels = w.bins;
  for (const conv of w.encoder) {
    const inPad = roundUp4(inChannels);
    sizes.push(conv.outChannels * 3 * inPad, conv.outChannels, (tIn + 2) * inPad);
    tIn = Math.floor((tIn - 1) / conv.stride) + 1;
    inChannels = conv.outChannels;
  }
  return sizes;
}

/**
 * Packs one rate's weights into kernel layout inside `arena` and returns the header's pointer:
 * convolution rows tap-major with input channels padded to a multiple of 4 (zeros), the LSTM's
 * two matrices side by side per gate row with their biases summed, scratch buffers zeroed (their
 * zero frames and padded channels are never written, so they stay zero).
 */
function packRate(instance: KernelInstance<SileroKernelExports>, arena: WasmArena, w: SileroRateWeights, window: number): number {
  const header = arena.i32(SILERO_HEADER.words);
  const words = header.view;
  const frames = Math.floor((window + w.rightPad - w.filterLength) / w.hop) + 1;
  // Row 0 of the basis is the window times cos(0): the kernels window each frame with it and FFT.
  const analysisWindow = arena.f32From(w.basis.subarray(0, w.filterLength));
  const padded = arena.f32(roundUp4(window + w.rightPad));
  padded.view.fill(0);
  const m = w.filterLength / 2;
  const plan = arena.u8(instance.exports.rfftPlanBytes(m));
  instance.exports.rfftPlanInit(plan.ptr, m);
  const frame = arena.f32(w.filterLength);
  words[SILERO_HEADER.window] = window;
  words[SILERO_HEADER.filter] = w.filterLength;
  words[SILERO_HEADER.hop] = w.hop;
  words[SILERO_HEADER.rightPad] = w.rightPad;
  words[SILERO_HEADER.bins] = w.bins;
  words[SILERO_HEADER.frames] = frames;
  words[SILERO_HEADER.analysisWindow] = analysisWindow.ptr;
  words[SILERO_HEADER.fftPlan] = plan.ptr;
  words[SILERO_HEADER.frame] = frame.ptr;
  words[SILERO_HEADER.padded] = padded.ptr;

  let tIn = frames;
  w.encoder.forEach((conv, layer) => {
    const inPad = roundUp4(conv.inChannels);
    const tOut = Math.floor((tIn - 1) / conv.stride) + 1;
    const weight = arena.f32(conv.outChannels * 3 * inPad);
    const packed = weight.view;
    packed.fill(0);
    for (let o = 0; o < conv.outChannels; o++) {
      for (let k = 0; k < 3; k++) {
        for (let i = 0; i < conv.inChannels; i++) packed[(o * 3 + k) * inPad + i] = conv.weight[(o * conv.inChannels + i) * 3 + k]!;
      }
    }
    const bias = arena.f32From(conv.bias);
    const input = arena.f32((tIn + 2) * inPad);
    input.view.fill(0);
    const at = SILERO_HEADER.conv0 + layer * SILERO_HEADER.convWords;
    const c = SILERO_HEADER.conv;
    words[at + c.weight] = weight.ptr;
    words[at + c.bias] = bias.ptr;
    words[at + c.inPad] = inPad;
    words[at + c.out] = conv.outChannels;
    words[at + c.stride] = conv.stride;
    words[at + c.tIn] = tIn;
    words[at + c.tOut] = tOut;
    words[at + c.input] = input.ptr;
    tIn = tOut;
  });
  if (tIn !== 1) throw new KernelArgumentError(`silero kernel: a ${window}-sample window leaves ${tIn} encoder frames at ${w.filterLength}/${w.hop}; the kernel runs one LSTM step`);
  const lstm = arena.f32(4 * H * 2 * H);
  const lstmView = lstm.view;
  for (let r = 0; r < 4 * H; r++) {
    lstmView.set(w.weightIh.subarray(r * H, (r + 1) * H), r * 2 * H);
    lstmView.set(w.weightHh.subarray(r * H, (r + 1) * H), r * 2 * H + H);
  }
  const lstmBias = arena.f32(4 * H);
  const biasView = lstmBias.view;
  for (let r = 0; r < 4 * H; r++) biasView[r] = Math.fround(w.biasIh[r]! + w.biasHh[r]!);
  const decoder = arena.f32From(w.decoderWeight);
  words[SILERO_HEADER.lstmWeight] = lstm.ptr;
  words[SILERO_HEADER.lstmBias] = lstmBias.ptr;
  words[SILERO_HEADER.decoderWeight] = decoder.ptr;
  words[SILERO_HEADER.decoderBias] = new Int32Array(Float32Array.of(w.decoderBias).buffer)[0]!;
  return header.ptr;
}

/** Per-call buffers for up to `capacity` streams at the larger window. */
interface IoBuffers {
  readonly arena: WasmArena;
  readonly capacity: number;
  readonly windows: F32Buffer;
  readonly stateIn: F32Buffer;
  readonly stateOut: F32Buffer;
  readonly probabilities: F32Buffer;
  readonly z: F32Buffer;
  readonly gates: F32Buffer;
  readonly sums: F32Buffer;
}

export interface SileroVadKernelOptions {
  /** Kernel build (default `release`; `debug` has bounds checks). */
  readonly variant?: Exclude<KernelVariant, 'threads'>;
  /**
   * Steps run at construction (on a quiet window, state discarded) so V8 has tiered the kernels
   * and the binding up before the first real frame: without them the first ~10 frames ran at
   * 0.8 ms against 0.11 ms after (`npm run bench:kernels -- --only silero`). Default 32.
   */
  readonly warmUpSteps?: number;
}

/** One batched step's answer: probability per stream and the next state [2, batch, 128]. */
export interface SileroStep {
  readonly probabilities: Float32Array;
  readonly state: Float32Array;
}

/**
 * Silero VAD v5 on the WASM-SIMD kernels: both rates' weights packed once into WASM memory, then
 * `step` runs B streams × one window per call with each stream's state carried by the caller,
 * the same contract as the ONNX graph (input [B, 576 | 288], state [2, B, 128]).
 * @example
 * const vad = SileroVadKernel.fromArtifact(readFileSync('model.silero-v5.bin'));
 * let state = new Float32Array(256);
 * const { probabilities, state: next } = vad.step(16000, window576, state, 1);
 */
export class SileroVadKernel {
  readonly #instance: KernelInstance<SileroKernelExports>;
  readonly #model: WasmArena;
  readonly #headers: Readonly<Record<SileroSampleRate, number>>;
  #io: IoBuffers | undefined;
  #disposed = false;

  constructor(weights: SileroWeights, options: SileroVadKernelOptions = {}) {
    this.#instance = loadKernelModule<SileroKernelExports>('silero', { variant: options.variant ?? 'release' });
    const sizes = SILERO_SAMPLE_RATES.flatMap((rate) => packedFloats(weights.rates[rate], sileroWindowSamples(rate)).map((n) => 4 * n));
    this.#model = createArena(this.#instance, arenaBytesForByteSizes(...sizes));
    const headers = {} as Record<SileroSampleRate, number>;
    for (const rate of SILERO_SAMPLE_RATES) headers[rate] = packRate(this.#instance, this.#model, weights.rates[rate], sileroWindowSamples(rate));
    this.#headers = headers;
    const warmUp = checkInteger('warmUpSteps', options.warmUpSteps ?? WARM_UP_STEPS, 0, 10_000);
    for (let i = 0; i < warmUp; i++) {
      const rate = i % 4 === 3 ? 8000 : 16000;
      this.step(rate, new Float32Array(sileroWindowSamples(rate)).fill(1e-3 * (i + 1)), new Float32Array(sileroStateLength(1)));
    }
  }

  /** Decodes a `*.silero-v5.bin` artifact (kernels/silero/silero-weights-artifact.ts) and packs it. */
  static fromArtifact(bytes: Uint8Array, options: SileroVadKernelOptions = {}): SileroVadKernel {
    return new SileroVadKernel(decodeSileroWeights(bytes), options);
  }

  /** Which build runs (`release` or `debug`). */
  get variant(): KernelVariant {
    return this.#instance.variant;
  }

  #ioFor(batch: number): IoBuffers {
    if (this.#io && this.#io.capacity >= batch) return this.#io;
    this.#io?.arena.release();
    const capacity = Math.max(batch, 2 * (this.#io?.capacity ?? 0), 1);
    const n = sileroWindowSamples(16000);
    const floats = [capacity * n, sileroStateLength(capacity), sileroStateLength(capacity), capacity, capacity * 2 * H, capacity * 4 * H, 4];
    const arena = createArena(this.#instance, arenaBytesForByteSizes(...floats.map((f) => 4 * f)));
    const [windows, stateIn, stateOut, probabilities, z, gates, sums] = floats.map((f) => arena.f32(f)) as [F32Buffer, F32Buffer, F32Buffer, F32Buffer, F32Buffer, F32Buffer, F32Buffer];
    this.#io = { arena, capacity, windows, stateIn, stateOut, probabilities, z, gates, sums };
    return this.#io;
  }

  /**
   * One window for each of `batch` streams: `windows` [batch × (context + frame)] (576 per stream
   * at 16 kHz, 288 at 8 kHz), `state` [2, batch, 128] (zeros at a stream's start). NaN in a
   * stream's input gives NaN for that stream.
   */
  step(sampleRate: SileroSampleRate, windows: Float32Array, state: Float32Array, batch = 1): SileroStep {
    if (this.#disposed) throw new KernelArgumentError('silero kernel: step() after dispose()');
    if (sampleRate !== 16000 && sampleRate !== 8000) throw new KernelArgumentError(`'sampleRate' must be 16000 or 8000, got ${String(sampleRate)}`);
    checkInteger('batch', batch, 1, 1 << 16);
    checkTypedArray('windows', windows, Float32Array);
    checkTypedArray('state', state, Float32Array);
    const n = sileroWindowSamples(sampleRate);
    if (windows.length !== batch * n) throw new KernelArgumentError(`'windows': expected batch × ${n} = ${batch * n} samples at ${sampleRate} Hz, got ${windows.length}`);
    if (state.length !== sileroStateLength(batch)) throw new KernelArgumentError(`'state': expected [2, ${batch}, ${H}] = ${sileroStateLength(batch)} floats, got ${state.length}`);
    const io = this.#ioFor(batch);
    io.windows.view.set(windows);
    io.stateIn.view.set(state);
    this.#instance.exports.sileroForward(this.#headers[sampleRate], batch, io.windows.ptr, io.stateIn.ptr, io.stateOut.ptr, io.probabilities.ptr, io.z.ptr, io.gates.ptr, io.sums.ptr);
    return { probabilities: io.probabilities.view.slice(0, batch), state: io.stateOut.view.slice(0, sileroStateLength(batch)) };
  }

  /** Gives the model's and the buffers' WASM memory back to the instance. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#io?.arena.release();
    this.#model.release();
  }
}
