import { endianness } from 'node:os';
import { onnx } from 'onnx-proto';

/** ONNX IR version 8 with opset 17: both onnxruntime-web and onnxruntime-node 1.30 load it. */
export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 17;

/** Element types the writer can declare for graph inputs, outputs and initializers. */
export type OnnxElementType = 'FP32' | 'INT64';

/** A dimension: a fixed size, or a symbolic name (a variable dimension, `-1` in the manifest). */
export type OnnxDim = number | string;

/** Attribute values the writer encodes: numbers that are integers become INT, others FLOAT. */
export type OnnxAttributeValue = number | { readonly float: number } | readonly number[] | string;

export interface OnnxNodeSpec {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes?: Readonly<Record<string, OnnxAttributeValue>>;
  readonly name?: string;
}

export interface OnnxGraphSpec {
  readonly name: string;
  readonly docString?: string;
  readonly inputs: readonly OnnxValueSpec[];
  readonly outputs: readonly OnnxValueSpec[];
  readonly initializers: readonly OnnxInitializerSpec[];
  readonly nodes: readonly OnnxNodeSpec[];
  /** Written into the model's metadata_props (e.g. how it was trained). Keys are written sorted. */
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface OnnxValueSpec {
  readonly name: string;
  readonly type: OnnxElementType;
  readonly shape: readonly OnnxDim[];
}

export interface OnnxInitializerSpec {
  readonly name: string;
  readonly dims: readonly number[];
  readonly data: Float32Array | BigInt64Array;
}

const DATA_TYPE: Record<OnnxElementType, onnx.TensorProto.DataType> = {
  FP32: onnx.TensorProto.DataType.FLOAT,
  INT64: onnx.TensorProto.DataType.INT64,
};

/**
 * Encodes a small ONNX graph (opset 17, IR 8) to bytes. Initializers go in `raw_data`
 * (little-endian), so a 60 MB weight set is one copy, not 15M protobuf floats. The output is
 * byte-for-byte deterministic for the same spec.
 *
 * @example
 * const bytes = writeOnnxGraph({
 *   name: 'affine',
 *   inputs: [{ name: 'input', type: 'FP32', shape: ['batch', 4] }],
 *   outputs: [{ name: 'output', type: 'FP32', shape: ['batch', 2] }],
 *   initializers: [{ name: 'W', dims: [2, 4], data: w }, { name: 'b', dims: [2], data: b }],
 *   nodes: [{ op: 'Gemm', inputs: ['input', 'W', 'b'], outputs: ['output'], attributes: { transB: 1 } }],
 * });
 */
export function writeOnnxGraph(spec: OnnxGraphSpec): Uint8Array {
  if (endianness() !== 'LE') throw new Error('writeOnnxGraph: raw_data must be little-endian; this host is big-endian');
  const initializerNames = new Set(spec.initializers.map((init) => init.name));
  for (const input of spec.inputs) {
    if (initializerNames.has(input.name)) throw new Error(`writeOnnxGraph: input '${input.name}' is also an initializer`);
  }
  const model = onnx.ModelProto.create({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'hotpath',
    producerVersion: '1',
    graph: {
      name: spec.name,
      docString: spec.docString ?? '',
      input: spec.inputs.map(valueInfo),
      output: spec.outputs.map(valueInfo),
      initializer: spec.initializers.map(initializerTensor),
      node: spec.nodes.map((node, index) => ({
        name: node.name ?? `${node.op.toLowerCase()}_${index}`,
        opType: node.op,
        input: [...node.inputs],
        output: [...node.outputs],
        attribute: Object.keys(node.attributes ?? {}).sort().map((key) => attribute(key, node.attributes![key]!)),
      })),
    },
    metadataProps: Object.keys(spec.metadata ?? {}).sort().map((key) => ({ key, value: spec.metadata![key] })),
  });
  return onnx.ModelProto.encode(model).finish();
}

function valueInfo(value: OnnxValueSpec): onnx.IValueInfoProto {
  return {
    name: value.name,
    type: {
      tensorType: {
        elemType: DATA_TYPE[value.type],
        shape: { dim: value.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function initializerTensor(init: OnnxInitializerSpec): onnx.ITensorProto {
  const expected = init.dims.reduce((n, d) => n * d, 1);
  if (init.data.length !== expected) {
    throw new Error(`writeOnnxGraph: initializer '${init.name}' has ${init.data.length} values, dims [${init.dims.join(',')}] need ${expected}`);
  }
  return {
    name: init.name,
    dims: [...init.dims],
    dataType: init.data instanceof Float32Array ? onnx.TensorProto.DataType.FLOAT : onnx.TensorProto.DataType.INT64,
    rawData: new Uint8Array(init.data.buffer, init.data.byteOffset, init.data.byteLength),
  };
}

function attribute(name: string, value: OnnxAttributeValue): onnx.IAttributeProto {
  if (typeof value === 'string') return { name, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`writeOnnxGraph: attribute '${name}' = ${value} is not an integer; pass { float: ${value} }`);
    return { name, type: onnx.AttributeProto.AttributeType.INT, i: value };
  }
  if ('float' in value) return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: value.float };
  return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: [...value] };
}
