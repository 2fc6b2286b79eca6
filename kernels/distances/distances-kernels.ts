import { createKernelThreadPool, type KernelThreadPool, type RowSplit } from '../runtime/kernel-thread-pool';
import { loadKernelModule, type KernelInstance } from '../runtime/load-kernel-module';
import { arenaBytesForByteSizes, checkedPointer, createArena, type F32Buffer, type I32Buffer, type WasmArena } from '../runtime/wasm-arena';
import { checkInteger, KernelArgumentError } from '../kernel-arguments/kernel-argument-checks';
import { checkMetric, largerIsNearer, METRIC_CODE, rowCount, type DistanceMetric } from './distance-metrics';

/** Exports of kernels/build/distances.wasm (see kernels/distances/assembly/index.ts). */
export interface DistancesExports {
  squaredRowNorms(x: number, n: number, d: number, out: number): void;
  inverseSqrtNorms(norms: number, n: number, out: number): void;
  packCentroids(c: number, k: number, d: number, packed: number): void;
  padVector(values: number, k: number, fill: number, out: number): void;
  distanceMatrix(x: number, n: number, d: number, packed: number, k: number, xTerm: number, cTerm: number, metric: number, out: number): void;
  assignNearest(
    x: number, n: number, d: number, packed: number, k: number, xNorms: number, cNorms: number, labels: number, minDist: number, scratch: number,
  ): void;
  topKRows(scores: number, n: number, cols: number, kk: number, largest: number, outIdx: number, outVal: number, heap: number): void;
}

/** Centroids are packed in groups of 8 (kernels/distances/assembly/vector-offsets.ts GROUP). */
export const CENTROID_GROUP = 8;
/** Largest k top-k accepts. */
export const MAX_TOP_K = 1024;
/** Per-thread scratch bytes of assignNearest (the running minimum and index of a 4-row block). */
export const ASSIGN_SCRATCH_BYTES = 32;

/**
 * Work from which a call splits its rows over the thread pool (below it, the dispatch and the
 * cache misses of a second core cost more than they save). Measured on the 2-core dev machine,
 * 1 vs 2 threads, medians of 15 (npx tsx bench/kernels/distance-threads-profile.ts, load ~1.3):
 * - distance matrix, d = 64, k = 32: with the workers spinning from a previous call, 2 threads
 *   were slower up to 64 rows (3.9e5 flops: 16 vs 18 µs), even at 128 rows (7.9e5: 25 µs each),
 *   1.27× at 512–1024 rows and 1.42× at 4096 (2.5e7 flops: 675 vs 473 µs); with the workers
 *   asleep (10 ms between calls) waking them costs ~100 µs: 0.72× at 1024 rows, 1.13× at 4096.
 *   So 2.5e7 flops, where both paid.
 * - top-k, 1000 columns, k = 10: 2 threads never paid (0.46–0.97 busy, 0.22–1.14 idle, and
 *   0.69–0.71 at 5e5–2e6 scores busy), so top-k splits only when a caller sets a threshold.
 */
export interface ThreadThresholds {
  /** Distance matrix and nearest assignment: 3·n·k·d flops. */
  readonly distanceFlops: number;
  /** Top-k: n·cols scores scanned. */
  readonly topKScores: number;
}

export const DEFAULT_THREAD_THRESHOLDS: ThreadThresholds = { distanceFlops: 2.5e7, topKScores: Infinity };

export interface DistanceKernelOptions {
  /**
   * Threads (default 1). With more, calls whose work passes `thresholds` split their rows over a
   * per-process pool of this many threads over one shared WASM memory; results are bit-identical
   * to one thread (every row is computed by the same code, independently of the others).
   */
  readonly threads?: number;
  /** Work from which calls split (default DEFAULT_THREAD_THRESHOLDS; 0 splits every call). */
  readonly thresholds?: Partial<ThreadThresholds>;
}

/** Exports the thread pool runs over rows. */
const POOL_FUNCTIONS = ['squaredRowNorms', 'inverseSqrtNorms', 'distanceMatrix', 'assignNearest', 'topKRows'] as const;

/** Pools live for the process (worker start-up and WASM tier-up are paid once), one per thread count. */
const pools = new Map<number, KernelThreadPool<DistancesExports>>();

function sharedDistancesPool(threads: number): KernelThreadPool<DistancesExports> {
  let pool = pools.get(threads);
  if (!pool) {
    pool = createKernelThreadPool<DistancesExports>('distances', threads, POOL_FUNCTIONS, 16 << 20);
    pools.set(threads, pool);
  }
  return pool;
}

/** Padded centroid count (a multiple of CENTROID_GROUP). */
export function paddedCentroidCount(k: number): number {
  return Math.ceil(k / CENTROID_GROUP) * CENTROID_GROUP;
}

/** Centroids prepared for the blocked kernels: lane-interleaved copy and per-centroid terms. */
export interface PackedCentroids {
  readonly k: number;
  readonly d: number;
  readonly metric: DistanceMetric;
  readonly packed: F32Buffer;
  /** ‖c‖² (squared L2; padded with +inf) or 1/‖c‖ (cosine; padded with 0); unused for the inner product. */
  readonly terms: F32Buffer;
}

export interface TopKResult {
  /** n × k column indices, best first. */
  readonly indices: Int32Array;
  /** n × k values, in the same order. */
  readonly values: Float32Array;
}

/**
 * Typed-array and zero-copy bindings of the distances family. The plain methods copy inputs
 * into a scratch arena and return fresh arrays; the `InArena` methods take buffers of an arena
 * on this instance and write their results there (give that arena room for the scratch they
 * take, see each method, so memory does not grow while views are held).
 *
 * NaN policy: a NaN in a row or centroid makes its distances NaN; top-k and assignment rank
 * NaN after every number (assignment gives label -1 and distance NaN to a row whose distances are all NaN).
 */
export class DistanceKernels {
  readonly instance: KernelInstance<DistancesExports>;
  /** Threads calls may split over (1: always the calling thread). */
  readonly threads: number;
  readonly #pool: KernelThreadPool<DistancesExports> | undefined;
  readonly #thresholds: ThreadThresholds;
  readonly #scratch: WasmArena;

  /**
   * Kernels on `instance` (default: the per-process release instance), or with `threads` > 1 on
   * the shared-memory instance of the per-process pool of that many threads (pass no instance
   * then: buffers for the `InArena` methods must come from arenas on `this.instance`).
   * @example const kernels = new DistanceKernels(undefined, { threads: 2 });
   */
  constructor(instance?: KernelInstance<DistancesExports>, options: DistanceKernelOptions = {}) {
    this.threads = checkInteger('threads', options.threads ?? 1, 1, 64);
    if (this.threads > 1 && instance) {
      throw new KernelArgumentError(`'threads' = ${this.threads} runs on the thread pool's shared-memory instance: pass no instance`);
    }
    this.#pool = this.threads > 1 ? sharedDistancesPool(this.threads) : undefined;
    this.instance = this.#pool?.instance ?? instance ?? loadKernelModule<DistancesExports>('distances');
    this.#thresholds = { ...DEFAULT_THREAD_THRESHOLDS, ...options.thresholds };
    this.#scratch = createArena(this.instance, 1 << 20);
  }

  /** Runs export `name` on this thread, or split over the pool's threads when `work` reaches `threshold`. */
  #run(name: (typeof POOL_FUNCTIONS)[number], args: number[], rows: number, split: RowSplit, work: number, threshold: number): void {
    if (this.#pool && rows > 1 && work >= threshold) {
      this.#pool.runRows(name, args, rows, split);
    } else {
      (this.instance.exports[name] as (...a: number[]) => void)(...args);
    }
  }

  /** Packs k centroids (k × d, a buffer of this instance) for `metric` into `arena`. */
  packCentroids(arena: WasmArena, centroids: F32Buffer, k: number, d: number, metric: DistanceMetric): PackedCentroids {
    checkMetric(metric);
    checkInteger('k', k, 1);
    checkInteger('d', d, 1);
    const e = this.instance.exports;
    const kp = paddedCentroidCount(k);
    const cPtr = checkedPointer(centroids, this.instance, 'centroids', k * d);
    const packed = arena.f32(kp * d);
    const norms = arena.f32(kp);
    const terms = arena.f32(kp);
    e.packCentroids(cPtr, k, d, packed.ptr);
    e.squaredRowNorms(cPtr, k, d, norms.ptr);
    if (metric === 'cosine') {
      e.inverseSqrtNorms(norms.ptr, k, norms.ptr);
      e.padVector(norms.ptr, k, 0, terms.ptr);
    } else {
      e.padVector(norms.ptr, k, Infinity, terms.ptr);
    }
    return { k, d, metric, packed, terms };
  }

  /** Row terms for `metric` (‖x‖² or 1/‖x‖) of n rows, into `out`. */
  rowTerms(x: F32Buffer, n: number, d: number, metric: DistanceMetric, out: F32Buffer): void {
    const xPtr = checkedPointer(x, this.instance, 'x', n * d);
    const outPtr = checkedPointer(out, this.instance, 'out', n);
    this.#rowTerms(xPtr, n, d, metric, outPtr, 2 * n * d);
  }

  /** Row terms, split like the distance matrix they serve (`work`: that matrix's flops). */
  #rowTerms(xPtr: number, n: number, d: number, metric: DistanceMetric, outPtr: number, work: number): void {
    const t = this.#thresholds.distanceFlops;
    this.#run('squaredRowNorms', [xPtr, n, d, outPtr], n, { countArg: 1, rowPointers: [[0, d * 4], [3, 4]] }, work, t);
    if (metric === 'cosine') this.#run('inverseSqrtNorms', [outPtr, n, outPtr], n, { countArg: 1, rowPointers: [[0, 4], [2, 4]] }, work, t);
  }

  /**
   * out (n × k) = metric(x_i, c_j) for n rows of x (n × d) against packed centroids, all buffers
   * of this instance; takes n floats of scratch from `arena`.
   */
  distanceMatrixInArena(arena: WasmArena, x: F32Buffer, n: number, centroids: PackedCentroids, out: F32Buffer): void {
    checkInteger('n', n, 0);
    const { k, d, metric } = centroids;
    const xPtr = checkedPointer(x, this.instance, 'x', n * d);
    const outPtr = checkedPointer(out, this.instance, 'out', n * k);
    if (n === 0) return;
    const xTerm = arena.f32(n);
    const work = 3 * n * k * d;
    if (metric !== 'inner-product') this.#rowTerms(xPtr, n, d, metric, xTerm.ptr, work);
    this.#run(
      'distanceMatrix', [xPtr, n, d, centroids.packed.ptr, k, xTerm.ptr, centroids.terms.ptr, METRIC_CODE[metric], outPtr], n,
      { countArg: 1, rowPointers: [[0, d * 4], [5, 4], [8, k * 4]] }, work, this.#thresholds.distanceFlops,
    );
  }

  /**
   * The n × k matrix of `metric` between the rows of x (n × d) and of c (k × d).
   * @example const dist = kernels.distanceMatrix(queries, centroids, 64, 'squared-l2'); // n*k floats, row-major
   */
  distanceMatrix(x: Float32Array, c: Float32Array, d: number, metric: DistanceMetric): Float32Array {
    checkMetric(metric);
    const n = rowCount('x', x, d);
    const k = rowCount('c', c, d);
    if (k === 0) throw new KernelArgumentError(`'c' must hold at least one centroid`);
    const kp = paddedCentroidCount(k);
    const arena = this.#resetScratch(arenaBytesForByteSizes(4 * c.length, 4 * kp * d, 4 * kp, 4 * kp, 4 * n * k, 4 * x.length, 4 * n));
    const cBuf = arena.f32From(c);
    const packed = this.packCentroids(arena, cBuf, k, d, metric);
    const out = arena.f32(n * k);
    const xBuf = arena.f32(x.length);
    xBuf.view.set(x);
    this.distanceMatrixInArena(arena, xBuf, n, packed, out);
    return out.view.slice();
  }

  /**
   * Per row of scores (n × cols, this instance), the kk best columns into outIdx/outVal (n × kk):
   * smallest first, or largest first when `largest`; ties to the lower column; NaN last.
   * Takes kk * 8 bytes of scratch per thread from `arena`.
   */
  topKInArena(
    arena: WasmArena, scores: F32Buffer, n: number, cols: number, kk: number, largest: boolean, outIdx: I32Buffer, outVal: F32Buffer,
  ): void {
    checkInteger('n', n, 0);
    checkInteger('cols', cols, 1);
    checkInteger('k', kk, 1, Math.min(MAX_TOP_K, cols));
    const sPtr = checkedPointer(scores, this.instance, 'scores', n * cols);
    const iPtr = checkedPointer(outIdx, this.instance, 'outIdx', n * kk);
    const vPtr = checkedPointer(outVal, this.instance, 'outVal', n * kk);
    const heap = arena.f32(2 * kk * this.threads);
    this.#run(
      'topKRows', [sPtr, n, cols, kk, largest ? 1 : 0, iPtr, vPtr, heap.ptr], n,
      { countArg: 1, rowPointers: [[0, cols * 4], [5, kk * 4], [6, kk * 4]], threadPointers: [[7, kk * 8]] }, n * cols, this.#thresholds.topKScores,
    );
  }

  /**
   * The k best entries of each row of `scores` (n × cols): smallest unless `largest`.
   * @example const { indices } = kernels.topK(dist, k, 5); // 5 nearest per row
   */
  topK(scores: Float32Array, cols: number, k: number, options: { largest?: boolean } = {}): TopKResult {
    const n = rowCount('scores', scores, cols);
    checkInteger('k', k, 1, Math.min(MAX_TOP_K, cols));
    const arena = this.#resetScratch(arenaBytesForByteSizes(4 * scores.length, 4 * n * k, 4 * n * k, 8 * k * this.threads));
    const s = arena.f32From(scores);
    const idx = arena.i32(n * k);
    const val = arena.f32(n * k);
    this.topKInArena(arena, s, n, cols, k, options.largest ?? false, idx, val);
    return { indices: idx.view.slice(), values: val.view.slice() };
  }

  /**
   * Nearest centroid (squared L2) of each row of x (n × d) among c (k × d), without the n × k
   * matrix: labels (lowest index on ties, -1 for all-NaN rows) and squared distances.
   */
  assignNearest(x: Float32Array, c: Float32Array, d: number): { labels: Int32Array; distances: Float32Array } {
    const n = rowCount('x', x, d);
    const k = rowCount('c', c, d);
    if (k === 0) throw new KernelArgumentError(`'c' must hold at least one centroid`);
    const kp = paddedCentroidCount(k);
    const arena = this.#resetScratch(arenaBytesForByteSizes(4 * c.length, 4 * kp * d, 4 * kp, 4 * kp, 4 * x.length, 4 * n, 4 * n, 4 * n, this.threads * ASSIGN_SCRATCH_BYTES));
    const packed = this.packCentroids(arena, arena.f32From(c), k, d, 'squared-l2');
    const xBuf = arena.f32From(x);
    const labels = arena.i32(n);
    const dist = arena.f32(n);
    this.assignNearestInArena(arena, xBuf, n, packed, labels, dist);
    return { labels: labels.view.slice(), distances: dist.view.slice() };
  }

  /** assignNearest over buffers of this instance; takes n + 8 floats per thread of scratch from `arena`. */
  assignNearestInArena(arena: WasmArena, x: F32Buffer, n: number, centroids: PackedCentroids, labels: I32Buffer, distances: F32Buffer): void {
    if (centroids.metric !== 'squared-l2') throw new KernelArgumentError(`assignNearest needs centroids packed for 'squared-l2', got '${centroids.metric}'`);
    const { k, d } = centroids;
    const xPtr = checkedPointer(x, this.instance, 'x', n * d);
    const lPtr = checkedPointer(labels, this.instance, 'labels', n);
    const dPtr = checkedPointer(distances, this.instance, 'distances', n);
    const norms = arena.f32(n);
    const scratch = arena.f32((this.threads * ASSIGN_SCRATCH_BYTES) / 4);
    const work = 3 * n * k * d;
    this.#rowTerms(xPtr, n, d, 'squared-l2', norms.ptr, work);
    this.#run(
      'assignNearest', [xPtr, n, d, centroids.packed.ptr, k, norms.ptr, centroids.terms.ptr, lPtr, dPtr, scratch.ptr], n,
      { countArg: 1, rowPointers: [[0, d * 4], [5, 4], [7, 4], [8, 4]], threadPointers: [[9, ASSIGN_SCRATCH_BYTES]] }, work, this.#thresholds.distanceFlops,
    );
  }

  /** True when a larger value of `metric` is nearer. */
  largerIsNearer(metric: DistanceMetric): boolean {
    return largerIsNearer(metric);
  }

  /** The scratch arena, reset, with room for `bytes` so views taken during a call stay attached. */
  #resetScratch(bytes: number): WasmArena {
    this.#scratch.reset();
    this.#scratch.reserve(bytes);
    return this.#scratch;
  }
}

const shared = new Map<number, DistanceKernels>();

/**
 * The per-process distance kernels for `threads` threads (default 1: one release instance;
 * more: the pool of that many threads), created on first use.
 * @example const { indices } = distanceKernels({ threads: 2 }).topK(scores, cols, 10);
 */
export function distanceKernels(options: { readonly threads?: number } = {}): DistanceKernels {
  const threads = options.threads ?? 1;
  let kernels = shared.get(threads);
  if (!kernels) {
    kernels = new DistanceKernels(undefined, { threads });
    shared.set(threads, kernels);
  }
  return kernels;
}
