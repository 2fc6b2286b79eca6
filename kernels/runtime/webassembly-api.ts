/**
 * The slice of the WebAssembly JS API the kernels use, typed here because the project's
 * `lib` (ES2023, no DOM) and @types/node 20 do not declare the `WebAssembly` global.
 * Kept local (not a global declaration) so it cannot clash with a lib that adds one later.
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(deltaPages: number): number;
}
export type WasmModule = object;
export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}
export type WasmImports = Record<string, Record<string, unknown>>;

interface WasmNamespace {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: WasmImports) => WasmInstance;
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  /** True when the engine would compile these bytes (every feature they use is supported). */
  validate(bytes: Uint8Array): boolean;
}

/** The runtime's `WebAssembly` namespace, typed. */
export const wasmApi: WasmNamespace = (globalThis as unknown as { WebAssembly: WasmNamespace }).WebAssembly;
