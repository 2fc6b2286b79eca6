import { FeedForwardProgram } from '../../../kernels/feed-forward/feed-forward-kernels';
import { sfc32 } from '../../../kernels/seeded-random/seeded-random';
import { compileFeedForwardPlan } from '../../../layers/models/feed-forward-plan-compiler';
import { writeOnnxGraph, type OnnxGraphSpec, type OnnxInitializerSpec, type OnnxNodeSpec, type OnnxValueSpec } from '../../../layers/models/onnx-graph-writer';

type Ort = typeof import('onnxruntime-node');
const ort = require('onnxruntime-node') as Ort;

function values(count: number, seed: number): Float32Array {
  const random = sfc32(seed);
  return Float32Array.from({ length: count }, () => (random() * 2 - 1) * 2);
}

function graph(nodes: OnnxNodeSpec[], initializers: OnnxInitializerSpec[], inputs: OnnxValueSpec[], outputs: OnnxValueSpec[]): Uint8Array {
  const spec: OnnxGraphSpec = { name: 'test', inputs, outputs, initializers, nodes };
  return writeOnnxGraph(spec);
}

const shape = (s: readonly (number | string)[]) => s;

/** Our plan on the kernels against onnxruntime-node, same rows: float outputs within 1e-5 of their scale, integer outputs equal. */
async function expectParity(bytes: Uint8Array, rows: number): Promise<void> {
  const compiled = compileFeedForwardPlan(bytes);
  if (!compiled.plan) throw new Error(`refused: ${compiled.refused}`);
  const { plan } = compiled;
  const inputs = plan.header.inputs.map((input, i) => values(input.shape.reduce((p, d) => p * (d === -1 ? rows : d), 1), 11 + i));
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
  const feeds = Object.fromEntries(plan.header.inputs.map((input, i) => [input.name, new ort.Tensor('float32', inputs[i]!, input.shape.map((d) => (d === -1 ? rows : d)))]));
  const expected = await session.run(feeds);
  const actual = new FeedForwardProgram(plan).run(inputs, rows);
  plan.header.outputs.forEach((output, i) => {
    const reference = expected[output.name]!;
    expect(output.shape.map((d) => (d === -1 ? rows : d))).toEqual(reference.dims);
    const ours = Array.from(actual[i]!, Number);
    const theirs = Array.from(reference.data as ArrayLike<number | bigint>, Number);
    if (output.datatype !== 'FP32') return expect(ours).toEqual(theirs);
    const scale = Math.max(...theirs.map(Math.abs));
    const error = Math.max(...ours.map((v, j) => Math.abs(v - theirs[j]!)));
    expect(error).toBeLessThanOrEqual(1e-5 * scale);
  });
  await session.release();
}

describe('compileFeedForwardPlan', () => {
  it('runs Gemm with alpha, beta, a [1, n] bias and no transB, then Sigmoid, like onnxruntime', async () => {
    const bytes = graph(
      [
        { op: 'Gemm', inputs: ['x', 'B', 'C'], outputs: ['g'], attributes: { alpha: { float: 0.5 }, beta: { float: 2 } } },
        { op: 'Sigmoid', inputs: ['g'], outputs: ['y'] },
      ],
      [{ name: 'B', dims: [5, 7], data: values(35, 1) }, { name: 'C', dims: [1, 7], data: values(7, 2) }],
      [{ name: 'x', type: 'FP32', shape: shape(['batch', 5]) }], [{ name: 'y', type: 'FP32', shape: shape(['batch', 7]) }],
    );
    await expectParity(bytes, 9);
  });

  it('runs MatMul + Add + Tanh, a constant-first Sub and a scalar Div, Reshape and Flatten, Softmax and ArgMax cast to float', async () => {
    const bytes = graph(
      [
        { op: 'Sub', inputs: ['c', 'x'], outputs: ['s'] },
        { op: 'Div', inputs: ['s', 'two'], outputs: ['d'] },
        { op: 'Reshape', inputs: ['d', 'shape'], outputs: ['r'] },
        { op: 'Flatten', inputs: ['r'], outputs: ['f'], attributes: { axis: 1 } },
        { op: 'MatMul', inputs: ['f', 'W'], outputs: ['m'] },
        { op: 'Add', inputs: ['m', 'b'], outputs: ['a'] },
        { op: 'Tanh', inputs: ['a'], outputs: ['t'] },
        { op: 'Relu', inputs: ['a'], outputs: ['relu'] },
        { op: 'Add', inputs: ['t', 'relu'], outputs: ['sum'] },
        { op: 'Softmax', inputs: ['sum'], outputs: ['p'], attributes: { axis: -1 } },
        { op: 'ArgMax', inputs: ['p'], outputs: ['label'], attributes: { axis: 1, keepdims: 1 } },
        { op: 'Cast', inputs: ['label'], outputs: ['labelAsFloat'], attributes: { to: 1 } },
        { op: 'Identity', inputs: ['label'], outputs: ['labelOut'] },
      ],
      [
        { name: 'c', dims: [6], data: values(6, 3) }, { name: 'two', dims: [], data: Float32Array.of(2) },
        { name: 'shape', dims: [3], data: BigInt64Array.of(0n, 2n, 3n) },
        { name: 'W', dims: [6, 3], data: values(18, 4) }, { name: 'b', dims: [3], data: values(3, 5) },
      ],
      [{ name: 'x', type: 'FP32', shape: shape(['n', 6]) }],
      [
        { name: 'p', type: 'FP32', shape: shape(['n', 3]) }, { name: 'labelAsFloat', type: 'FP32', shape: shape(['n', 1]) },
        { name: 'labelOut', type: 'INT64', shape: shape(['n', 1]) },
      ],
    );
    const compiled = compileFeedForwardPlan(bytes);
    // The Relu reads 'a' beside the Tanh, so neither is fused into the dense layer.
    expect(compiled.plan!.header.steps.map((s) => s.op)).toEqual(['binaryConstant', 'binaryConstant', 'dense', 'binaryConstant', 'unary', 'unary', 'binary', 'softmax', 'argmax', 'intToFloat']);
    await expectParity(bytes, 5);
    await expectParity(bytes, 1);
  });

  it('runs Gemm with transA on a fixed-shape input and transB, and fuses the Relu after it', async () => {
    const bytes = graph(
      [{ op: 'Gemm', inputs: ['x', 'B', 'C'], outputs: ['g'], attributes: { transA: 1, transB: 1 } }, { op: 'Relu', inputs: ['g'], outputs: ['y'] }],
      [{ name: 'B', dims: [4, 3], data: values(12, 6) }, { name: 'C', dims: [], data: Float32Array.of(0.25) }],
      [{ name: 'x', type: 'FP32', shape: shape([3, 2]) }], [{ name: 'y', type: 'FP32', shape: shape([2, 4]) }],
    );
    expect(compileFeedForwardPlan(bytes).plan!.header.steps.map((s) => s.op)).toEqual(['transpose', 'dense']);
    await expectParity(bytes, 1);
  });

  it.each([
    ['an operator it does not run', graph([{ op: 'Exp', inputs: ['x'], outputs: ['y'] }], [], [{ name: 'x', type: 'FP32', shape: ['b', 4] }], [{ name: 'y', type: 'FP32', shape: ['b', 4] }]),
      "node 'exp_0' (Exp): operator 'Exp' is not one the feed-forward executor runs"],
    ['a symbolic dim past the first', graph([{ op: 'Relu', inputs: ['x'], outputs: ['y'] }], [], [{ name: 'x', type: 'FP32', shape: ['b', 't'] }], [{ name: 'y', type: 'FP32', shape: ['b', 't'] }]),
      "input 'x' has a symbolic dim at axis 1"],
    ['a reshape that merges the batch', graph([{ op: 'Reshape', inputs: ['x', 's'], outputs: ['y'] }], [{ name: 's', dims: [1], data: BigInt64Array.of(-1n) }],
      [{ name: 'x', type: 'FP32', shape: ['b', 4] }], [{ name: 'y', type: 'FP32', shape: ['n'] }]), 'does not keep the batch as the leading dim'],
    ['a MatMul of two computed tensors', graph([{ op: 'MatMul', inputs: ['x', 'x'], outputs: ['y'] }], [], [{ name: 'x', type: 'FP32', shape: [4, 4] }], [{ name: 'y', type: 'FP32', shape: [4, 4] }]),
      'B is not a constant matrix'],
    ['ArgMax along the batch', graph([{ op: 'ArgMax', inputs: ['x'], outputs: ['y'] }], [], [{ name: 'x', type: 'FP32', shape: ['b', 4] }], [{ name: 'y', type: 'INT64', shape: [1, 4] }]),
      'axis 0 of a rank-2 tensor is not the last axis'],
    ['an output declared with another shape', graph([{ op: 'Relu', inputs: ['x'], outputs: ['y'] }], [], [{ name: 'x', type: 'FP32', shape: ['b', 4] }], [{ name: 'y', type: 'FP32', shape: ['b', 5] }]),
      "output 'y' is declared [?,5], the shape proven is [batch,4]"],
    ['a constant broadcast along another axis', graph([{ op: 'Add', inputs: ['x', 'c'], outputs: ['y'] }], [{ name: 'c', dims: [4, 1], data: values(4, 1) }],
      [{ name: 'x', type: 'FP32', shape: [4, 3] }], [{ name: 'y', type: 'FP32', shape: [4, 3] }]), 'is not broadcast along the last axis'],
  ])('refuses %s, naming the node or tensor', (_what, bytes, reason) => {
    const compiled = compileFeedForwardPlan(bytes);
    expect(compiled.plan).toBeUndefined();
    expect(compiled.refused).toContain(reason);
  });
});
