import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { wasmApi, type WasmImports, type WasmMemory, type WasmModule } from './webassembly-api';

/** Exports every kernel module has: the AssemblyScript stub runtime (`--exportRuntime`) and its memory. */
export interface KernelRuntimeExports {
  readonly memory: WasmMemory;
  /** Stub-runtime allocator: `__new(bytes, classId)` returns a 16-byte-aligned pointer; it is never freed. */
  __new(size: number, id: number): number;
}

/** Which build of a family: `release` (-O3), `debug` (bounds checks, names) or `threads` (imported shared memory); each release build may also come as relaxed SIMD (KernelSimdLevel). */
export type KernelVariant = 'release' | 'debug' | 'threads';

/**
 * Which SIMD instruction set a kernel build uses: `simd` (WASM SIMD128: the default build and the
 * reference) or `relaxed-simd` (adds f32x4.relaxed_madd, a fused multiply-add where the CPU has
 * one, in the dot-product microkernels; results may differ from `simd` in the last bits).
 */
export type KernelSimdLevel = 'simd' | 'relaxed-simd';

/** A requested SIMD level: `auto` is `relaxed-simd` when the engine validates it, else `simd`. */
export type KernelSimdChoice = KernelSimdLevel | 'auto';

/** One instantiated kernel module. Arenas are carved out of its memory (see wasm-arena.ts). */
export interface KernelInstance<E extends object = object> {
  readonly family: string;
  readonly variant: KernelVariant;
  /** The SIMD level of the build this instance runs (`simd` for families with no relaxed build). */
  readonly simd: KernelSimdLevel;
  readonly exports: E & KernelRuntimeExports;
  readonly memory: WasmMemory;
}

export interface LoadKernelOptions {
  readonly variant?: KernelVariant;
  /** Folder holding `<family>[.debug|.threads][.relaxed].wasm`; default `kernels/build` beside this file. */
  readonly buildDir?: string;
  /** SIMD level; default the process-wide choice (setKernelSimdLevel), else `auto`. */
  readonly simd?: KernelSimdChoice;
}

export class KernelModuleError extends Error {
  override readonly name = 'KernelModuleError';
}

const compiled = new Map<string, WasmModule>();
const shared = new Map<string, KernelInstance>();

function wasmFileName(family: string, variant: KernelVariant, simd: KernelSimdLevel): string {
  return `${family}${variant === 'release' ? '' : `.${variant}`}${simd === 'relaxed-simd' ? '.relaxed' : ''}.wasm`;
}

/**
 * The smallest module using a relaxed-SIMD instruction: (func (param v128 v128 v128) (result v128)
 * (f32x4.relaxed_madd (local.get 0) (local.get 1) (local.get 2))). Engines without relaxed SIMD
 * (Node 20 without --experimental-wasm-relaxed-simd) refuse it in WebAssembly.validate.
 */
const RELAXED_SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type section: (v128, v128, v128) -> v128
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b, // code: 3 local.get, f32x4.relaxed_madd (0xfd 0x105), end
]);

let relaxedSimdSupported: boolean | undefined;

/** Whether this engine runs relaxed SIMD (Node ≥ 22, so Lambda's nodejs22.x; Node 20 only with --experimental-wasm-relaxed-simd). Probed once. */
export function engineSupportsRelaxedSimd(): boolean {
  relaxedSimdSupported ??= wasmApi.validate(RELAXED_SIMD_PROBE);
  return relaxedSimdSupported;
}

let configuredSimd: KernelSimdChoice = 'auto';

/** `choice` as a level this engine runs; an explicit `relaxed-simd` it cannot run throws. */
function resolveSimdChoice(choice: KernelSimdChoice): KernelSimdLevel {
  if (choice === 'simd') return 'simd';
  if (engineSupportsRelaxedSimd()) return 'relaxed-simd';
  if (choice === 'relaxed-simd') {
    throw new KernelModuleError(
      `kernel SIMD level 'relaxed-simd' was asked for, but this engine does not support relaxed SIMD (Node ${process.versions.node}); use Node >= 22, Node 20 with --experimental-wasm-relaxed-simd, or 'auto'`,
    );
  }
  return 'simd';
}

/**
 * Sets the SIMD level of the kernel builds this process loads when a caller passes no `simd`
 * option: `auto` (the default), `simd` or `relaxed-simd` (which throws here when the engine cannot
 * run it). Call it before the first kernel is loaded: instances and thread pools made earlier keep
 * their build. The serving runtime sets it once at INIT from HOTPATH_KERNEL_SIMD.
 */
export function setKernelSimdLevel(choice: KernelSimdChoice): void {
  resolveSimdChoice(choice);
  configuredSimd = choice;
}

/**
 * The SIMD level kernel families that have a relaxed build get by default in this process:
 * `relaxed-simd` when the engine supports it (unless set to `simd`), else `simd`.
 * @example console.log(`kernels: ${kernelSimdLevel()}`); // 'relaxed-simd' on Lambda's nodejs22.x
 */
export function kernelSimdLevel(): KernelSimdLevel {
  return resolveSimdChoice(configuredSimd);
}

const fileExists = new Map<string, boolean>();

/** The file and SIMD level a load with these options uses: the relaxed build when chosen and the family has one, else the plain build. */
function kernelFile(family: string, options: LoadKernelOptions): { path: string; simd: KernelSimdLevel } {
  const variant = options.variant ?? 'release';
  const dir = options.buildDir ?? defaultKernelBuildDir();
  if (resolveSimdChoice(options.simd ?? configuredSimd) === 'relaxed-simd') {
    const path = join(dir, wasmFileName(family, variant, 'relaxed-simd'));
    let exists = fileExists.get(path);
    if (exists === undefined) {
      exists = existsSync(path);
      fileExists.set(path, exists);
    }
    // Families with no dot-product microkernels (and debug builds) have no relaxed build.
    if (exists) return { path, simd: 'relaxed-simd' };
  }
  return { path: join(dir, wasmFileName(family, variant, 'simd')), simd: 'simd' };
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
 * Compiles `kernels/build/<family>.wasm` synchronously from its bytes, once per process, variant
 * and SIMD level (kernels are small: synchronous compile keeps cold start simple and predictable).
 */
export function compileKernelModule(family: string, options: LoadKernelOptions = {}): WasmModule {
  const { path } = kernelFile(family, options);
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
  const { simd } = kernelFile(family, options);
  const module = compileKernelModule(family, { ...options, simd });
  const instance = new wasmApi.Instance(module, kernelImports(family, options.memory));
  const exports = instance.exports as unknown as E & KernelRuntimeExports;
  const memory = options.memory ?? exports.memory;
  return { family, variant, simd, exports, memory };
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
  const { simd } = kernelFile(family, options);
  const key = `${options.buildDir ?? ''}|${family}|${variant}|${simd}`;
  let instance = shared.get(key);
  if (!instance) {
    instance = instantiateKernelModule<E>(family, { ...options, simd });
    shared.set(key, instance);
  }
  return instance as KernelInstance<E>;
}
