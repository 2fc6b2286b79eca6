import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { wasmApi, type WasmImports, type WasmMemory, type WasmModule } from './webassembly-api';

/** Exports every kernel module has: the AssemblyScript stub runtime (`--exportRuntime`) and its memory. */
export interface KernelRuntimeExports {
  readonly memory: WasmMemory;
  /** Stub-runtime allocator: `__new(bytes, classId)` returns a 16-byte-aligned pointer; it is never freed. */
  __new(size: number, id: number): number;
}

/** Which build of a family: `release` (-O3), `debug` (bounds checks, names) or `threads` (imported shared memory). */
export type KernelVariant = 'release' | 'debug' | 'threads';

/** One instantiated kernel module. Arenas are carved out of its memory (see wasm-arena.ts). */
export interface KernelInstance<E extends object = object> {
  readonly family: string;
  readonly variant: KernelVariant;
  readonly exports: E & KernelRuntimeExports;
  readonly memory: WasmMemory;
}

export interface LoadKernelOptions {
  readonly variant?: KernelVariant;
  /** Folder holding `<family>[.debug|.threads].wasm`; default `kernels/build` beside this file. */
  readonly buildDir?: string;
}

export class KernelModuleError extends Error {
  override readonly name = 'KernelModuleError';
}

const compiled = new Map<string, WasmModule>();
const shared = new Map<string, KernelInstance>();

function wasmFileName(family: string, variant: KernelVariant): string {
  return variant === 'release' ? `${family}.wasm` : `${family}.${variant}.wasm`;
}

let configuredBuildDir: string | undefined;

/**
 * Sets where this process finds kernel `.wasm` files when a caller passes no `buildDir`. The
 * serving runtime sets it once at INIT from HOTPATH_KERNELS_DIR: in the Lambda bundle the
 * files ship beside the handler, not in `kernels/build`.
 */
export function setKernelBuildDir(dir: string): void {
  configuredBuildDir = dir;
}

/** The configured folder, else `kernels/build` next to `kernels/runtime` (sources, tests, tsx). */
export function defaultKernelBuildDir(): string {
  return configuredBuildDir ?? resolve(__dirname, '..', 'build');
}

/**
 * Compiles `kernels/build/<family>.wasm` synchronously from its bytes, once per process and variant
 * (kernels are small: synchronous compile keeps cold start simple and predictable).
 */
export function compileKernelModule(family: string, options: LoadKernelOptions = {}): WasmModule {
  const variant = options.variant ?? 'release';
  const path = join(options.buildDir ?? defaultKernelBuildDir(), wasmFileName(family, variant));
  const cached = compiled.get(path);
  if (cached) return cached;
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (cause) {
    throw new KernelModuleError(`kernel family '${family}': cannot read ${path}; run 'npm run build:kernels' first`, { cause });
  }
  const module = new wasmApi.Module(bytes);
  compiled.set(path, module);
  return module;
}

/** Imports an AssemblyScript module expects; `abort` never fires in release builds (arguments are checked in TypeScript). */
export function kernelImports(family: string, memory?: WasmMemory): WasmImports {
  return {
    env: {
      ...(memory ? { memory } : {}),
      abort(_msg: number, _file: number, line: number, column: number): never {
        throw new KernelModuleError(`kernel family '${family}' aborted at ${line}:${column} (an argument check is missing in its binding)`);
      },
      seed: () => Date.now(),
    },
  };
}

/** A fresh instance (its own memory, or the given shared memory for the `threads` variant). */
export function instantiateKernelModule<E extends object>(
  family: string,
  options: LoadKernelOptions & { readonly memory?: WasmMemory } = {},
): KernelInstance<E> {
  const variant = options.variant ?? 'release';
  if (variant === 'threads' && !options.memory) {
    throw new KernelModuleError(`kernel family '${family}': the threads variant imports its memory; pass options.memory (a shared WasmMemory)`);
  }
  const module = compileKernelModule(family, options);
  const instance = new wasmApi.Instance(module, kernelImports(family, options.memory));
  const exports = instance.exports as unknown as E & KernelRuntimeExports;
  const memory = options.memory ?? exports.memory;
  return { family, variant, exports, memory };
}

/**
 * The per-process shared instance of a family (release build unless asked otherwise), created on first use.
 * @example const km = loadKernelModule<KmeansExports>('kmeans'); const arena = createArena(km);
 */
export function loadKernelModule<E extends object>(family: string, options: LoadKernelOptions = {}): KernelInstance<E> {
  const variant = options.variant ?? 'release';
  if (variant === 'threads') {
    throw new KernelModuleError(`kernel family '${family}': the threads variant has no per-process instance; use instantiateKernelModule with a shared memory`);
  }
  const key = `${options.buildDir ?? ''}|${family}|${variant}`;
  let instance = shared.get(key);
  if (!instance) {
    instance = instantiateKernelModule<E>(family, options);
    shared.set(key, instance);
  }
  return instance as KernelInstance<E>;
}
