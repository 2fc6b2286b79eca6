import { onnx } from 'onnx-proto';
import { readOnnxSignature, type OnnxSignature } from '../onnx-signature-reader';
import { ModelRepositoryError } from './model-repository-error';

/** ONNX element types as the ONNX spec spells them in type strings (`tensor(float)`). */
const ONNX_TYPE_NAMES: Readonly<Record<number, string>> = {
  [onnx.TensorProto.DataType.FLOAT]: 'float', [onnx.TensorProto.DataType.UINT8]: 'uint8', [onnx.TensorProto.DataType.INT8]: 'int8',
  [onnx.TensorProto.DataType.UINT16]: 'uint16', [onnx.TensorProto.DataType.INT16]: 'int16', [onnx.TensorProto.DataType.INT32]: 'int32',
  [onnx.TensorProto.DataType.INT64]: 'int64', [onnx.TensorProto.DataType.STRING]: 'string', [onnx.TensorProto.DataType.BOOL]: 'bool',
  [onnx.TensorProto.DataType.FLOAT16]: 'float16', [onnx.TensorProto.DataType.DOUBLE]: 'double', [onnx.TensorProto.DataType.UINT32]: 'uint32',
  [onnx.TensorProto.DataType.UINT64]: 'uint64', [onnx.TensorProto.DataType.COMPLEX64]: 'complex64', [onnx.TensorProto.DataType.COMPLEX128]: 'complex128',
  [onnx.TensorProto.DataType.BFLOAT16]: 'bfloat16',
};
/** Element types the Open Inference Protocol (and so the manifest) can carry. */
const SERVABLE_ELEMENT_TYPES = new Set(['float', 'double', 'float16', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'bool', 'string']);

/** What the build needs of an ONNX file before it runs it: its signature and the opsets it is stamped with. */
export interface OnnxInspection {
  readonly signature: OnnxSignature;
  /** `domain@version` per opset import, the default domain written `ai.onnx`. */
  readonly opsets: readonly string[];
}

/**
 * Reads what an ONNX file declares and refuses, naming the file, what onnxruntime-web cannot
 * serve from it: a corrupt file, a graph input or output that is not a tensor (a sequence or
 * map, as scikit-learn classifiers exported with ZipMap have), an element type the protocol has
 * no datatype for, and tensors kept in external data files.
 */
export function inspectOnnxModel(bytes: Uint8Array, file: string, model: string): OnnxInspection {
  const fail = (what: string, cause?: unknown): never => {
    throw new ModelRepositoryError(`model '${model}': ${file} ${what}`, { file, model, cause });
  };
  let decoded: onnx.ModelProto;
  try {
    decoded = onnx.ModelProto.decode(bytes);
  } catch (error) {
    return fail(`is not an ONNX model (${(error as Error).message}); export it again (torch.onnx.export, tf2onnx, skl2onnx) and copy the whole file`, error);
  }
  const graph = decoded.graph;
  if (!graph || (graph.node ?? []).length === 0 || (graph.output ?? []).length === 0) {
    fail('has no graph (no nodes or no outputs); export the model again and copy the whole file');
  }
  const initializers = new Set((graph!.initializer ?? []).map((init) => init.name));
  for (const [kind, values] of [['input', (graph!.input ?? []).filter((v) => !initializers.has(v.name))], ['output', graph!.output ?? []]] as const) {
    for (const value of values) {
      const type = describeType(value.type ?? undefined);
      const element = /^tensor\((.*)\)$/.exec(type)?.[1];
      if (element === undefined) {
        const zipMap = kind === 'output' && type.startsWith('seq(map(');
        fail(`${kind} '${value.name}' is ${type}; hotpath serves tensors only: ${zipMap ? 're-export with zipmap disabled (skl2onnx: options={id(model): {"zipmap": False}}) so the probabilities are a tensor' : 're-export the model so it is a tensor'}`);
      }
      if (!SERVABLE_ELEMENT_TYPES.has(element!)) fail(`${kind} '${value.name}' is ${type}, which the Open Inference Protocol has no datatype for; re-export it as float or an integer type`);
    }
  }
  const external = externalDataFiles(graph!);
  if (external.length > 0) {
    fail(`keeps tensors in external data files (${external.join(', ')}), which onnxruntime-web cannot open (it loads one file from memory); save the model with the tensors inside: onnx.save_model(model, "model.onnx", save_as_external_data=False) (a model over 2 GB cannot be one file: serve it from the container task)`);
  }
  const opsets = (decoded.opsetImport ?? []).map((opset) => `${opset.domain ? opset.domain : 'ai.onnx'}@${Number(opset.version ?? 0)}`);
  return { signature: readOnnxSignature(bytes), opsets };
}

function describeType(type: onnx.ITypeProto | undefined): string {
  if (!type) return 'untyped';
  if (type.tensorType) return `tensor(${ONNX_TYPE_NAMES[type.tensorType.elemType ?? 0] ?? `element type ${type.tensorType.elemType}`})`;
  if (type.sequenceType) return `seq(${describeType(type.sequenceType.elemType ?? undefined)})`;
  if (type.mapType) return `map(${ONNX_TYPE_NAMES[type.mapType.keyType ?? 0] ?? '?'}, ${describeType(type.mapType.valueType ?? undefined).replace(/^tensor\((.*)\)$/, '$1')})`;
  if (type.optionalType) return `optional(${describeType(type.optionalType.elemType ?? undefined)})`;
  if (type.sparseTensorType) return `sparse_tensor(${ONNX_TYPE_NAMES[type.sparseTensorType.elemType ?? 0] ?? '?'})`;
  return 'of an unknown type';
}

/** Locations of every tensor stored outside the file: initializers, Constant values and subgraphs (If, Loop, Scan bodies). */
function externalDataFiles(graph: onnx.IGraphProto): string[] {
  const files = new Set<string>();
  const visitTensor = (tensor: onnx.ITensorProto | null | undefined): void => {
    if (!tensor) return;
    if (tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL || (tensor.externalData ?? []).length > 0) {
      files.add((tensor.externalData ?? []).find((entry) => entry.key === 'location')?.value ?? '(no location)');
    }
  };
  const visitGraph = (g: onnx.IGraphProto): void => {
    for (const init of g.initializer ?? []) visitTensor(init);
    for (const sparse of g.sparseInitializer ?? []) {
      visitTensor(sparse.values);
      visitTensor(sparse.indices);
    }
    for (const node of g.node ?? []) {
      for (const attribute of node.attribute ?? []) {
        visitTensor(attribute.t);
        for (const tensor of attribute.tensors ?? []) visitTensor(tensor);
        if (attribute.g) visitGraph(attribute.g);
        for (const sub of attribute.graphs ?? []) visitGraph(sub);
      }
    }
  };
  visitGraph(graph);
  return [...files];
}
