import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KernelBackend } from '../../../lib/backends/kernel-backend';
import { encodeFlatIndex } from '../../../kernels/distances/flat-index-artifact';
import { readNpy, writeNpy } from '../../../kernels/runtime/npy-file-format';
import { engineSupportsRelaxedSimd } from '../../../kernels/runtime/load-kernel-module';

const dir = mkdtempSync(join(tmpdir(), 'kernel-backend-'));

function request(name: string, path: string) {
  return { name, version: '1', path, inputs: [], outputs: [] };
}

describe('KernelBackend', () => {
  const backend = new KernelBackend();

  it('serves kmeans-assign from a centroids .npy and answers labels and distances', async () => {
    const path = join(dir, 'clusters.centroids.npy');
    writeFileSync(path, writeNpy(new Float32Array([0, 0, 10, 10]), [2, 2]));
    const session = await backend.load(request('clusters', path));
    expect(session.inputs).toEqual([{ name: 'vectors', datatype: 'FP32', shape: [-1, 2] }]);
    const [label, distance] = await session.run([{ name: 'vectors', datatype: 'FP32', shape: [3, 2], data: new Float32Array([1, 1, 9, 9, 0, 0]) }]);
    expect(Array.from(label!.data as Int32Array)).toEqual([0, 1, 0]);
    expect(Array.from(distance!.data as Float32Array)).toEqual([2, 2, 0]);
    expect(label!.shape).toEqual([3]);
  });

  it('serves nearest-neighbors from a flat index with an optional k input', async () => {
    const path = join(dir, 'docs.flat-index.bin');
    writeFileSync(path, encodeFlatIndex({ metric: 'inner-product', rows: 3, d: 2, defaultK: 2, vectors: new Float32Array([1, 0, 0, 1, 2, 2]) }));
    const session = await backend.load(request('docs', path));
    const queries = { name: 'queries', datatype: 'FP32' as const, shape: [1, 2], data: new Float32Array([1, 0]) };
    const [indices, scores] = await session.run([queries]);
    expect(Array.from(indices!.data as Int32Array)).toEqual([2, 0]);
    expect(Array.from(scores!.data as Float32Array)).toEqual([2, 1]);
    const [one] = await session.run([queries, { name: 'k', datatype: 'INT32', shape: [1], data: new Int32Array([1]) }], ['indices']);
    expect(one!.shape).toEqual([1, 1]);
  });

  it('refuses wrong shapes, non-finite values and unknown artifacts with messages that say what to fix', async () => {
    const path = join(dir, 'clusters.centroids.npy');
    const session = await backend.load(request('clusters', path));
    await expect(session.run([{ name: 'vectors', datatype: 'FP32', shape: [2, 5], data: new Float32Array(10) }])).rejects.toThrow("input 'vectors': expected shape [-1,2], got [2,5]");
    await expect(session.run([{ name: 'vectors', datatype: 'FP32', shape: [1, 2], data: new Float32Array([NaN, 0]) }])).rejects.toThrow(/element 0 is NaN/);
    await expect(session.run([])).rejects.toThrow(/input 'vectors' is missing/);
    await expect(backend.load(request('x', join(dir, 'model.onnx')))).rejects.toThrow(/no kernel model kind/);
  });

  it('round-trips NPY float32 matrices', () => {
    const data = new Float32Array([1.5, -2, 3, 4, 5, 6]);
    expect(readNpy(writeNpy(data, [3, 2]))).toEqual({ shape: [3, 2], data });
  });

  it('reports the SIMD level of the kernel builds it runs (relaxed when the engine supports it)', () => {
    expect(new KernelBackend().simdLevel).toBe(engineSupportsRelaxedSimd() ? 'relaxed-simd' : 'simd');
  });
});
