import type { KernelInstance } from './load-kernel-module';

/**
 * Zero-copy arenas over one kernel instance's memory.
 *
 * An arena owns regions of a WASM instance's memory (obtained once from the module's stub
 * allocator and recycled through a per-instance free list), and bump-allocates typed
 * buffers from them. Each buffer is a handle: `ptr` and `length` go to the kernels, `view`
 * is a typed array onto WASM memory for the caller to fill or read.
 *
 * Ownership rules (enforced, never assumed):
 * - a handle is valid while its arena lives and has not been reset since the handle was made;
 * - a handle's `view` is valid only while `memory.buffer` is the buffer it was made on
 *   (memory growth detaches the old buffer: reading it would give zeros or foreign data);
 * - handles are only passed to kernels of the instance that owns them.
 * Breaking a rule throws an `ArenaError` saying which rule and what to do instead.
 */
export class ArenaError extends Error {
  override readonly name = 'ArenaError';
}

const ALIGN = 16;
const DEFAULT_CAPACITY = 1 << 20;
/** Class id passed to the stub runtime's `__new` (0 = plain Object: no GC here). */
const RAW_BLOCK_ID = 0;

interface Region {
  readonly ptr: number;
  readonly bytes: number;
}

/** Released regions per instance, reused before asking the stub allocator (which never frees) for more. */
const freeRegions = new WeakMap<KernelInstance, Region[]>();

function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

function takeRegion(instance: KernelInstance, minBytes: number): Region {
  const pool = freeRegions.get(instance) ?? [];
  freeRegions.set(instance, pool);
  let best = -1;
  for (let i = 0; i < pool.length; i++) {
    if (pool[i]!.bytes >= minBytes && (best < 0 || pool[i]!.bytes < pool[best]!.bytes)) best = i;
  }
  if (best >= 0) return pool.splice(best, 1)[0]!;
  const bytes = alignUp(minBytes, ALIGN);
  const ptr = instance.exports.__new(bytes, RAW_BLOCK_ID) >>> 0;
  if (ptr % ALIGN !== 0) throw new ArenaError(`kernel family '${instance.family}': allocator returned unaligned pointer ${ptr}`);
  return { ptr, bytes };
}

function giveBackRegion(instance: KernelInstance, region: Region): void {
  freeRegions.get(instance)?.push(region);
}

type TypedArrayCtor<T> = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; readonly BYTES_PER_ELEMENT: number };

/** One typed buffer in an arena: pass `ptr`/`length` to kernels, read and write through `view`. */
export class ArenaBuffer<T extends ArrayBufferView> {
  readonly #arena: WasmArena;
  readonly #generation: number;
  readonly #ptr: number;
  readonly #view: T;
  readonly #buffer: ArrayBufferLike;
  readonly length: number;

  /** @internal created by WasmArena only */
  constructor(arena: WasmArena, generation: number, ptr: number, length: number, ctor: TypedArrayCtor<T>) {
    this.#arena = arena;
    this.#generation = generation;
    this.#ptr = ptr;
    this.length = length;
    this.#buffer = arena.instance.memory.buffer;
    this.#view = new ctor(this.#buffer, ptr, length);
  }

  /** The arena this buffer belongs to. */
  get arena(): WasmArena {
    return this.#arena;
  }

  /** Byte offset in WASM memory, for kernels. Throws when the arena was released or reset since this buffer was made. */
  get ptr(): number {
    this.#assertOwned();
    return this.#ptr;
  }

  /**
   * A typed array over the buffer's bytes in WASM memory (no copy). Throws when the arena was
   * released or reset, or when memory grew after this buffer was made (the view's ArrayBuffer is detached).
   */
  get view(): T {
    this.#assertOwned();
    if (this.#arena.instance.memory.buffer !== this.#buffer) {
      throw new ArenaError(
        `arena buffer of ${this.length} elements: WASM memory grew after it was made, so its view is detached; ` +
          'allocate every buffer before reading views (or give the arena enough capacity up front)',
      );
    }
    return this.#view;
  }

  /** True while `ptr` may be used (the arena is live and has not been reset since). */
  get live(): boolean {
    return !this.#arena.released && this.#arena.generation === this.#generation;
  }

  #assertOwned(): void {
    if (this.#arena.released) throw new ArenaError(`arena buffer of ${this.length} elements used after its arena was released`);
    if (this.#arena.generation !== this.#generation) {
      throw new ArenaError(`arena buffer of ${this.length} elements used after its arena was reset; its memory now belongs to newer buffers`);
    }
  }
}

export type F32Buffer = ArenaBuffer<Float32Array>;
export type I32Buffer = ArenaBuffer<Int32Array>;
export type F64Buffer = ArenaBuffer<Float64Array>;
export type U8Buffer = ArenaBuffer<Uint8Array>;

/** A bump allocator over regions of one kernel instance's memory. Create with `createArena`. */
export class WasmArena {
  readonly instance: KernelInstance;
  #regions: Region[] = [];
  #current = 0;
  #offset = 0;
  #generation = 0;
  #released = false;
  readonly #chunkBytes: number;

  /** @internal use createArena */
  constructor(instance: KernelInstance, capacityBytes: number) {
    this.instance = instance;
    this.#chunkBytes = alignUp(Math.max(capacityBytes, ALIGN), ALIGN);
    this.#regions.push(takeRegion(instance, this.#chunkBytes));
  }

  get generation(): number {
    return this.#generation;
  }

  get released(): boolean {
    return this.#released;
  }

  /** `n` float32 elements (uninitialized: the region may hold a previous owner's data). */
  f32(n: number): F32Buffer {
    return this.#allocate(n, Float32Array);
  }

  /** `n` float64 elements (uninitialized; 16-byte aligned like every buffer). */
  f64(n: number): F64Buffer {
    return this.#allocate(n, Float64Array);
  }

  /** `n` int32 elements (uninitialized). */
  i32(n: number): I32Buffer {
    return this.#allocate(n, Int32Array);
  }

  /** `n` bytes (uninitialized). */
  u8(n: number): U8Buffer {
    return this.#allocate(n, Uint8Array);
  }

  /** Copies `source` into a new float32 buffer. */
  f32From(source: ArrayLike<number>): F32Buffer {
    const buffer = this.f32(source.length);
    buffer.view.set(source);
    return buffer;
  }

  /**
   * Makes sure the next `bytes` of allocations (each rounded up to 16 bytes) fit without taking
   * a new region, taking one now if needed: call it before making buffers whose views you hold,
   * so later allocations cannot grow memory under them.
   */
  reserve(bytes: number): void {
    this.#assertLive('reserve');
    const need = alignUp(bytes, ALIGN);
    if (this.#offset + need <= this.#regions[this.#current]!.bytes) return;
    for (let next = this.#current + 1; next < this.#regions.length; next++) {
      if (this.#regions[next]!.bytes >= need) {
        // Regions before `next` stay unused until reset: simpler than reordering, and rare.
        this.#current = next;
        this.#offset = 0;
        return;
      }
    }
    this.#regions.push(takeRegion(this.instance, Math.max(this.#chunkBytes, need)));
    this.#current = this.#regions.length - 1;
    this.#offset = 0;
  }

  /** Invalidates every buffer made so far and reuses the arena's memory from the start. */
  reset(): void {
    this.#assertLive('reset');
    this.#generation++;
    this.#current = 0;
    this.#offset = 0;
  }

  /** Invalidates every buffer and gives the arena's regions back to the instance for reuse by other arenas. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#generation++;
    for (const region of this.#regions) giveBackRegion(this.instance, region);
    this.#regions = [];
  }

  #allocate<T extends ArrayBufferView>(n: number, ctor: TypedArrayCtor<T>): ArenaBuffer<T> {
    this.#assertLive('allocate');
    if (!Number.isInteger(n) || n < 0) throw new ArenaError(`arena: element count must be a non-negative integer, got ${n}`);
    const bytes = alignUp(Math.max(n * ctor.BYTES_PER_ELEMENT, ALIGN), ALIGN);
    while (this.#offset + bytes > this.#regions[this.#current]!.bytes) {
      this.#current++;
      this.#offset = 0;
      if (this.#current === this.#regions.length) {
        // May grow WASM memory: views made before this point then fail loudly on use.
        this.#regions.push(takeRegion(this.instance, Math.max(this.#chunkBytes, bytes)));
      }
    }
    const ptr = this.#regions[this.#current]!.ptr + this.#offset;
    this.#offset += bytes;
    return new ArenaBuffer(this, this.#generation, ptr, n, ctor);
  }

  #assertLive(what: string): void {
    if (this.#released) throw new ArenaError(`arena: cannot ${what} after release(); create a new arena`);
  }
}

/**
 * An arena over `instance`'s memory with `capacityBytes` reserved up front (1 MiB by default).
 * Reserve enough for every buffer of a call so memory never grows while views are in use.
 * @example
 * const arena = createArena(loadKernelModule('distances'), 8 << 20);
 * const x = arena.f32(n * d); x.view.set(rows);
 * // ... pass x.ptr to a kernel, read results through another buffer's view ...
 * arena.release();
 */
export function createArena(instance: KernelInstance, capacityBytes = DEFAULT_CAPACITY): WasmArena {
  return new WasmArena(instance, capacityBytes);
}

/**
 * Bytes an arena needs to hold buffers of these sizes in bytes (not elements), each rounded
 * up to the 16-byte alignment every arena buffer gets: pass the total to `createArena` or
 * `reserve` so no allocation of the call grows memory under a live view.
 * @example
 * const arena = createArena(instance, arenaBytesForByteSizes(4 * n * d, 4 * n)); // f32 [n, d] + i32 [n]
 */
export function arenaBytesForByteSizes(...byteSizes: number[]): number {
  return byteSizes.reduce((total, bytes) => total + alignUp(Math.max(bytes, ALIGN), ALIGN), 0);
}

/** Throws unless `buffer` is live and belongs to `instance` with at least `minLength` elements; returns its pointer. */
export function checkedPointer(
  buffer: ArenaBuffer<ArrayBufferView>,
  instance: KernelInstance,
  name: string,
  minLength: number,
): number {
  if (buffer.arena.instance !== instance) {
    throw new ArenaError(`'${name}': buffer belongs to kernel family '${buffer.arena.instance.family}', not this '${instance.family}' instance`);
  }
  if (buffer.length < minLength) throw new ArenaError(`'${name}': expected at least ${minLength} elements, got ${buffer.length}`);
  return buffer.ptr;
}
