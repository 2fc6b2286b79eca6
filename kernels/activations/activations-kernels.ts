/**
 * TypeScript bindings of softmax / log-softmax / argmax along the last axis
 * (kernels/build/activations.wasm). `x` is row-major [..., cols]; `cols` is the last dimension.
 * NaN policy: see activations-reference.ts (the kernels follow it and the tests check it).
 */
import { loadKernelModule, type KernelInstance } from '../runtime/load-kernel-module';
import { arenaBytesForByteSizes, createArena, type WasmArena } from '../runtime/wasm-arena';
import { checkInteger, checkTypedArray, KernelArgumentError } from '../kernel-arguments/kernel-argument-checks';

export interface ActivationKernelExports {
  softmaxRows(src: number, rows: number, cols: number, dst: number): void;
  logSoftmaxRows(src: number, rows: number, cols: number, dst: number): void;
  argmaxRows(src: number, rows: number, cols: number, dst: number): void;
}

/** The per-process activations kernel instance. */
export function activationKernels(): KernelInstance<ActivationKernelExports> {
  return loadKernelModule<ActivationKernelExports>('activations');
}

function withArena<T>(bytes: number, body: (arena: WasmArena, k: ActivationKernelExports) => T): T {
  const instance = activationKernels();
  const arena = createArena(instance, bytes);
  try {
    return body(arena, instance.exports);
  } finally {
    arena.release();
  }
}

function checkRows(x: Float32Array, cols: number): number {
  checkTypedArray('x', x, Float32Array);
  checkInteger('cols', cols, 1);
  if (x.length % cols !== 0) throw new KernelArgumentError(`'x' length ${x.length} is not a multiple of 'cols' (${cols})`);
  return x.length / cols;
}

function rowwise(x: Float32Array, cols: number, kernel: 'softmaxRows' | 'logSoftmaxRows'): Float32Array {
  const rows = checkRows(x, cols);
  return withArena(arenaBytesForByteSizes(4 * x.length, 4 * x.length), (arena, k) => {
    const src = arena.f32From(x);
    const dst = arena.f32(x.length);
    k[kernel](src.ptr, rows, cols, dst.ptr);
    return dst.view.slice();
  });
}

/** Softmax along the last axis (max-subtracted). @example softmax(logits, numClasses) */
export function softmax(x: Float32Array, cols: number): Float32Array {
  return rowwise(x, cols, 'softmaxRows');
}

/** Log-softmax along the last axis: x - max - ln(sum(exp(x - max))). */
export function logSoftmax(x: Float32Array, cols: number): Float32Array {
  return rowwise(x, cols, 'logSoftmaxRows');
}

/** Index of the maximum of each row (first on ties; first NaN if the row has one). */
export function argmax(x: Float32Array, cols: number): Int32Array {
  const rows = checkRows(x, cols);
  return withArena(arenaBytesForByteSizes(4 * x.length, 4 * rows), (arena, k) => {
    const src = arena.f32From(x);
    const dst = arena.i32(rows);
    k.argmaxRows(src.ptr, rows, cols, dst.ptr);
    return dst.view.slice();
  });
}
