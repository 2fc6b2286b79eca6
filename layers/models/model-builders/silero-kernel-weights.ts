import { onnx } from 'onnx-proto';
import {
  SILERO_HIDDEN, SILERO_SAMPLE_RATES,
  type SileroConvWeights, type SileroRateWeights, type SileroSampleRate, type SileroWeights,
} from '../../../kernels/silero/silero-weights-artifact';
import { WINDOWED_DFT_TOLERANCE, windowedDftDeviation } from '../../../kernels/silero/stft-basis';

/**
 * Reads Silero VAD v5's weights and STFT geometry out of `silero_vad_v5.onnx` (the graph spox
 * wrote from snakers4/silero-vad): the top-level `If (sr == 16000)` holds one branch per rate,
 * each with its weights as Constant nodes named after the PyTorch modules. Nothing is typed by
 * hand: the hop and kernel come from the STFT Conv, the reflection padding from the Pad's
 * constant, the strides from the encoder Convs; whatever does not match the architecture the
 * kernels implement throws, naming what differed.
 */
export function extractSileroWeights(modelBytes: Uint8Array): SileroWeights {
  const graph = onnx.ModelProto.decode(modelBytes).graph;
  if (!graph) throw new Error('silero weights: the model has no graph');
  const top = (graph.node ?? []).find((n) => n.opType === 'If');
  const equal = (graph.node ?? []).find((n) => n.opType === 'Equal' && n.output?.[0] === top?.input?.[0]);
  if (!top || !equal || !equal.input?.includes('sr')) throw new Error("silero weights: expected a top-level If on Equal(sr, ...)");
  const rateConstant = (graph.node ?? []).find((n) => n.opType === 'Constant' && equal.input!.includes(n.output?.[0] ?? ''));
  const branchRate = rateConstant ? Number(tensorValues(rateConstant.attribute![0]!.t!)[0]) : NaN;
  if (branchRate !== 16000) throw new Error(`silero weights: the top-level If compares sr with ${branchRate}, expected 16000`);
  const branch = (name: string): onnx.IGraphProto => {
    const g = top.attribute?.find((a) => a.name === name)?.g;
    if (!g) throw new Error(`silero weights: the top-level If has no ${name}`);
    return g;
  };
  const rates = {} as Record<SileroSampleRate, SileroRateWeights>;
  rates[16000] = extractRate(branch('then_branch'), 16000);
  rates[8000] = extractRate(branch('else_branch'), 8000);
  for (const rate of SILERO_SAMPLE_RATES) if (!rates[rate]) throw new Error(`silero weights: no branch for ${rate} Hz`);
  return { rates };
}

function tensorValues(t: onnx.ITensorProto): Float64Array | Float32Array {
  const raw = t.rawData;
  if (raw && raw.length > 0) {
    const copy = new Uint8Array(raw).buffer;
    if (t.dataType === onnx.TensorProto.DataType.FLOAT) return new Float32Array(copy);
    if (t.dataType === onnx.TensorProto.DataType.INT64) return Float64Array.from(new BigInt64Array(copy), Number);
    throw new Error(`silero weights: unexpected raw tensor type ${t.dataType}`);
  }
  if (t.floatData && t.floatData.length > 0) return Float32Array.from(t.floatData);
  if (t.int64Data && t.int64Data.length > 0) return Float64Array.from(t.int64Data, (v) => Number(v));
  return new Float32Array(0);
}

/** The nodes of `g` and of every subgraph below it (If branches). */
function nestedNodes(g: onnx.IGraphProto): onnx.INodeProto[] {
  return (g.node ?? []).flatMap((n) => [n, ...(n.attribute ?? []).flatMap((a) => (a.g ? nestedNodes(a.g) : []))]);
}

function intsAttribute(node: onnx.INodeProto, name: string): number[] {
  return (node.attribute?.find((a) => a.name === name)?.ints ?? []).map(Number);
}

function extractRate(g: onnx.IGraphProto, rate: SileroSampleRate): SileroRateWeights {
  const nodes = g.node ?? [];
  const constants = new Map<string, onnx.ITensorProto>();
  for (const n of nodes) if (n.opType === 'Constant' && n.output?.[0] && n.attribute?.[0]?.t) constants.set(n.output[0], n.attribute[0].t);
  const where = `${rate} Hz branch`;
  const constant = (suffix: string, shape: readonly number[]): Float32Array => {
    const names = [...constants.keys()].filter((k) => k.endsWith(suffix));
    if (names.length !== 1) throw new Error(`silero weights (${where}): expected one constant named *${suffix}, found ${names.length}`);
    const t = constants.get(names[0]!)!;
    const dims = (t.dims ?? []).map(Number);
    if (dims.length !== shape.length || dims.some((d, i) => shape[i]! >= 0 && d !== shape[i])) {
      throw new Error(`silero weights (${where}): ${names[0]} has shape [${dims.join(',')}], expected [${shape.join(',')}]`);
    }
    return Float32Array.from(tensorValues(t));
  };
  const dimsOf = (suffix: string): number[] => {
    const name = [...constants.keys()].find((k) => k.endsWith(suffix));
    return name ? (constants.get(name)!.dims ?? []).map(Number) : [];
  };
  const convUsing = (weightSuffix: string): onnx.INodeProto => {
    const node = nodes.find((n) => n.opType === 'Conv' && (n.input?.[1] ?? '').endsWith(weightSuffix));
    if (!node) throw new Error(`silero weights (${where}): no Conv reads *${weightSuffix}`);
    return node;
  };

  // STFT: reflection pad on the right, then a strided Conv with the [2*bins, 1, N] basis.
  const basisDims = dimsOf('stft.forward_basis_buffer');
  const filterLength = basisDims[2] ?? 0;
  const bins = filterLength / 2 + 1;
  const basis = constant('stft.forward_basis_buffer', [2 * bins, 1, filterLength]);
  const stft = convUsing('stft.forward_basis_buffer');
  const hop = intsAttribute(stft, 'strides')[0] ?? 0;
  if (intsAttribute(stft, 'kernel_shape')[0] !== filterLength || intsAttribute(stft, 'pads').some((p) => p !== 0)) {
    throw new Error(`silero weights (${where}): the STFT Conv is not an unpadded kernel of ${filterLength}`);
  }
  const pad = nodes.find((n) => n.opType === 'Pad');
  const mode = pad?.attribute?.find((a) => a.name === 'mode')?.s;
  if (!pad || pad.input?.[0] !== 'input' || !mode || new TextDecoder().decode(mode) !== 'reflect') throw new Error(`silero weights (${where}): expected a reflect Pad of 'input'`);
  // torch.nn.functional.pad(x, [left, right]) on the last axis, as the exporter wrote it.
  const padAmounts = constant('/stft/padding/Constant_1_output_0', [2]);
  if (padAmounts[0] !== 0) throw new Error(`silero weights (${where}): the STFT padding adds ${padAmounts[0]} samples on the left; the kernels pad the right only`);
  const rightPad = padAmounts[1]!;

  const encoder: SileroConvWeights[] = [];
  let inChannels = bins;
  for (let i = 0; i < 4; i++) {
    const suffix = `encoder.${i}.reparam_conv.weight`;
    const outChannels = dimsOf(suffix)[0] ?? 0;
    const weight = constant(suffix, [outChannels, inChannels, 3]);
    const bias = constant(`encoder.${i}.reparam_conv.bias`, [outChannels]);
    const conv = convUsing(suffix);
    const pads = intsAttribute(conv, 'pads');
    if (intsAttribute(conv, 'kernel_shape')[0] !== 3 || pads[0] !== 1 || pads[1] !== 1 || (intsAttribute(conv, 'dilations')[0] ?? 1) !== 1) {
      throw new Error(`silero weights (${where}): encoder ${i} is not a kernel-3, padding-1 convolution`);
    }
    encoder.push({ weight, bias, outChannels, inChannels, stride: intsAttribute(conv, 'strides')[0] ?? 1 });
    inChannels = outChannels;
  }
  const deviation = windowedDftDeviation({ filterLength, bins, basis });
  if (!(deviation <= WINDOWED_DFT_TOLERANCE)) {
    throw new Error(`silero weights (${where}): the STFT basis is ${deviation} away from its first row times the DFT (at most ${WINDOWED_DFT_TOLERANCE}); the kernels' FFT path would not compute the graph's STFT`);
  }
  const H = SILERO_HIDDEN;
  const lstms = nestedNodes(g).filter((n) => n.opType === 'LSTM');
  const hidden = lstms.map((n) => Number(n.attribute?.find((a) => a.name === 'hidden_size')?.i ?? 0));
  if (lstms.length === 0 || hidden.some((h) => h !== H)) throw new Error(`silero weights (${where}): expected LSTMs of hidden_size ${H}, found [${hidden.join(',')}]`);
  const decoderBias = constant('decoder.decoder.2.bias', [1]);
  return {
    filterLength, hop, rightPad, bins,
    basis,
    encoder,
    weightIh: constant('decoder.rnn.weight_ih', [4 * H, H]),
    weightHh: constant('decoder.rnn.weight_hh', [4 * H, H]),
    biasIh: constant('decoder.rnn.bias_ih', [4 * H]),
    biasHh: constant('decoder.rnn.bias_hh', [4 * H]),
    decoderWeight: constant('decoder.decoder.2.weight', [1, H, 1]),
    decoderBias: decoderBias[0]!,
  };
}
