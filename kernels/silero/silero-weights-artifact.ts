import { KernelArgumentError } from '../kernel-arguments/kernel-argument-checks';

/**
 * Silero VAD v5's weights as the kernels read them (`*.silero-v5.bin`), extracted at build from
 * the pinned `silero_vad_v5.onnx` (layers/models/model-builders/silero-kernel-weights.ts): every
 * tensor in the file's own layout, PyTorch's names, so the TypeScript reference reads them as the
 * graph does and the kernel binding packs them once at load.
 *
 * | bytes        | field |
 * | 0–7          | magic `HPSILV05` |
 * | 8–11         | header length h (bytes of UTF-8 JSON) |
 * | 12–12+h      | JSON `{ rates: { "16000": RateHeader, "8000": RateHeader } }` |
 * | padded to 4  | float32 little-endian data; each tensor at `offset` floats from here |
 */
export const SILERO_WEIGHTS_MAGIC = 'HPSILV05';

/** The two rates the model has a branch for (`sr` == 16000 takes one, anything else the other). */
export const SILERO_SAMPLE_RATES = [16000, 8000] as const;
export type SileroSampleRate = (typeof SILERO_SAMPLE_RATES)[number];

/** One encoder convolution: kernel 3, padding 1, `stride` 1 or 2, then ReLU. */
export interface SileroConvWeights {
  /** [out, in, 3] */
  readonly weight: Float32Array;
  readonly bias: Float32Array;
  readonly outChannels: number;
  readonly inChannels: number;
  readonly stride: number;
}

/** Everything one rate's branch of the graph computes with. */
export interface SileroRateWeights {
  /** Samples of the STFT window (the basis' kernel): 256 at 16 kHz, 128 at 8 kHz. */
  readonly filterLength: number;
  /** STFT hop (the basis convolution's stride): 128 / 64. */
  readonly hop: number;
  /** Reflection padding appended on the right before the STFT: 64 / 32. */
  readonly rightPad: number;
  /** Frequency bins: filterLength / 2 + 1 (129 / 65). */
  readonly bins: number;
  /** [2 * bins, filterLength]: rows 0..bins-1 the real parts, then the imaginary parts. */
  readonly basis: Float32Array;
  readonly encoder: readonly SileroConvWeights[];
  /** LSTM cell, PyTorch gate order (input, forget, cell, output): [4H, H] each, biases [4H]. */
  readonly weightIh: Float32Array;
  readonly weightHh: Float32Array;
  readonly biasIh: Float32Array;
  readonly biasHh: Float32Array;
  /** 1×1 convolution from the LSTM's hidden state to one logit: [H] and a scalar. */
  readonly decoderWeight: Float32Array;
  readonly decoderBias: number;
}

export interface SileroWeights {
  readonly rates: Readonly<Record<SileroSampleRate, SileroRateWeights>>;
}

/** Hidden units of the LSTM; the carried state is [2, batch, 128] (h then c). */
export const SILERO_HIDDEN = 128;

interface TensorEntry {
  readonly shape: readonly number[];
  readonly offset: number;
}

interface RateHeader {
  readonly filterLength: number;
  readonly hop: number;
  readonly rightPad: number;
  readonly strides: readonly number[];
  readonly decoderBias: number;
  readonly tensors: Readonly<Record<string, TensorEntry>>;
}

const CONV_COUNT = 4;

function rateTensors(w: SileroRateWeights): [string, readonly number[], Float32Array][] {
  const list: [string, readonly number[], Float32Array][] = [['stft.basis', [2 * w.bins, w.filterLength], w.basis]];
  w.encoder.forEach((c, i) => {
    list.push([`encoder.${i}.weight`, [c.outChannels, c.inChannels, 3], c.weight], [`encoder.${i}.bias`, [c.outChannels], c.bias]);
  });
  list.push(
    ['lstm.weight_ih', [4 * SILERO_HIDDEN, SILERO_HIDDEN], w.weightIh],
    ['lstm.weight_hh', [4 * SILERO_HIDDEN, SILERO_HIDDEN], w.weightHh],
    ['lstm.bias_ih', [4 * SILERO_HIDDEN], w.biasIh],
    ['lstm.bias_hh', [4 * SILERO_HIDDEN], w.biasHh],
    ['decoder.weight', [SILERO_HIDDEN], w.decoderWeight],
  );
  return list;
}

/** Serialises extracted weights (the build's half; decodeSileroWeights is the loader's). */
export function encodeSileroWeights(weights: SileroWeights): Uint8Array {
  let offset = 0;
  const rates: Record<string, RateHeader> = {};
  const blobs: Float32Array[] = [];
  for (const rate of SILERO_SAMPLE_RATES) {
    const w = weights.rates[rate];
    const tensors: Record<string, TensorEntry> = {};
    for (const [name, shape, data] of rateTensors(w)) {
      if (data.length !== shape.reduce((a, b) => a * b, 1)) throw new KernelArgumentError(`silero weights: ${rate}/${name} has ${data.length} floats, shape [${shape.join(',')}]`);
      tensors[name] = { shape, offset };
      blobs.push(data);
      offset += data.length;
    }
    rates[String(rate)] = { filterLength: w.filterLength, hop: w.hop, rightPad: w.rightPad, strides: w.encoder.map((c) => c.stride), decoderBias: w.decoderBias, tensors };
  }
  const header = new TextEncoder().encode(JSON.stringify({ rates }));
  const dataStart = Math.ceil((12 + header.length) / 4) * 4;
  const out = new Uint8Array(dataStart + 4 * offset);
  for (let i = 0; i < 8; i++) out[i] = SILERO_WEIGHTS_MAGIC.charCodeAt(i);
  const view = new DataView(out.buffer);
  view.setUint32(8, header.length, true);
  out.set(header, 12);
  let at = dataStart;
  for (const blob of blobs) {
    for (let i = 0; i < blob.length; i++, at += 4) view.setFloat32(at, blob[i]!, true);
  }
  return out;
}

function fail(message: string): never {
  throw new KernelArgumentError(`silero weights: ${message}`);
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** The data section as float32: one copy on little-endian machines (x86_64, arm64), else value by value. */
function littleEndianFloats(bytes: Uint8Array, start: number, floats: number, view: DataView): Float32Array {
  if (LITTLE_ENDIAN) return new Float32Array(bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + start + 4 * floats));
  const data = new Float32Array(floats);
  for (let i = 0; i < floats; i++) data[i] = view.getFloat32(start + 4 * i, true);
  return data;
}

/** Reads a `*.silero-v5.bin` artifact; every tensor's shape is checked against the architecture. */
export function decodeSileroWeights(bytes: Uint8Array): SileroWeights {
  const magic = String.fromCharCode(...bytes.subarray(0, 8));
  if (bytes.length < 12 || magic !== SILERO_WEIGHTS_MAGIC) fail(`bad magic '${magic}', expected '${SILERO_WEIGHTS_MAGIC}'`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > bytes.length) fail(`header of ${headerLength} bytes runs past the file's ${bytes.length}`);
  let header: { rates?: Record<string, RateHeader> };
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength))) as typeof header;
  } catch (cause) {
    throw new KernelArgumentError(`silero weights: header is not JSON (${(cause as Error).message})`, { cause });
  }
  const dataStart = Math.ceil((12 + headerLength) / 4) * 4;
  const floats = (bytes.length - dataStart) / 4;
  if (!Number.isInteger(floats) || floats < 0) fail(`data section of ${bytes.length - dataStart} bytes is not whole float32 values`);
  const data = littleEndianFloats(bytes, dataStart, floats, view);

  const rates = {} as Record<SileroSampleRate, SileroRateWeights>;
  for (const rate of SILERO_SAMPLE_RATES) {
    const h = header.rates?.[String(rate)];
    if (!h) fail(`no weights for ${rate} Hz`);
    const tensor = (name: string, shape: readonly number[]): Float32Array => {
      const t = h.tensors[name];
      if (!t) fail(`${rate}/${name} is missing`);
      if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) fail(`${rate}/${name}: expected shape [${shape.join(',')}], got [${t.shape.join(',')}]`);
      const n = shape.reduce((a, b) => a * b, 1);
      if (!(t.offset >= 0 && t.offset + n <= floats)) fail(`${rate}/${name} runs past the data section`);
      const out = data.subarray(t.offset, t.offset + n);
      for (let i = 0; i < n; i++) if (!Number.isFinite(out[i]!)) fail(`${rate}/${name} holds non-finite values (element ${i})`);
      return out;
    };
    const { filterLength, hop, rightPad } = h;
    if (!(filterLength >= 4 && filterLength % 2 === 0 && hop >= 1 && rightPad >= 0 && rightPad < filterLength)) fail(`${rate}: bad STFT geometry ${JSON.stringify({ filterLength, hop, rightPad })}`);
    if (h.strides?.length !== CONV_COUNT || !h.strides.every((s) => s === 1 || s === 2)) fail(`${rate}: expected ${CONV_COUNT} encoder strides of 1 or 2, got ${JSON.stringify(h.strides)}`);
    if (!Number.isFinite(h.decoderBias)) fail(`${rate}: decoder bias is not finite`);
    const bins = filterLength / 2 + 1;
    const basis = tensor('stft.basis', [2 * bins, filterLength]);
    const encoder: SileroConvWeights[] = [];
    let inChannels = bins;
    for (let i = 0; i < CONV_COUNT; i++) {
      const shape = h.tensors[`encoder.${i}.weight`]?.shape ?? [];
      const outChannels = shape[0] ?? 0;
      const weight = tensor(`encoder.${i}.weight`, [outChannels, inChannels, 3]);
      encoder.push({ weight, bias: tensor(`encoder.${i}.bias`, [outChannels]), outChannels, inChannels, stride: h.strides[i]! });
      inChannels = outChannels;
    }
    if (inChannels !== SILERO_HIDDEN) fail(`${rate}: the encoder ends with ${inChannels} channels, the LSTM takes ${SILERO_HIDDEN}`);
    rates[rate] = {
      filterLength, hop, rightPad, bins, basis, encoder,
      weightIh: tensor('lstm.weight_ih', [4 * SILERO_HIDDEN, SILERO_HIDDEN]),
      weightHh: tensor('lstm.weight_hh', [4 * SILERO_HIDDEN, SILERO_HIDDEN]),
      biasIh: tensor('lstm.bias_ih', [4 * SILERO_HIDDEN]),
      biasHh: tensor('lstm.bias_hh', [4 * SILERO_HIDDEN]),
      decoderWeight: tensor('decoder.weight', [SILERO_HIDDEN]),
      decoderBias: h.decoderBias,
    };
  }
  return { rates };
}
