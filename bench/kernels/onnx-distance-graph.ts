import { onnx } from 'onnx-proto';

/**
 * A tiny ONNX graph computing squared L2 distances the way a BLAS-backed runtime does:
 * ‖x‖² − 2·X·Cᵀ + ‖c‖² with one MatMul. Inputs X [N, D], CT [D, K], CN [1, K]; output DIST [N, K].
 */
export function squaredL2DistanceGraph(): Uint8Array {
  const f32 = onnx.TensorProto.DataType.FLOAT;
  const io = (name: string, dims: (number | string)[]): onnx.IValueInfoProto => ({
    name,
    type: { tensorType: { elemType: f32, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  });
  const graph: onnx.IGraphProto = {
    name: 'squared_l2_distances',
    node: [
      { opType: 'MatMul', input: ['X', 'CT'], output: ['XC'] },
      { opType: 'ReduceSumSquare', input: ['X'], output: ['XN'], attribute: [
        { name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: [1] },
        { name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 1 },
      ] },
      { opType: 'Mul', input: ['XC', 'NEG2'], output: ['M2'] },
      { opType: 'Add', input: ['M2', 'XN'], output: ['S'] },
      { opType: 'Add', input: ['S', 'CN'], output: ['DIST'] },
    ],
    initializer: [{ name: 'NEG2', dataType: f32, dims: [], floatData: [-2] }],
    input: [io('X', ['N', 'D']), io('CT', ['D', 'K']), io('CN', [1, 'K'])],
    output: [io('DIST', ['N', 'K'])],
  };
  return onnx.ModelProto.encode({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], producerName: 'hotpath-bench', graph }).finish();
}

/**
 * The graph's inputs for rows `x` (n × d) and centroids `c` (k × d, row-major): X, the
 * centroids transposed (CT, d × k) and their squared norms (CN, 1 × k), as onnxruntime tensors.
 */
export function squaredL2DistanceFeeds(ort: typeof import('onnxruntime-node'), x: Float32Array, n: number, d: number, c: Float32Array, k: number) {
  const ct = new Float32Array(d * k);
  const cn = new Float32Array(k);
  for (let j = 0; j < k; j++) for (let t = 0; t < d; t++) {
    ct[t * k + j] = c[j * d + t]!;
    cn[j]! += c[j * d + t]! ** 2;
  }
  return { X: new ort.Tensor('float32', x, [n, d]), CT: new ort.Tensor('float32', ct, [d, k]), CN: new ort.Tensor('float32', cn, [1, k]) };
}
