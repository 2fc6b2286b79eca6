import { SILERO_HIDDEN, type SileroRateWeights, type SileroSampleRate } from './silero-weights-artifact';

/**
 * Samples per model call, as upstream's wrapper (silero-vad's OnnxWrapper, VADIterator) feeds the
 * model: the previous window's last `context` samples (zeros at stream start) then `frame` new ones.
 */
export const SILERO_WINDOW: Readonly<Record<SileroSampleRate, { readonly context: number; readonly frame: number }>> = {
  16000: { context: 64, frame: 512 },
  8000: { context: 32, frame: 256 },
};

/** Samples in one model input row at `rate`: 576 at 16 kHz, 288 at 8 kHz. */
export function sileroWindowSamples(rate: SileroSampleRate): number {
  return SILERO_WINDOW[rate].context + SILERO_WINDOW[rate].frame;
}

/** Floats in the carried state of `batch` streams: [2, batch, 128] (h of every stream, then c). */
export function sileroStateLength(batch: number): number {
  return 2 * batch * SILERO_HIDDEN;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/**
 * Conv1d, kernel 3, padding 1, `stride`, then ReLU, channel-major: x[i * tIn + t] -> out[o * tOut + t].
 * tOut = floor((tIn - 1) / stride) + 1.
 */
function convRelu(x: Float64Array, tIn: number, weight: Float32Array, bias: Float32Array, inChannels: number, outChannels: number, stride: number): { out: Float64Array; t: number } {
  const tOut = Math.floor((tIn - 1) / stride) + 1;
  const out = new Float64Array(outChannels * tOut);
  for (let o = 0; o < outChannels; o++) {
    for (let t = 0; t < tOut; t++) {
      let sum = bias[o]!;
      for (let i = 0; i < inChannels; i++) {
        for (let k = 0; k < 3; k++) {
          const at = t * stride + k - 1;
          if (at >= 0 && at < tIn) sum += weight[(o * inChannels + i) * 3 + k]! * x[i * tIn + at]!;
        }
      }
      out[o * tOut + t] = Math.max(0, sum);
    }
  }
  return { out, t: tOut };
}

/**
 * Silero VAD v5's forward pass for one stream and one window, exactly as the ONNX graph's branch
 * for the rate computes it (in float64):
 * 1. reflection-pad the window on the right by `rightPad` samples (x[n + j] = x[n - 2 - j]);
 * 2. STFT as a strided convolution with the [2·bins, filterLength] basis, magnitude
 *    sqrt(re² + im²) per bin and frame (4 frames for 576 or 288 samples);
 * 3. four kernel-3 convolutions with ReLU (strides 1, 2, 2, 1: 4 -> 4 -> 2 -> 1 frames);
 * 4. one LSTM cell step (PyTorch gate order i, f, g, o) from the carried h and c;
 * 5. ReLU, a 1×1 convolution to one logit, sigmoid.
 * `state` is h (128) then c (128) of this stream; returns the probability and the next h, c.
 */
export function sileroReferenceStep(w: SileroRateWeights, window: Float32Array, state: Float32Array): { probability: number; state: Float32Array } {
  const n = window.length;
  const padded = new Float64Array(n + w.rightPad);
  for (let i = 0; i < n; i++) padded[i] = window[i]!;
  for (let j = 0; j < w.rightPad; j++) padded[n + j] = window[n - 2 - j]!;
  const frames = Math.floor((padded.length - w.filterLength) / w.hop) + 1;

  const magnitude = new Float64Array(w.bins * frames);
  for (let t = 0; t < frames; t++) {
    for (let b = 0; b < w.bins; b++) {
      let re = 0;
      let im = 0;
      for (let j = 0; j < w.filterLength; j++) {
        const x = padded[t * w.hop + j]!;
        re += w.basis[b * w.filterLength + j]! * x;
        im += w.basis[(w.bins + b) * w.filterLength + j]! * x;
      }
      magnitude[b * frames + t] = Math.sqrt(re * re + im * im);
    }
  }

  let x: Float64Array = magnitude;
  let t = frames;
  for (const conv of w.encoder) {
    ({ out: x, t } = convRelu(x, t, conv.weight, conv.bias, conv.inChannels, conv.outChannels, conv.stride));
  }
  if (t !== 1) throw new Error(`silero reference: ${n} samples leave ${t} encoder frames; the served window (576 or 288) leaves 1`);

  const H = SILERO_HIDDEN;
  const gates = new Float64Array(4 * H);
  for (let r = 0; r < 4 * H; r++) {
    let sum = w.biasIh[r]! + w.biasHh[r]!;
    for (let i = 0; i < H; i++) sum += w.weightIh[r * H + i]! * x[i]! + w.weightHh[r * H + i]! * state[i]!;
    gates[r] = sum;
  }
  const next = new Float32Array(2 * H);
  let logit = w.decoderBias;
  for (let u = 0; u < H; u++) {
    const c = sigmoid(gates[H + u]!) * state[H + u]! + sigmoid(gates[u]!) * Math.tanh(gates[2 * H + u]!);
    const h = sigmoid(gates[3 * H + u]!) * Math.tanh(c);
    next[u] = h;
    next[H + u] = c;
    logit += w.decoderWeight[u]! * Math.max(0, h);
  }
  return { probability: sigmoid(logit), state: next };
}

/**
 * The batched call as the graph takes it: `windows` [batch, window], `state` [2, batch, 128];
 * returns probabilities [batch] and the next state [2, batch, 128].
 */
export function sileroReferenceBatch(w: SileroRateWeights, windows: Float32Array, batch: number, state: Float32Array): { probabilities: Float32Array; state: Float32Array } {
  const n = windows.length / batch;
  const H = SILERO_HIDDEN;
  const probabilities = new Float32Array(batch);
  const nextState = new Float32Array(2 * batch * H);
  const own = new Float32Array(2 * H);
  for (let b = 0; b < batch; b++) {
    own.set(state.subarray(b * H, (b + 1) * H), 0);
    own.set(state.subarray((batch + b) * H, (batch + b + 1) * H), H);
    const step = sileroReferenceStep(w, windows.subarray(b * n, (b + 1) * n), own);
    probabilities[b] = step.probability;
    nextState.set(step.state.subarray(0, H), b * H);
    nextState.set(step.state.subarray(H), (batch + b) * H);
  }
  return { probabilities, state: nextState };
}
