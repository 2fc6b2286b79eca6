import { loadKernelModule, instantiateKernelModule } from '../../../kernels/runtime/load-kernel-module';
import { arenaBytesForByteSizes, ArenaError, checkedPointer, createArena } from '../../../kernels/runtime/wasm-arena';

describe('WasmArena', () => {
  const instance = loadKernelModule('distances');

  it('gives 16-byte-aligned buffers whose views alias WASM memory', () => {
    const arena = createArena(instance, 4096);
    const a = arena.f32(3);
    const b = arena.i32(5);
    a.view.set([1, 2, 3]);
    expect(a.ptr % 16).toBe(0);
    expect(b.ptr % 16).toBe(0);
    expect(b.ptr).toBeGreaterThanOrEqual(a.ptr + 16);
    expect(new Float32Array(instance.memory.buffer, a.ptr, 3)).toEqual(new Float32Array([1, 2, 3]));
    arena.release();
  });

  it('throws on view and ptr when the arena was reset', () => {
    const arena = createArena(instance, 4096);
    const a = arena.f32(4);
    arena.reset();
    expect(() => a.view).toThrow(/reset/);
    expect(() => a.ptr).toThrow(ArenaError);
    expect(a.live).toBe(false);
    expect(arena.f32(4).view.length).toBe(4);
    arena.release();
  });

  it('throws on use after release and refuses new allocations', () => {
    const arena = createArena(instance, 4096);
    const a = arena.f32(4);
    arena.release();
    expect(() => a.view).toThrow(/released/);
    expect(() => arena.f32(1)).toThrow(/after release/);
  });

  it('throws on a view made before memory grew, instead of reading a detached buffer', () => {
    const own = instantiateKernelModule('distances');
    const arena = createArena(own, 1024);
    const early = arena.f32(16);
    early.view.fill(7);
    const pagesBefore = own.memory.buffer.byteLength / 65536;
    arena.f32(pagesBefore * 65536); // larger than memory: takes a region and grows memory
    expect(own.memory.buffer.byteLength / 65536).toBeGreaterThan(pagesBefore);
    expect(() => early.view).toThrow(/memory grew/);
    // the pointer is still owned: a kernel may still use it, and a fresh view shows the data
    expect(new Float32Array(own.memory.buffer, early.ptr, 16)[3]).toBe(7);
  });

  it('reuses released regions for the next arena', () => {
    const own = instantiateKernelModule('distances');
    const first = createArena(own, 8192);
    const ptr = first.f32(1).ptr;
    first.release();
    const second = createArena(own, 4096);
    expect(second.f32(1).ptr).toBe(ptr);
  });

  it('keeps earlier views attached when reserve() takes room up front', () => {
    const own = instantiateKernelModule('distances');
    const arena = createArena(own, 1024);
    arena.reserve(1 << 20);
    const a = arena.f32(1000);
    arena.f32(100_000);
    expect(() => a.view).not.toThrow();
  });

  it('rejects a buffer of another instance, a short buffer and a bad element count', () => {
    const other = createArena(instantiateKernelModule('distances'), 1024);
    const mine = createArena(instance, 1024);
    expect(() => checkedPointer(other.f32(4), instance, 'x', 4)).toThrow(/'x': buffer belongs to/);
    expect(() => checkedPointer(mine.f32(3), instance, 'x', 4)).toThrow(/'x': expected at least 4 elements, got 3/);
    expect(() => mine.f32(-1)).toThrow(/non-negative integer/);
    expect(() => mine.f32(1.5)).toThrow(/non-negative integer/);
    mine.release();
  });
});

describe('arenaBytesForByteSizes', () => {
  // A fresh instance: no regions released by other arenas to reuse.
  const instance = instantiateKernelModule('distances');

  it('sums byte sizes each rounded up to 16 bytes, an empty buffer taking 16', () => {
    expect(arenaBytesForByteSizes(1, 16, 17, 0)).toBe(16 + 16 + 32 + 16);
    expect(arenaBytesForByteSizes()).toBe(0);
  });

  it('is enough for the buffers it was computed for: they fit without a new region', () => {
    // Prepare
    const arena = createArena(instance, arenaBytesForByteSizes(4 * 5, 4 * 3, 1));

    // Act
    const a = arena.f32(5);
    const b = arena.i32(3);
    const c = arena.u8(1);
    const grownPast = arena.f32(1);

    // Assess: the first three fill the 64-byte region back to back; the fourth lies outside it.
    expect(b.ptr - a.ptr).toBe(32);
    expect(c.ptr - b.ptr).toBe(16);
    expect(grownPast.ptr < a.ptr || grownPast.ptr > a.ptr + 64).toBe(true);
    arena.release();
  });
});
