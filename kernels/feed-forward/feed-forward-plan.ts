/**
 * The kernel plan of a feed-forward ONNX graph (`*.feed-forward.bin`): what the models-layer
 * build proved the feed-forward executor runs (layers/models/feed-forward-plan-compiler.ts), as
 * buffers, steps and constants. Sizes are per batch row where a buffer is `batched` (the graph's
 * one symbolic dim, always the leading one), else fixed.
 *
 * File layout (little-endian): magic `HPFFPLAN`, u32 version (1), u32 byte length of the JSON
 * header, the header (PlanHeader, UTF-8), zero padding to a multiple of 16 bytes, then the
 * constants as float32 (each constant starts at a multiple of 4 floats).
 */
import { KernelArgumentError } from '../kernel-arguments/kernel-argument-checks';

export const FEED_FORWARD_PLAN_MAGIC = 'HPFFPLAN';
export const FEED_FORWARD_PLAN_VERSION = 1;

/** Element-wise kinds, as the kernels number them (kernels/feed-forward/assembly/elementwise.ts). */
export const BINARY_KINDS = { Add: 0, Sub: 1, Mul: 2, Div: 3 } as const;
export type BinaryKind = (typeof BINARY_KINDS)[keyof typeof BINARY_KINDS];
/** 0: none (a dense layer without activation). */
export const ACTIVATIONS = { none: 0, Relu: 1, Sigmoid: 2, Tanh: 3 } as const;
export type ActivationKind = (typeof ACTIVATIONS)[keyof typeof ACTIVATIONS];

/** A count of elements or rows: `n` per batch row when `batched`, else `n`. */
export interface PlanCount {
  readonly n: number;
  readonly batched: boolean;
}

/** One buffer in kernel memory: float32, or int32 (argmax indices and integer casts of them). */
export interface PlanBuffer {
  readonly type: 'f32' | 'i32';
  readonly elements: PlanCount;
}

export type PlanStep =
  /** y = act(x · wᵀ + bias): x [rows, k], w [n, k] at constant offset `weight`, bias [n] at `bias` (-1: none). */
  | { readonly op: 'dense'; readonly x: number; readonly y: number; readonly rows: PlanCount; readonly k: number; readonly n: number; readonly weight: number; readonly bias: number; readonly activation: ActivationKind }
  /** y [cols, rows] = x [rows, cols]ᵀ (fixed shapes only). */
  | { readonly op: 'transpose'; readonly x: number; readonly y: number; readonly rows: number; readonly cols: number }
  /** y[r, i] = x[r, i] ∘ c[i] (or c ∘ x): c of `n` values or 1, at constant offset `constant`. */
  | { readonly op: 'binaryConstant'; readonly kind: BinaryKind; readonly x: number; readonly y: number; readonly rows: PlanCount; readonly n: number; readonly constant: number; readonly constantLength: number; readonly constantFirst: boolean }
  | { readonly op: 'binary'; readonly kind: BinaryKind; readonly a: number; readonly b: number; readonly y: number; readonly length: PlanCount }
  | { readonly op: 'unary'; readonly kind: ActivationKind; readonly x: number; readonly y: number; readonly length: PlanCount }
  | { readonly op: 'softmax'; readonly x: number; readonly y: number; readonly rows: PlanCount; readonly n: number }
  /** y (i32) = index of the first maximum of each row of n values. */
  | { readonly op: 'argmax'; readonly x: number; readonly y: number; readonly rows: PlanCount; readonly n: number }
  /** y (f32) = x (i32), element by element. */
  | { readonly op: 'intToFloat'; readonly x: number; readonly y: number; readonly length: PlanCount };

/** A graph input or output: its buffer and its shape (-1 first: the batch dim). */
export interface PlanTensor {
  readonly name: string;
  readonly buffer: number;
  /** `FP32` inputs; outputs `FP32`, `INT64` or `INT32` (integer outputs are held as int32). */
  readonly datatype: 'FP32' | 'INT64' | 'INT32';
  readonly shape: readonly number[];
}

export interface PlanHeader {
  readonly format: 'hotpath-feed-forward';
  readonly inputs: readonly PlanTensor[];
  readonly outputs: readonly PlanTensor[];
  readonly buffers: readonly PlanBuffer[];
  readonly steps: readonly PlanStep[];
  /** Floats in the constants section. */
  readonly constantFloats: number;
}

export interface FeedForwardPlan {
  readonly header: PlanHeader;
  readonly constants: Float32Array;
}

const PREFIX_BYTES = 16;
/** Typed arrays use the host's byte order; the file's is little-endian (x86_64 and Graviton both are). */
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function paddedTo16(bytes: number): number {
  return Math.ceil(bytes / 16) * 16;
}

/** The plan as the file holds it. */
export function encodeFeedForwardPlan(plan: FeedForwardPlan): Uint8Array {
  if (plan.constants.length !== plan.header.constantFloats) {
    throw new KernelArgumentError(`feed-forward plan: header says ${plan.header.constantFloats} constant floats, got ${plan.constants.length}`);
  }
  const json = new TextEncoder().encode(JSON.stringify(plan.header));
  const constantsAt = paddedTo16(PREFIX_BYTES + json.length);
  const out = new Uint8Array(constantsAt + plan.constants.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) out[i] = FEED_FORWARD_PLAN_MAGIC.charCodeAt(i);
  view.setUint32(8, FEED_FORWARD_PLAN_VERSION, true);
  view.setUint32(12, json.length, true);
  out.set(json, PREFIX_BYTES);
  if (LITTLE_ENDIAN_HOST) out.set(new Uint8Array(plan.constants.buffer, plan.constants.byteOffset, plan.constants.byteLength), constantsAt);
  else for (let i = 0; i < plan.constants.length; i++) view.setFloat32(constantsAt + 4 * i, plan.constants[i]!, true);
  return out;
}

/** Reads a plan file (its constants a view onto `bytes` where aligned); a file that is not one (or of another version) throws naming what is wrong. */
export function decodeFeedForwardPlan(bytes: Uint8Array): FeedForwardPlan {
  const magic = String.fromCharCode(...bytes.subarray(0, 8));
  if (bytes.length < PREFIX_BYTES || magic !== FEED_FORWARD_PLAN_MAGIC) throw new KernelArgumentError(`feed-forward plan: bad magic '${magic}', expected '${FEED_FORWARD_PLAN_MAGIC}'`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== FEED_FORWARD_PLAN_VERSION) throw new KernelArgumentError(`feed-forward plan: version ${version}, this executor reads version ${FEED_FORWARD_PLAN_VERSION}; rebuild the models layer`);
  const jsonBytes = view.getUint32(12, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + jsonBytes))) as PlanHeader;
  if (header.format !== 'hotpath-feed-forward') throw new KernelArgumentError(`feed-forward plan: header format '${String(header.format)}'`);
  const constantsAt = paddedTo16(PREFIX_BYTES + jsonBytes);
  if (bytes.length !== constantsAt + header.constantFloats * 4) {
    throw new KernelArgumentError(`feed-forward plan: expected ${constantsAt + header.constantFloats * 4} bytes for ${header.constantFloats} constant floats, got ${bytes.length}`);
  }
  // A view onto the file's bytes where they are aligned (no copy: the program copies them into kernel memory once).
  if (LITTLE_ENDIAN_HOST && (bytes.byteOffset + constantsAt) % 4 === 0) return { header, constants: new Float32Array(bytes.buffer, bytes.byteOffset + constantsAt, header.constantFloats) };
  const constants = new Float32Array(header.constantFloats);
  for (let i = 0; i < constants.length; i++) constants[i] = view.getFloat32(constantsAt + 4 * i, true);
  return { header, constants };
}

/** Elements (or rows) of a count for a batch of `rows` rows. */
export function countFor(count: PlanCount, rows: number): number {
  return count.batched ? count.n * rows : count.n;
}
