import { createArena, type WasmArena } from '../runtime/wasm-arena';
import { checkInteger, KernelArgumentError } from '../kernel-arguments/kernel-argument-checks';
import { checkMetric, largerIsNearer, rowCount, type DistanceMetric } from './distance-metrics';
import { DistanceKernels, distanceKernels, MAX_TOP_K, type PackedCentroids, type TopKResult } from './distances-kernels';

export interface FlatIndexOptions {
  /** Threads a search splits its queries over (default 1; see DistanceKernelOptions.threads). */
  readonly threads?: number;
}

/** Bytes of distance scores one search block may hold (queries are searched in blocks of this much). */
const BLOCK_SCORE_BYTES = 8 << 20;

/**
 * Exact (brute-force) nearest-neighbour search over a flat index of vectors, for squared L2,
 * inner product (largest first) and cosine distance. The index is packed once into WASM memory
 * at construction; each search computes query-block × index distances with the blocked SIMD
 * kernel and keeps the k best per query with the top-k kernel (ties to the lower index). With
 * `threads` > 1 the index lives in the shared memory of that many threads' pool and each block's
 * queries are split over the threads (same results as one thread).
 * @example
 * const index = new FlatNearestNeighborIndex(vectors, 128, 'cosine', { threads: 2 });
 * const { indices, values } = index.search(queries, 10); // queries.length / 128 rows × 10
 * index.dispose();
 */
export class FlatNearestNeighborIndex {
  readonly size: number;
  readonly d: number;
  readonly metric: DistanceMetric;
  readonly #kernels: DistanceKernels;
  readonly #arena: WasmArena;
  readonly #packed: PackedCentroids;

  /** `kernels`: the distance kernels to search with, or `{ threads }` for the per-process kernels of that many threads (default 1). */
  constructor(vectors: Float32Array, d: number, metric: DistanceMetric, kernelsOrOptions: DistanceKernels | FlatIndexOptions = {}) {
    checkMetric(metric);
    const kernels = kernelsOrOptions instanceof DistanceKernels ? kernelsOrOptions : distanceKernels({ threads: kernelsOrOptions.threads ?? 1 });
    this.size = rowCount('vectors', vectors, d);
    if (this.size === 0) throw new KernelArgumentError(`'vectors' must hold at least one vector`);
    this.d = d;
    this.metric = metric;
    this.#kernels = kernels;
    const kp = Math.ceil(this.size / 8) * 8;
    this.#arena = createArena(kernels.instance, (vectors.length + kp * d + 3 * kp) * 4 + 256);
    this.#packed = kernels.packCentroids(this.#arena, this.#arena.f32From(vectors), this.size, d, metric);
  }

  /** The k nearest index vectors of each query row (queries: m × d): m × k indices and values, nearest first. */
  search(queries: Float32Array, k: number): TopKResult {
    const m = rowCount('queries', queries, this.d);
    checkInteger('k', k, 1, Math.min(MAX_TOP_K, this.size));
    const indices = new Int32Array(m * k);
    const values = new Float32Array(m * k);
    const block = Math.max(1, Math.min(m, Math.floor(BLOCK_SCORE_BYTES / (4 * this.size))));
    const arena = createArena(this.#kernels.instance, block * (this.d + this.size + 2 * k) * 4 + 256);
    // Per-block scratch (row terms, a top-k heap per thread) is reset every block, so memory never grows mid-search.
    const work = createArena(this.#kernels.instance, (block + 2 * k * this.#kernels.threads) * 4 + 256);
    try {
      const q = arena.f32(block * this.d);
      const scores = arena.f32(block * this.size);
      const outIdx = arena.i32(block * k);
      const outVal = arena.f32(block * k);
      const largest = largerIsNearer(this.metric);
      for (let start = 0; start < m; start += block) {
        const rows = Math.min(block, m - start);
        q.view.set(queries.subarray(start * this.d, (start + rows) * this.d));
        work.reset();
        this.#kernels.distanceMatrixInArena(work, q, rows, this.#packed, scores);
        this.#kernels.topKInArena(work, scores, rows, this.size, k, largest, outIdx, outVal);
        indices.set(outIdx.view.subarray(0, rows * k), start * k);
        values.set(outVal.view.subarray(0, rows * k), start * k);
      }
    } finally {
      work.release();
      arena.release();
    }
    return { indices, values };
  }

  /** Gives the index's WASM memory back for reuse; the index cannot search afterwards. */
  dispose(): void {
    this.#arena.release();
  }
}
