import { loadKernelModule, type KernelInstance } from '../runtime/load-kernel-module';
import { arenaBytesFor, checkedPointer, createArena, type F32Buffer, type I32Buffer, type WasmArena } from '../runtime/wasm-arena';
import { checkInteger, checkMetric, KernelArgumentError, largerIsNearer, METRIC_CODE, rowCount, type DistanceMetric } from './distance-metrics';

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
  readonly #scratch: WasmArena;

  constructor(instance: KernelInstance<DistancesExports> = loadKernelModule<DistancesExports>('distances')) {
    this.instance = instance;
    this.#scratch = createArena(instance, 1 << 20);
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
    const e = this.instance.exports;
    const xPtr = checkedPointer(x, this.instance, 'x', n * d);
    const outPtr = checkedPointer(out, this.instance, 'out', n);
    e.squaredRowNorms(xPtr, n, d, outPtr);
    if (metric === 'cosine') e.inverseSqrtNorms(outPtr, n, outPtr);
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
    if (metric !== 'inner-product') this.rowTerms(x, n, d, metric, xTerm);
    this.instance.exports.distanceMatrix(xPtr, n, d, centroids.packed.ptr, k, xTerm.ptr, centroids.terms.ptr, METRIC_CODE[metric], outPtr);
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
    const arena = this.#resetScratch(arenaBytesFor(c.length, kp * d, kp, kp, n * k, x.length, n));
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
   * Takes kk * 8 bytes of scratch from `arena`.
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
    const heap = arena.f32(2 * kk);
    this.instance.exports.topKRows(sPtr, n, cols, kk, largest ? 1 : 0, iPtr, vPtr, heap.ptr);
  }

  /**
   * The k best entries of each row of `scores` (n × cols): smallest unless `largest`.
   * @example const { indices } = kernels.topK(dist, k, 5); // 5 nearest per row
   */
  topK(scores: Float32Array, cols: number, k: number, options: { largest?: boolean } = {}): TopKResult {
    const n = rowCount('scores', scores, cols);
    checkInteger('k', k, 1, Math.min(MAX_TOP_K, cols));
    const arena = this.#resetScratch(arenaBytesFor(scores.length, n * k, n * k, 2 * k));
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
    const arena = this.#resetScratch(arenaBytesFor(c.length, kp * d, kp, kp, x.length, n, n, n, ASSIGN_SCRATCH_BYTES / 4));
    const packed = this.packCentroids(arena, arena.f32From(c), k, d, 'squared-l2');
    const xBuf = arena.f32From(x);
    const labels = arena.i32(n);
    const dist = arena.f32(n);
    this.assignNearestInArena(arena, xBuf, n, packed, labels, dist);
    return { labels: labels.view.slice(), distances: dist.view.slice() };
  }

  /** assignNearest over buffers of this instance; takes n + 32 floats of scratch from `arena`. */
  assignNearestInArena(arena: WasmArena, x: F32Buffer, n: number, centroids: PackedCentroids, labels: I32Buffer, distances: F32Buffer): void {
    if (centroids.metric !== 'squared-l2') throw new KernelArgumentError(`assignNearest needs centroids packed for 'squared-l2', got '${centroids.metric}'`);
    const { k, d } = centroids;
    const xPtr = checkedPointer(x, this.instance, 'x', n * d);
    const lPtr = checkedPointer(labels, this.instance, 'labels', n);
    const dPtr = checkedPointer(distances, this.instance, 'distances', n);
    const norms = arena.f32(n);
    const scratch = arena.f32(ASSIGN_SCRATCH_BYTES / 4);
    this.instance.exports.squaredRowNorms(xPtr, n, d, norms.ptr);
    this.instance.exports.assignNearest(xPtr, n, d, centroids.packed.ptr, k, norms.ptr, centroids.terms.ptr, lPtr, dPtr, scratch.ptr);
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

let shared: DistanceKernels | undefined;

/** The per-process distance kernels (one WASM instance, created on first use). */
export function distanceKernels(): DistanceKernels {
  shared ??= new DistanceKernels();
  return shared;
}
