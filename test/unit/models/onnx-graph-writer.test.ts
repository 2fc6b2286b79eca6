import * as ortNode from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { ONNX_IR_VERSION, ONNX_OPSET, writeOnnxGraph, type OnnxGraphSpec } from '../../../layers/models/onnx-graph-writer';
import { readOnnxSignature } from '../../../layers/models/onnx-signature-reader';

/** y = relu(x · Wᵀ + b) with W [2,3]: a graph small enough to check by hand. */
function affineReluSpec(): OnnxGraphSpec {
  return {
    name: 'affine-relu',
    inputs: [{ name: 'input', type: 'FP32', shape: ['batch', 3] }],
    outputs: [{ name: 'output', type: 'FP32', shape: ['batch', 2] }, { name: 'label', type: 'INT64', shape: ['batch'] }],
    initializers: [
      { name: 'W', dims: [2, 3], data: Float32Array.from([1, 2, 3, -1, -1, -1]) },
      { name: 'b', dims: [2], data: Float32Array.from([0.5, 10]) },
    ],
    nodes: [
      { op: 'Gemm', inputs: ['input', 'W', 'b'], outputs: ['z'], attributes: { transB: 1, alpha: { float: 1 } } },
      { op: 'Relu', inputs: ['z'], outputs: ['output'] },
      { op: 'ArgMax', inputs: ['output'], outputs: ['label'], attributes: { axis: 1, keepdims: 0 } },
    ],
    metadata: { purpose: 'test' },
  };
}

describe('writeOnnxGraph', () => {
  it('writes IR 8 / opset 17 with symbolic batch dims that read back as -1', () => {
    // Act
    const bytes = writeOnnxGraph(affineReluSpec());

    // Assess
    const model = onnx.ModelProto.decode(bytes);
    expect(Number(model.irVersion)).toBe(ONNX_IR_VERSION);
    expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', ONNX_OPSET]]);
    expect(model.metadataProps.map((p) => [p.key, p.value])).toEqual([['purpose', 'test']]);
    expect(readOnnxSignature(bytes)).toEqual({
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 3] }],
      outputs: [{ name: 'output', datatype: 'FP32', shape: [-1, 2] }, { name: 'label', datatype: 'INT64', shape: [-1] }],
    });
  });

  it('writes the same bytes for the same spec', () => {
    // Act
    const first = writeOnnxGraph(affineReluSpec());
    const second = writeOnnxGraph(affineReluSpec());

    // Assess
    expect(Buffer.from(first).equals(Buffer.from(second))).toBe(true);
  });

  it('computes what the graph says when onnxruntime-node runs it', async () => {
    // Prepare
    const session = await ortNode.InferenceSession.create(writeOnnxGraph(affineReluSpec()));
    const input = new ortNode.Tensor('float32', Float32Array.from([1, 1, 1, -4, 0, 1]), [2, 3]);

    // Act
    const outputs = await session.run({ input });

    // Assess: row 0: [6.5, 7]; row 1: [-0.5 → 0, 13]
    expect(Array.from(outputs.output!.data as Float32Array)).toEqual([6.5, 7, 0, 13]);
    expect(Array.from(outputs.label!.data as BigInt64Array, Number)).toEqual([1, 1]);
    await session.release();
  });

  it('refuses an initializer whose value count contradicts its dims', () => {
    // Prepare
    const spec = { ...affineReluSpec(), initializers: [{ name: 'W', dims: [2, 3], data: new Float32Array(5) }] };

    // Act / Assess
    expect(() => writeOnnxGraph(spec)).toThrow("initializer 'W' has 5 values, dims [2,3] need 6");
  });

  it('refuses a non-integer attribute given as a plain number', () => {
    // Prepare
    const spec = { ...affineReluSpec(), nodes: [{ op: 'Gemm', inputs: ['input', 'W', 'b'], outputs: ['output'], attributes: { alpha: 0.5 } }] };

    // Act / Assess
    expect(() => writeOnnxGraph(spec)).toThrow("attribute 'alpha' = 0.5 is not an integer; pass { float: 0.5 }");
  });
});
