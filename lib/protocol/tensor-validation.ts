import type { TensorSignature } from './tensor';
import { InvalidRequestError } from '../errors/hotpath-error';
import type { DimConstraint, InputConstraint } from '../models/model-manifest-types';
import { isFloatDatatype, halfBitsToFloat32 } from './datatypes';
import type { RequestedOutput } from './infer-request-decoder';
import { MAX_DIM, elementCountText, elementCountWithin, type HostTensor } from './tensor';

/** What the validator needs to know about a model. */
export interface ModelSignature {
  readonly name: string;
  readonly inputs: readonly TensorSignature[];
  readonly outputs: readonly TensorSignature[];
  readonly maxBatchSize: number;
  /** Inputs that must hold finite values; undefined: every float input. */
  readonly finiteInputs?: readonly string[];
  /** Rules the shapes cannot state (allowed values, dims tied to other inputs, multiples, minimums), keyed by input name. */
  readonly constraints?: Readonly<Record<string, InputConstraint>>;
}

/**
 * Checks decoded inputs against the model's signature: names, required inputs, datatype,
 * rank and fixed dimensions, batch size, finiteness where the model requires it, and then the
 * model's constraints (allowed values first, since a dim may depend on a value). Every message
 * names the input and says what the model expects.
 */
export function validateInferInputs(model: ModelSignature, inputs: readonly HostTensor[]): void {
  const byName = new Map(model.inputs.map((s) => [s.name, s]));
  for (const tensor of inputs) {
    const signature = byName.get(tensor.name);
    if (!signature) {
      throw new InvalidRequestError(
        `model '${model.name}' has no input '${tensor.name}'; its inputs are: ${model.inputs.map((s) => s.name).join(', ')}`,
      );
    }
    checkDatatype(model, signature, tensor);
    checkShape(model, signature, tensor);
    checkHoldsShape(tensor);
    if (isFloatDatatype(tensor.datatype) && (model.finiteInputs ?? model.inputs.map((s) => s.name)).includes(tensor.name)) {
      checkFinite(tensor);
    }
  }
  const given = new Set(inputs.map((t) => t.name));
  if (given.size !== inputs.length) {
    const twice = inputs.find((t, i) => inputs.findIndex((u) => u.name === t.name) !== i)!;
    throw new InvalidRequestError(`input '${twice.name}' appears more than once`);
  }
  const missing = model.inputs.filter((s) => !given.has(s.name));
  if (missing.length > 0) {
    throw new InvalidRequestError(
      `model '${model.name}' needs input${missing.length > 1 ? 's' : ''} ${missing.map((s) => `'${s.name}' (${s.datatype} ${JSON.stringify(s.shape)})`).join(', ')}`,
    );
  }
  if (model.constraints !== undefined) checkConstraints(model.constraints, inputs);
}

/** Checks requested output names; returns the names to compute (every output when none was asked for). */
export function resolveRequestedOutputs<T extends Pick<RequestedOutput, 'name'>>(model: ModelSignature, requested: readonly T[] | undefined): string[] {
  if (requested === undefined || requested.length === 0) return model.outputs.map((s) => s.name);
  const known = new Set(model.outputs.map((s) => s.name));
  for (const output of requested) {
    if (!known.has(output.name)) {
      throw new InvalidRequestError(
        `model '${model.name}' has no output '${output.name}'; its outputs are: ${[...known].join(', ')}`,
      );
    }
  }
  return requested.map((o) => o.name);
}

function checkDatatype(model: ModelSignature, signature: TensorSignature, tensor: HostTensor): void {
  if (tensor.datatype === signature.datatype) return;
  const hint = tensor.datatype === 'BYTES' ? `; model '${model.name}' takes numeric tensors, not BYTES` : '';
  throw new InvalidRequestError(
    `input '${tensor.name}': expected datatype ${signature.datatype}, got ${tensor.datatype}${hint}`,
  );
}

function checkShape(model: ModelSignature, signature: TensorSignature, tensor: HostTensor): void {
  const expected = signature.shape;
  const got = tensor.shape;
  const matches = expected.length === got.length && expected.every((d, i) => d === -1 || d === got[i]);
  if (!matches) {
    throw new InvalidRequestError(`input '${tensor.name}': expected shape ${JSON.stringify(expected)}, got ${JSON.stringify(got)}`);
  }
  if (model.maxBatchSize > 0 && expected[0] === -1 && got[0]! > model.maxBatchSize) {
    throw new InvalidRequestError(
      `input '${tensor.name}': batch of ${got[0]} is over model '${model.name}''s max batch size ${model.maxBatchSize}; split the request or use batch scoring`,
    );
  }
}

/**
 * The core takes tensors from every door, not only from the request decoder (which already
 * bounds them): dims in [0, MAX_DIM] and data holding exactly the shape's elements, before a
 * runtime is handed a length it would trust.
 */
function checkHoldsShape(tensor: HostTensor): void {
  const badDim = tensor.shape.findIndex((d) => !Number.isInteger(d) || d < 0 || d > MAX_DIM);
  if (badDim >= 0) {
    throw new InvalidRequestError(`input '${tensor.name}': dim ${badDim} is ${tensor.shape[badDim]}; each dim must be an integer from 0 to ${MAX_DIM}`);
  }
  if (elementCountWithin(tensor.shape, tensor.data.length) !== tensor.data.length) {
    throw new InvalidRequestError(
      `input '${tensor.name}': shape ${JSON.stringify(tensor.shape)} holds ${elementCountText(tensor.shape)} elements but the tensor has ${tensor.data.length}`,
    );
  }
}

function checkFinite(tensor: HostTensor): void {
  const data = tensor.data as Float32Array | Float64Array | Uint16Array;
  const isHalf = tensor.datatype === 'FP16';
  for (let i = 0; i < data.length; i++) {
    const value = isHalf ? halfBitsToFloat32(data[i]!) : data[i]!;
    // v - v is 0 for every finite v and NaN for NaN and ±Infinity: one subtraction per element.
    if (value - value !== 0) {
      throw new InvalidRequestError(
        `input '${tensor.name}': element ${i} (index [${unravel(i, tensor.shape).join(',')}]) is ${value}; this model accepts finite values only`,
      );
    }
  }
}

function unravel(flatIndex: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length);
  let rest = flatIndex;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    index[axis] = rest % shape[axis]!;
    rest = Math.floor(rest / shape[axis]!);
  }
  return index;
}

function checkConstraints(constraints: Readonly<Record<string, InputConstraint>>, inputs: readonly HostTensor[]): void {
  const byName = new Map(inputs.map((t) => [t.name, t]));
  const entries = Object.entries(constraints);
  for (const [name, constraint] of entries) {
    const tensor = byName.get(name);
    if (tensor && constraint.oneOf) checkOneOf(tensor, constraint.oneOf, constraint.unit);
  }
  for (const [name, constraint] of entries) {
    const tensor = byName.get(name);
    for (const dim of tensor ? constraint.dims ?? [] : []) checkDim(tensor!, dim, byName);
  }
}

function checkOneOf(tensor: HostTensor, allowed: readonly number[], unit: string | undefined): void {
  const count = tensor.data.length;
  for (let i = 0; i < count; i++) {
    const value = elementAsNumber(tensor, i);
    if (allowed.includes(value)) continue;
    const which = tensor.shape.length === 0 || count === 1 ? '' : ` element ${i} (index [${unravel(i, tensor.shape).join(',')}])`;
    throw new InvalidRequestError(
      `input '${tensor.name}':${which} must be one of ${allowed.join(', ')}${unit ? ` (${unit})` : ''}, got ${printElement(tensor, i)}`,
    );
  }
}

function checkDim(tensor: HostTensor, dim: DimConstraint, byName: ReadonlyMap<string, HostTensor>): void {
  const size = tensor.shape[dim.axis];
  if (size === undefined) return;
  const rules: string[] = [];
  let holds = true;
  if (dim.min !== undefined) {
    rules.push(`at least ${dim.min}`);
    holds &&= size >= dim.min;
  }
  if (dim.multipleOf !== undefined) {
    rules.push(`a multiple of ${dim.multipleOf}`);
    holds &&= size % dim.multipleOf === 0;
  }
  if (dim.equalsDimOf !== undefined) {
    const other = byName.get(dim.equalsDimOf.input)?.shape[dim.equalsDimOf.axis];
    if (other !== undefined) {
      rules.push(`equal to dim ${dim.equalsDimOf.axis} of input '${dim.equalsDimOf.input}' (${other})`);
      holds &&= size === other;
    }
  }
  if (dim.byValueOf !== undefined) {
    const source = byName.get(dim.byValueOf.input);
    if (source !== undefined && source.data.length > 0) {
      const value = printElement(source, 0);
      const expected = dim.byValueOf.sizes[value];
      if (expected === undefined) {
        throw new InvalidRequestError(
          `input '${source.name}': must be one of ${Object.keys(dim.byValueOf.sizes).join(', ')} (it sets dim ${dim.axis} of input '${tensor.name}'), got ${value}`,
        );
      }
      rules.push(`${expected} when '${source.name}' is ${value}`);
      holds &&= size === expected;
    }
  }
  if (holds) return;
  throw new InvalidRequestError(
    `input '${tensor.name}': dim ${dim.axis}${dim.label ? ` (${dim.label})` : ''} must be ${rules.join(' and ')}, got ${size}${dim.hint ? `; ${dim.hint}` : ''}`,
  );
}

/** Element `i` as a number (FP16 bits as their value; 64-bit integers exact up to 2^53, which is all `oneOf` may hold). */
function elementAsNumber(tensor: HostTensor, i: number): number {
  const value = (tensor.data as ArrayLike<number | bigint>)[i]!;
  if (typeof value === 'bigint') return Number(value);
  return tensor.datatype === 'FP16' ? halfBitsToFloat32(value) : value;
}

function printElement(tensor: HostTensor, i: number): string {
  const value = (tensor.data as ArrayLike<number | bigint>)[i]!;
  return typeof value === 'bigint' ? value.toString() : String(elementAsNumber(tensor, i));
}
