import { onnx } from 'onnx-proto';
import {
  ACTIVATIONS, BINARY_KINDS, type ActivationKind, type BinaryKind, type FeedForwardPlan, type PlanBuffer, type PlanCount, type PlanStep, type PlanTensor,
} from '../../kernels/feed-forward/feed-forward-plan';

/**
 * Reads an ONNX graph and, where every node is one the feed-forward executor runs and every
 * shape is proven, returns its kernel plan; otherwise the reason it is not taken, naming the node.
 *
 * Taken: MatMul and Gemm (alpha, beta, transA on fixed shapes, transB) with a constant weight and
 * a constant bias broadcast along the units, onnxruntime's FusedGemm (Relu, Sigmoid, Tanh),
 * Add/Sub/Mul/Div (a computed tensor with a constant broadcast along the last axis, or two computed
 * tensors of one shape), Relu, Sigmoid, Tanh, Softmax and ArgMax along the last axis,
 * Flatten/Reshape/Identity, Cast between float32 and the integer results of ArgMax, Constant.
 * Shapes: FP32 inputs whose dims are fixed except the first (the batch, the one symbolic dim);
 * every tensor keeps the batch as its leading dim, and the graph's declared outputs must match
 * what is inferred. The weights are written one output unit per row (the layout of `denseLayer`),
 * alpha and beta folded in.
 *
 * @example
 * const compiled = compileFeedForwardPlan(readFileSync('model.onnx'));
 * if (!compiled.plan) console.log(`not taken: ${compiled.refused}`);
 */
export function compileFeedForwardPlan(bytes: Uint8Array): { plan: FeedForwardPlan; refused?: undefined } | { plan?: undefined; refused: string } {
  try {
    return { plan: new PlanCompiler(onnx.ModelProto.decode(bytes)).compile() };
  } catch (error) {
    if (error instanceof NotTaken) return { refused: error.message };
    throw error;
  }
}

/** The graph is valid ONNX, but not one the executor takes; the message says which node and why. */
class NotTaken extends Error {}

const BATCH = 'batch';
type Dim = number | typeof BATCH;
type IntKind = 'INT64' | 'INT32';

interface ConstantValue {
  readonly kind: 'constant';
  readonly dims: readonly number[];
  /** float32 values, or integers (exact in float64). */
  readonly data: Float32Array | Float64Array;
  readonly integer: boolean;
}

interface TensorValue {
  readonly kind: 'tensor';
  readonly buffer: number;
  readonly dims: readonly Dim[];
  /** `FP32`, or an integer type held as int32 in the buffer. */
  readonly datatype: 'FP32' | IntKind;
}

type Value = ConstantValue | TensorValue;

const T = onnx.TensorProto.DataType;

class PlanCompiler {
  readonly #graph: onnx.IGraphProto;
  readonly #values = new Map<string, Value>();
  readonly #buffers: PlanBuffer[] = [];
  readonly #steps: PlanStep[] = [];
  /** Which step wrote each buffer, for fusing an activation into the dense layer before it. */
  readonly #producer = new Map<number, number>();
  /** The constants section in pieces (each at a multiple of 4 floats), joined once at the end. */
  readonly #constantPieces: { readonly offset: number; readonly values: Float32Array }[] = [];
  #constantFloats = 0;
  readonly #uses = new Map<string, number>();
  readonly #opset: number;

  constructor(model: onnx.ModelProto) {
    if (!model.graph) throw new NotTaken('the model has no graph');
    this.#graph = model.graph;
    const main = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
    this.#opset = Number(main?.version ?? 1);
  }

  compile(): FeedForwardPlan {
    const graph = this.#graph;
    for (const node of graph.node ?? []) for (const name of node.input ?? []) if (name) this.#uses.set(name, (this.#uses.get(name) ?? 0) + 1);
    for (const output of graph.output ?? []) this.#uses.set(output.name!, (this.#uses.get(output.name!) ?? 0) + 1);
    for (const initializer of graph.initializer ?? []) this.#values.set(initializer.name!, constantOf(initializer, `initializer '${initializer.name}'`));
    const inputs: PlanTensor[] = [];
    for (const input of graph.input ?? []) {
      if (this.#values.has(input.name!)) continue;
      const value = this.#graphInput(input);
      this.#values.set(input.name!, value);
      inputs.push({ name: input.name!, buffer: value.buffer, datatype: 'FP32', shape: value.dims.map((d) => (d === BATCH ? -1 : d)) });
    }
    for (const node of graph.node ?? []) this.#node(node);
    const outputs = (graph.output ?? []).map((output) => this.#graphOutput(output));
    const constants = new Float32Array(this.#constantFloats);
    for (const piece of this.#constantPieces) constants.set(piece.values, piece.offset);
    return {
      header: { format: 'hotpath-feed-forward', inputs, outputs, buffers: this.#buffers, steps: this.#steps, constantFloats: constants.length },
      constants,
    };
  }

  #graphInput(input: onnx.IValueInfoProto): TensorValue {
    const type = input.type?.tensorType;
    if (type?.elemType !== T.FLOAT) throw new NotTaken(`input '${input.name}' is not float32`);
    const dims = (type.shape?.dim ?? []).map((dim, axis): Dim => {
      const size = dimValue(dim);
      if (size > 0) return size;
      if (axis === 0) return BATCH;
      throw new NotTaken(`input '${input.name}' has a symbolic dim at axis ${axis}; only the first (batch) dim may be symbolic`);
    });
    if (dims.length === 0) throw new NotTaken(`input '${input.name}' is a scalar`);
    return this.#tensor(dims, 'FP32');
  }

  #graphOutput(output: onnx.IValueInfoProto): PlanTensor {
    const value = this.#values.get(output.name!);
    if (!value || value.kind !== 'tensor') throw new NotTaken(`output '${output.name}' is ${value ? 'a constant' : 'not computed by the graph'}`);
    const type = output.type?.tensorType;
    const datatype = type?.elemType === T.FLOAT ? 'FP32' : type?.elemType === T.INT64 ? 'INT64' : type?.elemType === T.INT32 ? 'INT32' : undefined;
    if (!datatype || (datatype === 'FP32') !== (value.datatype === 'FP32')) throw new NotTaken(`output '${output.name}' is declared as element type ${type?.elemType}, the graph computes ${value.datatype}`);
    const declared = (type?.shape?.dim ?? []).map(dimValue);
    const inferred = value.dims;
    const matches = declared.length === inferred.length && declared.every((d, i) => (d > 0 ? inferred[i] === d : inferred[i] === BATCH));
    if (!matches) throw new NotTaken(`output '${output.name}' is declared [${declared.map((d) => (d > 0 ? d : '?')).join(',')}], the shape proven is [${inferred.join(',')}]`);
    return { name: output.name!, buffer: value.buffer, datatype, shape: inferred.map((d) => (d === BATCH ? -1 : d)) };
  }

  #node(node: onnx.INodeProto): void {
    const op = node.opType ?? '';
    const domain = node.domain ?? '';
    const where = `node '${node.name || node.output?.[0]}' (${domain ? `${domain}:` : ''}${op})`;
    const inputs = (node.input ?? []).map((name) => (name ? this.#value(name, where) : undefined));
    const attributes = new Map((node.attribute ?? []).map((a) => [a.name!, a]));
    const out = (value: Value): void => {
      if ((node.output ?? []).length !== 1) throw new NotTaken(`${where} has ${(node.output ?? []).length} outputs`);
      this.#values.set(node.output![0]!, value);
    };
    if (domain === 'com.microsoft' && op === 'FusedGemm') return out(this.#gemm(inputs, attributes, where, activationOf(stringAttribute(attributes, 'activation') ?? '', where)));
    if (domain !== '' && domain !== 'ai.onnx') throw new NotTaken(`${where}: operator domain '${domain}' is not one the feed-forward executor runs`);
    switch (op) {
      case 'Identity':
        return out(required(inputs[0], where));
      case 'Constant':
        return out(this.#constantNode(attributes, where));
      case 'Reshape':
        return out(this.#reshape(required(inputs[0], where), required(inputs[1], where), intAttribute(attributes, 'allowzero', 0), where));
      case 'Flatten':
        return out(this.#flatten(required(inputs[0], where), intAttribute(attributes, 'axis', 1), where));
      case 'Cast':
        return out(this.#cast(required(inputs[0], where), intAttribute(attributes, 'to', 0), where));
      case 'MatMul':
        return out(this.#matMul(required(inputs[0], where), required(inputs[1], where), where));
      case 'Gemm':
        return out(this.#gemm(inputs, attributes, where, ACTIVATIONS.none));
      case 'Add': case 'Sub': case 'Mul': case 'Div':
        return out(this.#binary(BINARY_KINDS[op], required(inputs[0], where), required(inputs[1], where), where));
      case 'Relu': case 'Sigmoid': case 'Tanh':
        return out(this.#activation(ACTIVATIONS[op], required(inputs[0], where), node.input![0]!, where));
      case 'Softmax':
        return out(this.#softmax(required(inputs[0], where), attributes, where));
      case 'ArgMax':
        return out(this.#argMax(required(inputs[0], where), attributes, where));
      default:
        throw new NotTaken(`${where}: operator '${op}' is not one the feed-forward executor runs`);
    }
  }

  #value(name: string, where: string): Value {
    const value = this.#values.get(name);
    if (!value) throw new NotTaken(`${where}: input '${name}' is not defined before it`);
    return value;
  }

  #tensor(dims: readonly Dim[], datatype: TensorValue['datatype']): TensorValue {
    const buffer = this.#buffers.length;
    this.#buffers.push({ type: datatype === 'FP32' ? 'f32' : 'i32', elements: countOf(dims) });
    return { kind: 'tensor', buffer, dims, datatype };
  }

  #step(step: PlanStep): void {
    if ('y' in step) this.#producer.set(step.y, this.#steps.length);
    this.#steps.push(step);
  }

  /** Offset (in floats) of `values` in the constants section, aligned to 4 floats for SIMD loads. */
  #constant(values: ArrayLike<number>): number {
    const offset = Math.ceil(this.#constantFloats / 4) * 4;
    this.#constantPieces.push({ offset, values: values instanceof Float32Array ? values : Float32Array.from(values) });
    this.#constantFloats = offset + values.length;
    return offset;
  }

  #constantNode(attributes: Map<string, onnx.IAttributeProto>, where: string): ConstantValue {
    const tensor = attributes.get('value')?.t;
    if (!tensor) throw new NotTaken(`${where}: only Constant nodes with a 'value' tensor are read`);
    return constantOf(tensor, where);
  }

  #reshape(data: Value, shape: Value, allowZero: number, where: string): Value {
    if (shape.kind !== 'constant' || !shape.integer) throw new NotTaken(`${where}: the target shape is not a constant`);
    const target = Array.from(shape.data);
    if (allowZero === 1 && target.includes(0)) throw new NotTaken(`${where}: allowzero with a 0 in the target shape`);
    const dims = data.dims as readonly Dim[];
    const resolved: (Dim | -1)[] = target.map((d, i) => (d === 0 ? required(dims[i], where) : d));
    const fixed = (list: readonly (Dim | -1)[]) => list.reduce<number>((p, d) => (typeof d === 'number' && d > 0 ? p * d : p), 1);
    const batched = dims[0] === BATCH;
    const perRow = fixed(dims);
    const unknown = resolved.filter((d) => d === -1).length;
    if (unknown > 1) throw new NotTaken(`${where}: more than one -1 in the target shape`);
    let result: Dim[];
    if (!batched) {
      const total = perRow;
      result = resolved.map((d) => (d === -1 ? total / fixed(resolved) : d)) as Dim[];
      if (result.some((d) => typeof d === 'number' && !Number.isInteger(d)) || fixed(result) !== total) throw new NotTaken(`${where}: cannot reshape [${dims.join(',')}] to [${target.join(',')}]`);
    } else {
      // The batch must stay the leading dim: either given back by 0, or the -1 when the rest holds exactly one row's values.
      if (resolved[0] === BATCH) {
        result = resolved.map((d) => (d === -1 ? perRow / fixed(resolved) : d)) as Dim[];
      } else if (resolved[0] === -1 && fixed(resolved) === perRow) {
        result = [BATCH, ...(resolved.slice(1) as Dim[])];
      } else {
        throw new NotTaken(`${where}: reshape of [${dims.join(',')}] to [${target.join(',')}] does not keep the batch as the leading dim (shape not proven)`);
      }
      if (result.slice(1).some((d) => d === BATCH || (typeof d === 'number' && (!Number.isInteger(d) || d < 1))) || fixed(result) !== perRow) {
        throw new NotTaken(`${where}: cannot reshape [${dims.join(',')}] to [${target.join(',')}]`);
      }
    }
    return data.kind === 'constant' ? { ...data, dims: result as number[] } : { ...data, dims: result };
  }

  #flatten(data: Value, axis: number, where: string): Value {
    const dims = data.dims as readonly Dim[];
    const a = axis < 0 ? axis + dims.length : axis;
    if (a < 1 || a > dims.length) throw new NotTaken(`${where}: Flatten axis ${axis} would merge the batch dim`);
    const product = (list: readonly Dim[]) => list.reduce<number>((p, d) => p * (d as number), 1);
    const outer = dims.slice(1, a);
    const result: Dim[] = [dims[0] === BATCH ? BATCH : (dims[0] as number) * product(outer), product(dims.slice(a))];
    if (dims[0] === BATCH && product(outer) !== 1) throw new NotTaken(`${where}: Flatten axis ${axis} would merge the batch dim`);
    return data.kind === 'constant' ? { ...data, dims: result as number[] } : { ...data, dims: result };
  }

  #cast(data: Value, to: number, where: string): Value {
    const target = to === T.FLOAT ? 'FP32' : to === T.INT64 ? 'INT64' : to === T.INT32 ? 'INT32' : undefined;
    if (!target) throw new NotTaken(`${where}: Cast to element type ${to}`);
    if (data.kind === 'constant') {
      if (target !== 'FP32' && !data.integer) throw new NotTaken(`${where}: Cast of a float constant to an integer type`);
      return { ...data, data: target === 'FP32' ? Float32Array.from(data.data) : data.data, integer: target !== 'FP32' };
    }
    if (data.datatype === 'FP32') {
      if (target === 'FP32') return data;
      throw new NotTaken(`${where}: Cast from float32 to an integer type`);
    }
    if (target !== 'FP32') return { ...data, datatype: target };
    const y = this.#tensor(data.dims, 'FP32');
    this.#step({ op: 'intToFloat', x: data.buffer, y: y.buffer, length: countOf(data.dims) });
    return y;
  }

  #floatTensor(value: Value, what: string, where: string): TensorValue {
    if (value.kind !== 'tensor') throw new NotTaken(`${where}: ${what} is a constant (a graph onnxruntime would fold)`);
    if (value.datatype !== 'FP32') throw new NotTaken(`${where}: ${what} is ${value.datatype}, not float32`);
    return value;
  }

  #matMul(a: Value, b: Value, where: string): TensorValue {
    const x = this.#floatTensor(a, 'A', where);
    if (b.kind !== 'constant' || b.dims.length !== 2) throw new NotTaken(`${where}: B is not a constant matrix`);
    const [k, n] = b.dims as [number, number];
    if (x.dims.length < 2 || x.dims.at(-1) !== k) throw new NotTaken(`${where}: A [${x.dims.join(',')}] does not end in B's ${k} rows`);
    const weights = new Float32Array(n * k);
    for (let r = 0; r < k; r++) for (let c = 0; c < n; c++) weights[c * k + r] = b.data[r * n + c]!;
    return this.#dense(x, x.dims.slice(0, -1), k, n, weights, undefined, ACTIVATIONS.none);
  }

  #gemm(inputs: readonly (Value | undefined)[], attributes: Map<string, onnx.IAttributeProto>, where: string, activation: ActivationKind): TensorValue {
    const alpha = floatAttribute(attributes, 'alpha', 1);
    const beta = floatAttribute(attributes, 'beta', 1);
    const transA = intAttribute(attributes, 'transA', 0);
    const transB = intAttribute(attributes, 'transB', 0);
    let x = this.#floatTensor(required(inputs[0], where), 'A', where);
    const b = required(inputs[1], where);
    if (x.dims.length !== 2) throw new NotTaken(`${where}: A has rank ${x.dims.length}, Gemm takes rank 2`);
    if (b.kind !== 'constant' || b.dims.length !== 2) throw new NotTaken(`${where}: B is not a constant matrix`);
    if (transA) {
      if (x.dims.includes(BATCH)) throw new NotTaken(`${where}: transA on a tensor with a batch dim (the batch would become the inner dim)`);
      const [rows, cols] = x.dims as [number, number];
      const t = this.#tensor([cols, rows], 'FP32');
      this.#step({ op: 'transpose', x: x.buffer, y: t.buffer, rows, cols });
      x = t;
    }
    const [m, k] = x.dims as [Dim, number];
    const n = transB ? b.dims[0]! : b.dims[1]!;
    if ((transB ? b.dims[1] : b.dims[0]) !== k) throw new NotTaken(`${where}: A [${x.dims.join(',')}] and B [${b.dims.join(',')}] (transB ${transB}) do not multiply`);
    // One output unit per row, alpha folded in (alpha 1, transB 1: the weights as they are).
    const weights = transB && alpha === 1 ? Float32Array.from(b.data) : new Float32Array(n * k);
    if (!(transB && alpha === 1)) for (let j = 0; j < n; j++) for (let t = 0; t < k; t++) weights[j * k + t] = alpha * (transB ? b.data[j * k + t]! : b.data[t * n + j]!);
    let bias: Float64Array | undefined;
    const c = inputs[2];
    if (c !== undefined && beta !== 0) {
      if (c.kind !== 'constant') throw new NotTaken(`${where}: C is not a constant`);
      const length = c.data.length;
      const along = c.dims.length === 0 || length === 1 || (length === n && c.dims.at(-1) === n && c.dims.slice(0, -1).every((d) => d === 1));
      if (!along || c.dims.length > 2) throw new NotTaken(`${where}: C [${c.dims.join(',')}] is not broadcast along the ${n} units`);
      bias = Float64Array.from({ length: n }, (_, j) => Math.fround(beta * c.data[length === 1 ? 0 : j]!));
    }
    return this.#dense(x, [m], k, n, weights, bias, activation);
  }

  #dense(x: TensorValue, leading: readonly Dim[], k: number, n: number, weights: Float32Array, bias: Float64Array | undefined, activation: ActivationKind): TensorValue {
    const y = this.#tensor([...leading, n], 'FP32');
    this.#step({
      op: 'dense', x: x.buffer, y: y.buffer, rows: countOf(leading), k, n,
      weight: this.#constant(weights), bias: bias ? this.#constant(bias) : -1, activation,
    });
    return y;
  }

  #binary(kind: BinaryKind, a: Value, b: Value, where: string): TensorValue {
    if (a.kind === 'tensor' && b.kind === 'tensor') {
      const x = this.#floatTensor(a, 'A', where);
      const z = this.#floatTensor(b, 'B', where);
      if (x.dims.join() !== z.dims.join()) throw new NotTaken(`${where}: A [${x.dims.join(',')}] and B [${z.dims.join(',')}] differ (only a constant is broadcast)`);
      const y = this.#tensor(x.dims, 'FP32');
      this.#step({ op: 'binary', kind, a: x.buffer, b: z.buffer, y: y.buffer, length: countOf(x.dims) });
      return y;
    }
    const constantFirst = a.kind === 'constant';
    const x = this.#floatTensor(constantFirst ? b : a, constantFirst ? 'B' : 'A', where);
    const c = (constantFirst ? a : b) as ConstantValue;
    const n = x.dims.at(-1) as number;
    const length = c.data.length;
    const along = c.dims.length <= x.dims.length && (length === 1 || (c.dims.at(-1) === n && length === n));
    if (!along || typeof n !== 'number') throw new NotTaken(`${where}: constant [${c.dims.join(',')}] is not broadcast along the last axis of [${x.dims.join(',')}]`);
    const y = this.#tensor(x.dims, 'FP32');
    this.#step({
      op: 'binaryConstant', kind, x: x.buffer, y: y.buffer, rows: countOf(x.dims.slice(0, -1)), n,
      constant: this.#constant(c.data), constantLength: length, constantFirst,
    });
    return y;
  }

  /** Fused into the dense layer that wrote its input when nothing else reads that layer's output; else a step. */
  #activation(kind: ActivationKind, input: Value, inputName: string, where: string): TensorValue {
    const x = this.#floatTensor(input, 'X', where);
    const producer = this.#producer.get(x.buffer);
    const step = producer === undefined ? undefined : this.#steps[producer];
    if (step?.op === 'dense' && step.activation === ACTIVATIONS.none && this.#uses.get(inputName) === 1) {
      this.#steps[producer!] = { ...step, activation: kind };
      return x;
    }
    const y = this.#tensor(x.dims, 'FP32');
    this.#step({ op: 'unary', kind, x: x.buffer, y: y.buffer, length: countOf(x.dims) });
    return y;
  }

  #lastAxis(x: TensorValue, attributes: Map<string, onnx.IAttributeProto>, fallback: number, where: string): void {
    const axis = intAttribute(attributes, 'axis', fallback);
    const rank = x.dims.length;
    if ((axis < 0 ? axis + rank : axis) !== rank - 1) throw new NotTaken(`${where}: axis ${axis} of a rank-${rank} tensor is not the last axis`);
  }

  #softmax(input: Value, attributes: Map<string, onnx.IAttributeProto>, where: string): TensorValue {
    const x = this.#floatTensor(input, 'input', where);
    // Before opset 13 Softmax flattened from `axis` (default 1): the same as the last axis only then.
    this.#lastAxis(x, attributes, this.#opset >= 13 ? -1 : 1, where);
    const y = this.#tensor(x.dims, 'FP32');
    this.#step({ op: 'softmax', x: x.buffer, y: y.buffer, rows: countOf(x.dims.slice(0, -1)), n: x.dims.at(-1) as number });
    return y;
  }

  #argMax(input: Value, attributes: Map<string, onnx.IAttributeProto>, where: string): TensorValue {
    const x = this.#floatTensor(input, 'data', where);
    this.#lastAxis(x, attributes, 0, where);
    if (intAttribute(attributes, 'select_last_index', 0) !== 0) throw new NotTaken(`${where}: select_last_index 1`);
    const keep = intAttribute(attributes, 'keepdims', 1) === 1;
    const dims = keep ? [...x.dims.slice(0, -1), 1] : x.dims.slice(0, -1);
    if (dims.length === 0) throw new NotTaken(`${where}: ArgMax to a scalar`);
    const y = this.#tensor(dims, 'INT64');
    this.#step({ op: 'argmax', x: x.buffer, y: y.buffer, rows: countOf(x.dims.slice(0, -1)), n: x.dims.at(-1) as number });
    return y;
  }
}

function required<V>(value: V | undefined, where: string): V {
  if (value === undefined) throw new NotTaken(`${where}: an input is missing`);
  return value;
}

function countOf(dims: readonly Dim[]): PlanCount {
  const batched = dims[0] === BATCH;
  return { n: dims.reduce<number>((p, d) => (d === BATCH ? p : p * d), 1), batched };
}

function dimValue(dim: onnx.TensorShapeProto.IDimension): number {
  if (dim.dimValue == null) return 0;
  return typeof dim.dimValue === 'number' ? dim.dimValue : dim.dimValue.toNumber();
}

function toNumber(value: number | { toNumber(): number } | null | undefined): number {
  if (value == null) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}

function intAttribute(attributes: Map<string, onnx.IAttributeProto>, name: string, fallback: number): number {
  const attribute = attributes.get(name);
  return attribute ? toNumber(attribute.i) : fallback;
}

function floatAttribute(attributes: Map<string, onnx.IAttributeProto>, name: string, fallback: number): number {
  const attribute = attributes.get(name);
  return attribute ? (attribute.f ?? 0) : fallback;
}

function stringAttribute(attributes: Map<string, onnx.IAttributeProto>, name: string): string | undefined {
  const value = attributes.get(name)?.s;
  return value ? new TextDecoder().decode(value) : undefined;
}

function activationOf(name: string, where: string): ActivationKind {
  if (name === 'Relu' || name === 'Sigmoid' || name === 'Tanh') return ACTIVATIONS[name];
  throw new NotTaken(`${where}: fused activation '${name}' is not one the feed-forward executor runs`);
}

/** A float32, int64 or int32 initializer's values (float64 holds each exactly). */
function constantOf(tensor: onnx.ITensorProto, where: string): ConstantValue {
  const dims = (tensor.dims ?? []).map(toNumber);
  const count = dims.reduce((p, d) => p * d, 1);
  if (tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) throw new NotTaken(`${where}: external data`);
  const raw = tensor.rawData && tensor.rawData.length > 0 ? tensor.rawData : undefined;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : undefined;
  if (tensor.dataType === T.FLOAT) {
    if (raw && raw.byteLength !== 4 * count) throw new NotTaken(`${where}: ${raw.byteLength} bytes of raw data for ${count} floats`);
    // Little-endian raw data (the ONNX format's), copied out of the protobuf buffer.
    const data = raw ? new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)) : Float32Array.from(tensor.floatData ?? []);
    if (data.length !== count) throw new NotTaken(`${where}: ${data.length} floats for dims [${dims.join(',')}]`);
    return { kind: 'constant', dims, data, integer: false };
  }
  const data = new Float64Array(count);
  let integer = false;
  if (tensor.dataType === T.INT64) {
    integer = true;
    for (let i = 0; i < count; i++) data[i] = view ? Number(view.getBigInt64(8 * i, true)) : toNumber(tensor.int64Data![i]);
  } else if (tensor.dataType === T.INT32) {
    integer = true;
    for (let i = 0; i < count; i++) data[i] = view ? view.getInt32(4 * i, true) : tensor.int32Data![i]!;
  } else {
    throw new NotTaken(`${where}: constant of element type ${tensor.dataType}`);
  }
  return { kind: 'constant', dims, data, integer };
}
