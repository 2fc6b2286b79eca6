import { DistanceKernels, paddedCentroidCount } from '../../kernels/distances/distances-kernels';
import { instantiateKernelModule } from '../../kernels/runtime/load-kernel-module';
import { createArena } from '../../kernels/runtime/wasm-arena';
import type { BenchDataset } from './kernel-datasets';

/**
 * A fresh distances instance with the data set's rows, its first k rows as centroids (packed
 * for squared L2) and the output buffers, all in WASM memory: what the distance benches time
 * runs on, so only the kernel call is inside the timed loop. Both arenas take their memory
 * before any buffer exists, so no later growth detaches a view.
 */
export function distanceBenchBuffers(ds: BenchDataset) {
  const { n, d, k, x } = ds;
  const kernels = new DistanceKernels(instantiateKernelModule('distances'));
  const kp = paddedCentroidCount(k);
  const work = createArena(kernels.instance, n * 4 * 3 + 4096);
  const arena = createArena(kernels.instance, (n * d + n * k + 3 * n + k * d + kp * d + 2 * kp) * 4 + 4096);
  const centroids = x.slice(0, k * d);
  const xb = arena.f32From(x);
  const packed = kernels.packCentroids(arena, arena.f32From(centroids), k, d, 'squared-l2');
  return { kernels, work, arena, centroids, xb, packed, out: arena.f32(n * k), labels: arena.i32(n), dist: arena.f32(n) };
}
