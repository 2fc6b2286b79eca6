import { onnx } from 'onnx-proto';
import type { TensorSignature } from '../../lib/protocol/tensor';
import type { OipDatatype } from '../../lib/protocol/tensor';

const OIP_BY_ONNX_TYPE: Partial<Record<number, OipDatatype>> = {
  [onnx.TensorProto.DataType.FLOAT]: 'FP32',
  [onnx.TensorProto.DataType.DOUBLE]: 'FP64',
  [onnx.TensorProto.DataType.FLOAT16]: 'FP16',
  [onnx.TensorProto.DataType.INT8]: 'INT8',
  [onnx.TensorProto.DataType.INT16]: 'INT16',
  [onnx.TensorProto.DataType.INT32]: 'INT32',
  [onnx.TensorProto.DataType.INT64]: 'INT64',
  [onnx.TensorProto.DataType.UINT8]: 'UINT8',
  [onnx.TensorProto.DataType.UINT16]: 'UINT16',
  [onnx.TensorProto.DataType.UINT32]: 'UINT32',
  [onnx.TensorProto.DataType.UINT64]: 'UINT64',
  [onnx.TensorProto.DataType.BOOL]: 'BOOL',
  [onnx.TensorProto.DataType.STRING]: 'BYTES',
};

export interface OnnxSignature {
  readonly inputs: TensorSignature[];
  readonly outputs: TensorSignature[];
}

/**
 * Reads the declared graph inputs (initializers excluded) and outputs of an ONNX model, as
 * manifest signatures: symbolic or missing dimensions become -1. The build uses it to check
 * that what the manifest declares is exactly what the file says.
 */
export function readOnnxSignature(bytes: Uint8Array): OnnxSignature {
  const graph = onnx.ModelProto.decode(bytes).graph;
  if (!graph) throw new Error('readOnnxSignature: the model has no graph');
  const initializers = new Set((graph.initializer ?? []).map((init) => init.name));
  return {
    inputs: (graph.input ?? []).filter((value) => !initializers.has(value.name)).map(toSignature),
    outputs: (graph.output ?? []).map(toSignature),
  };
}

function toSignature(value: onnx.IValueInfoProto): TensorSignature {
  const tensorType = value.type?.tensorType;
  const datatype = OIP_BY_ONNX_TYPE[tensorType?.elemType ?? 0];
  if (!tensorType || !datatype) throw new Error(`readOnnxSignature: '${value.name}' is not a tensor of a supported element type`);
  const shape = (tensorType.shape?.dim ?? []).map((dim) => {
    const size = dim.dimValue == null ? 0 : typeof dim.dimValue === 'number' ? dim.dimValue : dim.dimValue.toNumber();
    return size > 0 ? size : -1;
  });
  return { name: value.name ?? '', datatype, shape };
}
