import { f32At, rowAt } from './offsets';
import { dotFourRows, dotRowWithFour } from './dot-products';
import { rfftPower } from '../../audio/assembly/fft';
import {
  field, convField, HIDDEN,
  H_WINDOW, H_FILTER, H_HOP, H_RIGHT_PAD, H_FRAMES, H_ANALYSIS_WINDOW, H_PADDED, H_FFT_PLAN, H_FRAME,
  CONV_WEIGHT, CONV_BIAS, CONV_IN_PAD, CONV_OUT, CONV_STRIDE, CONV_T_IN, CONV_T_OUT, CONV_INPUT,
  H_LSTM_WEIGHT, H_LSTM_BIAS, H_DECODER_WEIGHT, H_DECODER_BIAS,
} from './model-layout';

// @ts-ignore: decorator
@inline function sigmoid(x: f32): f32 {
  return 1.0 / (1.0 + Mathf.exp(-x));
}

/**
 * Reflection padding then the STFT magnitude of one window, straight into the first
 * convolution's input buffer (frame-major, frame t at row t + 1). The graph convolves with a
 * [2·bins, filter] basis; that basis is the analysis window times the DFT (checked at build,
 * layers/models/model-builders/silero-kernel-weights.ts), so each frame is windowed and goes
 * through a real FFT: about 6 k operations a frame instead of the basis' 66 k multiply-adds.
 */
function stftMagnitude(model: usize, window: usize): void {
  const n = field(model, H_WINDOW);
  const filter = field(model, H_FILTER);
  const hop = field(model, H_HOP);
  const pad = field(model, H_RIGHT_PAD);
  const frames = field(model, H_FRAMES);
  const analysis = <usize>field(model, H_ANALYSIS_WINDOW);
  const padded = <usize>field(model, H_PADDED);
  const plan = <usize>field(model, H_FFT_PLAN);
  const frame = <usize>field(model, H_FRAME);
  const magnitude = <usize>convField(model, 0, CONV_INPUT);
  const inPad = convField(model, 0, CONV_IN_PAD);
  memory.copy(padded, window, (<usize>n) << 2);
  for (let j = 0; j < pad; j++) store<f32>(f32At(padded, n + j), load<f32>(f32At(window, n - 2 - j)));

  for (let t = 0; t < frames; t++) {
    const start = f32At(padded, t * hop);
    let j = 0;
    for (; j + 4 <= filter; j += 4) v128.store(f32At(frame, j), f32x4.mul(v128.load(f32At(start, j)), v128.load(f32At(analysis, j))));
    for (; j < filter; j++) store<f32>(f32At(frame, j), load<f32>(f32At(start, j)) * load<f32>(f32At(analysis, j)));
    const row = rowAt(magnitude, t + 1, inPad);
    rfftPower(plan, filter >> 1, frame, row);
    // Padded channels hold 0 (never written), and sqrt(0) = 0 keeps them so.
    for (let k = 0; k < inPad; k += 4) v128.store(f32At(row, k), f32x4.sqrt(v128.load(f32At(row, k))));
  }
}

/**
 * Convolution `layer` (kernel 3, padding 1) with bias and ReLU fused. Its input rows are
 * frame-major with a zero frame at each end, and its weight rows tap-major, so output frame t's
 * whole receptive field is one contiguous dot product; runs of four frames share each weight
 * load, single frames skip the zero frames' taps. Writes the next layer's input (or `out`, frame
 * 0 only, for the last layer).
 */
function convRelu(model: usize, layer: i32, out: usize, outRowStride: i32, sums: usize): void {
  const weight = <usize>convField(model, layer, CONV_WEIGHT);
  const bias = <usize>convField(model, layer, CONV_BIAS);
  const inPad = convField(model, layer, CONV_IN_PAD);
  const outChannels = convField(model, layer, CONV_OUT);
  const stride = convField(model, layer, CONV_STRIDE);
  const tIn = convField(model, layer, CONV_T_IN);
  const tOut = convField(model, layer, CONV_T_OUT);
  const input = <usize>convField(model, layer, CONV_INPUT);
  const rowLength = 3 * inPad;
  const blocked = tOut & ~3;
  // Output channels are a multiple of 4 (checked by the binding): four weight rows at a time.
  for (let o = 0; o < outChannels; o += 4) {
    const row = rowAt(weight, o, rowLength);
    for (let t = 0; t < blocked; t += 4) {
      for (let r = 0; r < 4; r++) {
        dotRowWithFour(rowAt(row, r, rowLength), rowAt(input, t * stride, inPad), stride * inPad, rowLength, sums);
        const b = load<f32>(f32At(bias, o + r));
        for (let f = 0; f < 4; f++) store<f32>(f32At(rowAt(out, t + f, outRowStride), o + r), max<f32>(0, b + load<f32>(f32At(sums, f))));
      }
    }
    for (let t = blocked; t < tOut; t++) {
      // Receptive field: input frames t·stride - 1 .. t·stride + 1, clipped to the real frames.
      const first = t * stride - 1;
      const lo = max<i32>(first, 0);
      const hi = min<i32>(first + 2, tIn - 1);
      dotFourRows(row + ((<usize>(lo - first) * <usize>inPad) << 2), rowLength, rowAt(input, lo + 1, inPad), (hi - lo + 1) * inPad, sums);
      for (let r = 0; r < 4; r++) store<f32>(f32At(rowAt(out, t, outRowStride), o + r), max<f32>(0, load<f32>(f32At(bias, o + r)) + load<f32>(f32At(sums, r))));
    }
  }
}

/**
 * Silero VAD v5, `batch` streams × one window each (the graph's branch for the model's rate):
 * windows [batch][window], state [2][batch][128] (h then c), probabilities [batch].
 * `z` ([batch][256]: encoder output then h) and `gates` ([batch][512]) are scratch; `sums` is 16
 * bytes of scratch. stateOut may be stateIn: each stream's h is copied to z before anything is written.
 * The LSTM's gate products run four streams per weight row, so its 256 KB of weights are read once
 * per four streams.
 */
export function sileroForward(model: usize, batch: i32, windows: usize, stateIn: usize, stateOut: usize, probabilities: usize, z: usize, gates: usize, sums: usize): void {
  const n = field(model, H_WINDOW);
  const zLength = 2 * HIDDEN;
  const gateCount = 4 * HIDDEN;
  for (let b = 0; b < batch; b++) {
    stftMagnitude(model, rowAt(windows, b, n));
    for (let layer = 0; layer < 3; layer++) {
      const next = <usize>convField(model, layer + 1, CONV_INPUT);
      const nextPad = convField(model, layer + 1, CONV_IN_PAD);
      convRelu(model, layer, rowAt(next, 1, nextPad), nextPad, sums);
    }
    const zb = rowAt(z, b, zLength);
    convRelu(model, 3, zb, 0, sums);
    memory.copy(f32At(zb, HIDDEN), rowAt(stateIn, b, HIDDEN), (<usize>HIDDEN) << 2);
  }

  const weight = <usize>field(model, H_LSTM_WEIGHT);
  const bias = <usize>field(model, H_LSTM_BIAS);
  let b = 0;
  for (; b + 4 <= batch; b += 4) {
    const zb = rowAt(z, b, zLength);
    for (let r = 0; r < gateCount; r++) {
      dotRowWithFour(rowAt(weight, r, zLength), zb, zLength, zLength, sums);
      const br = load<f32>(f32At(bias, r));
      for (let s = 0; s < 4; s++) store<f32>(f32At(rowAt(gates, b + s, gateCount), r), br + load<f32>(f32At(sums, s)));
    }
  }
  for (; b < batch; b++) {
    const zb = rowAt(z, b, zLength);
    const gb = rowAt(gates, b, gateCount);
    for (let r = 0; r < gateCount; r += 4) {
      dotFourRows(rowAt(weight, r, zLength), zLength, zb, zLength, sums);
      for (let s = 0; s < 4; s++) store<f32>(f32At(gb, r + s), load<f32>(f32At(bias, r + s)) + load<f32>(f32At(sums, s)));
    }
  }

  const decoderWeight = <usize>field(model, H_DECODER_WEIGHT);
  const decoderBias = reinterpret<f32>(field(model, H_DECODER_BIAS));
  for (let s = 0; s < batch; s++) {
    const g = rowAt(gates, s, gateCount);
    const cIn = rowAt(stateIn, batch + s, HIDDEN);
    const hOut = rowAt(stateOut, s, HIDDEN);
    const cOut = rowAt(stateOut, batch + s, HIDDEN);
    let logit: f32 = decoderBias;
    for (let u = 0; u < HIDDEN; u++) {
      // PyTorch gate order: input, forget, cell, output.
      const i = sigmoid(load<f32>(f32At(g, u)));
      const f = sigmoid(load<f32>(f32At(g, HIDDEN + u)));
      const cell = Mathf.tanh(load<f32>(f32At(g, 2 * HIDDEN + u)));
      const o = sigmoid(load<f32>(f32At(g, 3 * HIDDEN + u)));
      const c = f * load<f32>(f32At(cIn, u)) + i * cell;
      const h = o * Mathf.tanh(c);
      store<f32>(f32At(cOut, u), c);
      store<f32>(f32At(hOut, u), h);
      logit += load<f32>(f32At(decoderWeight, u)) * max<f32>(0, h);
    }
    store<f32>(f32At(probabilities, s), sigmoid(logit));
  }
}
