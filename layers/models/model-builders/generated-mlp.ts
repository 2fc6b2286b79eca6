import { writeOnnxGraph, type OnnxInitializerSpec, type OnnxNodeSpec } from '../onnx-graph-writer';
import { sfc32 } from '../../../kernels/seeded-random/seeded-random';
import type { BuiltArtifact } from '../model-artifact-spec';

export interface GeneratedMlpOptions {
  readonly name: string;
  readonly seed: number;
  /** Layer widths from input to output, e.g. [256, 512, 256, 10]: Gemm+Relu between, Gemm last. */
  readonly widths: readonly number[];
}

/** Weights plus biases of an MLP with these layer widths. */
export function mlpParameterCount(widths: readonly number[]): number {
  let count = 0;
  for (let l = 1; l < widths.length; l++) count += widths[l - 1]! * widths[l]! + widths[l]!;
  return count;
}

/**
 * A benchmark MLP with seeded He-uniform weights: input `input` FP32 [batch, widths[0]],
 * output `output` FP32 [batch, widths.at(-1)] (logits). Not trained: its job is to cost what
 * a real model of its size costs, with activations that stay at unit scale.
 */
export function buildGeneratedMlp(options: GeneratedMlpOptions): BuiltArtifact {
  const { widths } = options;
  if (widths.length < 2 || widths.some((w) => !Number.isInteger(w) || w < 1)) {
    throw new Error(`buildGeneratedMlp '${options.name}': widths [${widths.join(',')}] must be two or more positive integers`);
  }
  const random = sfc32(options.seed);
  const initializers: OnnxInitializerSpec[] = [];
  const nodes: OnnxNodeSpec[] = [];
  let previous = 'input';
  for (let l = 1; l < widths.length; l++) {
    const fanIn = widths[l - 1]!;
    const fanOut = widths[l]!;
    const limit = Math.sqrt(6 / fanIn);
    const weight = new Float32Array(fanOut * fanIn);
    for (let k = 0; k < weight.length; k++) weight[k] = (random() * 2 - 1) * limit;
    const bias = new Float32Array(fanOut);
    for (let k = 0; k < bias.length; k++) bias[k] = (random() * 2 - 1) * 0.01;
    initializers.push({ name: `fc${l}.weight`, dims: [fanOut, fanIn], data: weight }, { name: `fc${l}.bias`, dims: [fanOut], data: bias });
    const last = l === widths.length - 1;
    const gemmOut = last ? 'output' : `fc${l}`;
    nodes.push({ op: 'Gemm', inputs: [previous, `fc${l}.weight`, `fc${l}.bias`], outputs: [gemmOut], attributes: { transB: 1 }, name: `fc${l}` });
    if (!last) nodes.push({ op: 'Relu', inputs: [gemmOut], outputs: [`relu${l}`], name: `relu${l}` });
    previous = `relu${l}`;
  }
  const bytes = writeOnnxGraph({
    name: options.name,
    docString: `Generated benchmark MLP ${widths.join('-')} (seed ${options.seed}, untrained)`,
    inputs: [{ name: 'input', type: 'FP32', shape: ['batch', widths[0]!] }],
    outputs: [{ name: 'output', type: 'FP32', shape: ['batch', widths.at(-1)!] }],
    initializers,
    nodes,
  });
  return { bytes, metrics: { parameters: mlpParameterCount(widths), layers: widths.join('-'), seed: options.seed } };
}
