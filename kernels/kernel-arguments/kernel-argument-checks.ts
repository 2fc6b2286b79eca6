/**
 * Argument checks for kernel bindings. Kernels never throw inside WASM: every binding checks
 * its arguments here, at the TypeScript boundary, and the messages quote the argument.
 */
import { InvalidRequestError } from '../../lib/errors/hotpath-error';

/**
 * A kernel was called with an argument it cannot take. Part of the one error family: a bad
 * argument that reaches a kernel from a request answers 400 with this message, not 500.
 */
export class KernelArgumentError extends InvalidRequestError {
  // Set explicitly: the minified bundles rename classes, and the name is what logs show.
  override readonly name: string = 'KernelArgumentError';
}

/** Throws unless `value` is an integer in [min, max]. */
export function checkInteger(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new KernelArgumentError(`'${name}' must be an integer ${range}, got ${String(value)}`);
  }
  return value;
}

/** Throws unless `value` is a finite number in [min, max]. */
export function checkFinite(name: string, value: number, min = -Infinity, max = Infinity): number {
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new KernelArgumentError(`'${name}' must be a finite number in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

/** Throws unless `array` is an instance of `ctor` (a plain array or another typed array would be copied or misread). */
export function checkTypedArray<T extends ArrayBufferView>(name: string, array: unknown, ctor: abstract new (...args: never[]) => T): T {
  if (!(array instanceof ctor)) {
    throw new KernelArgumentError(`'${name}' must be a ${ctor.name}, got ${describe(array)}`);
  }
  return array;
}

/** Throws unless `length` equals `expected`, naming what the expectation comes from. */
export function checkLength(name: string, length: number, expected: number, because: string): void {
  if (length !== expected) throw new KernelArgumentError(`'${name}' must have ${expected} elements (${because}), got ${length}`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return (value as object).constructor?.name ?? 'object';
}
