import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DistanceKernels } from '../../../kernels/distances/distances-kernels';
import { referenceDistanceMatrix } from '../../../kernels/distances/distances-reference';
import {
  defaultKernelBuildDir, engineSupportsRelaxedSimd, instantiateKernelModule, kernelSimdLevel, KernelModuleError, loadKernelModule, setKernelSimdLevel,
} from '../../../kernels/runtime/load-kernel-module';
import { mulberry32 } from '../../../kernels/seeded-random/seeded-random';

// Runs in-process on this engine's level, and again in a child process on the other level
// (kernel-simd-variants.test.ts), so both builds pass everything here.
const relaxed = engineSupportsRelaxedSimd();
const level = relaxed ? 'relaxed-simd' : 'simd';

/** Occurrences of f32x4.relaxed_madd (0xfd 0x105, LEB128: fd 85 02) in a module's bytes. */
function relaxedMaddCount(file: string): number {
  const bytes = readFileSync(join(defaultKernelBuildDir(), file));
  let count = 0;
  for (let i = 0; i + 2 < bytes.length; i++) if (bytes[i] === 0xfd && bytes[i + 1] === 0x85 && bytes[i + 2] === 0x02) count++;
  return count;
}

function randomMatrix(rows: number, d: number, seed: number): Float32Array {
  const random = mulberry32(seed);
  return Float32Array.from({ length: rows * d }, () => random() * 8 - 4);
}

describe('kernel SIMD level', () => {
  it(`loads the ${level} build of families that have a relaxed build on this engine`, () => {
    expect(kernelSimdLevel()).toBe(level);
    expect(loadKernelModule('distances').simd).toBe(level);
    expect(loadKernelModule('kmeans').simd).toBe(level);
  });

  it('loads the plain build of families without dot-product kernels at any level', () => {
    expect(loadKernelModule('audio').simd).toBe('simd');
    expect(instantiateKernelModule('distances', { variant: 'debug' }).simd).toBe('simd');
  });

  it('loads the plain build when asked for simd', () => {
    expect(instantiateKernelModule('distances', { simd: 'simd' }).simd).toBe('simd');
  });

  it('ships relaxed release and threads builds that use relaxed_madd, and plain builds that do not', () => {
    for (const family of ['distances', 'kmeans']) {
      expect(relaxedMaddCount(`${family}.relaxed.wasm`)).toBeGreaterThan(0);
      expect(relaxedMaddCount(`${family}.threads.relaxed.wasm`)).toBeGreaterThan(0);
      expect(relaxedMaddCount(`${family}.wasm`)).toBe(0);
      expect(relaxedMaddCount(`${family}.threads.wasm`)).toBe(0);
    }
  });

  (relaxed ? it.skip : it)('refuses an explicit relaxed-simd on an engine without relaxed SIMD, naming the flag', () => {
    expect(() => setKernelSimdLevel('relaxed-simd')).toThrow(KernelModuleError);
    expect(() => instantiateKernelModule('distances', { simd: 'relaxed-simd' })).toThrow(/--experimental-wasm-relaxed-simd/);
    expect(kernelSimdLevel()).toBe('simd');
  });

  (relaxed ? it : it.skip)('gives the plain build distances within rounding, and the same bits on every run', () => {
    const d = 771;
    const x = randomMatrix(37, d, 3);
    const c = randomMatrix(13, d, 4);
    const fused = new DistanceKernels(instantiateKernelModule('distances', { simd: 'relaxed-simd' }));
    const plain = new DistanceKernels(instantiateKernelModule('distances', { simd: 'simd' }));
    const want = referenceDistanceMatrix(x, c, d, 'squared-l2');
    const a = fused.distanceMatrix(x, c, d, 'squared-l2');
    const b = plain.distanceMatrix(x, c, d, 'squared-l2');
    expect(fused.distanceMatrix(x, c, d, 'squared-l2')).toEqual(a);
    for (let i = 0; i < want.length; i++) {
      // magnitudes: ‖x‖² + ‖c‖² ≈ 2 · 771 · 16/3 ≈ 8e3; f32 error of the norm form ≤ ~1e-5 of that
      expect(Math.abs(a[i]! - want[i]!)).toBeLessThanOrEqual(0.1);
      expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(0.1);
    }
  });
});
