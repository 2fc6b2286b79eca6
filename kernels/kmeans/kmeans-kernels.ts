import { ASSIGN_SCRATCH_BYTES, paddedCentroidCount } from '../distances/distances-kernels';
import { rowCount } from '../distances/distance-metrics';
import { checkInteger, KernelArgumentError } from '../kernel-arguments/kernel-argument-checks';
import { createKernelThreadPool, type KernelThreadPool } from '../runtime/kernel-thread-pool';
import { loadKernelModule, type KernelInstance } from '../runtime/load-kernel-module';
import { createArena, type F32Buffer, type F64Buffer, type I32Buffer, type U8Buffer, type WasmArena } from '../runtime/wasm-arena';
import { mulberry32 } from '../seeded-random/seeded-random';

/** Exports of kernels/build/kmeans.wasm (see kernels/kmeans/assembly/index.ts). */
export interface KMeansExports {
  squaredRowNorms(x: number, n: number, d: number, out: number): void;
  packCentroids(c: number, k: number, d: number, packed: number): void;
  padVector(values: number, k: number, fill: number, out: number): void;
  assignNearest(
    x: number, n: number, d: number, packed: number, k: number, xNorms: number, cNorms: number, labels: number, minDist: number, scratch: number,
  ): void;
  accumulateClusterSums(x: number, n: number, d: number, labels: number, sums: number, counts: number): void;
  moveClusterSums(x: number, n: number, d: number, labels: number, previous: number, sums: number, counts: number): number;
  boundedAssign(
    x: number, n: number, d: number, packed: number, centroids: number, k: number, xNorms: number, cNorms: number,
    labels: number, upper: number, lower: number, bounds: number, stamps: number, drift: number, half: number, pairHalf: number,
    since: number, now: number, maxDrift: number, maxDriftAt: number, secondDrift: number, maxCNorm: number, full: number, elkan: number, list: number, state: number,
  ): number;
  groupedAssign(
    x: number, n: number, d: number, packed: number, centroids: number, k: number, xNorms: number, cNorms: number,
    labels: number, upper: number, glb: number, drift: number, half: number, groupDrift: number, groupOf: number, order: number, gStart: number,
    groups: number, maxCNorm: number, full: number, list: number, masks: number, sorted: number, state: number,
  ): number;
  halfCentroidDistances(centroids: number, k: number, d: number, half: number, pairs: number): void;
  ownCentroidDistances(x: number, n: number, d: number, centroids: number, labels: number, out: number): void;
  minDistancePotential(x: number, n: number, d: number, c: number, minDist: number, write: number): number;
}

export class KMeansError extends KernelArgumentError {
  override readonly name = 'KMeansError';
}

export interface KMeansOptions {
  /** Number of clusters, 1 ≤ k ≤ n. */
  readonly k: number;
  /** Seed of the k-means++ init (default 0): the same seed gives the same result. */
  readonly seed?: number;
  /** Initial centroids (k × d) instead of k-means++. */
  readonly init?: Float32Array;
  /** Lloyd iterations at most (default 300). */
  readonly maxIterations?: number;
  /**
   * Stop when the summed squared centroid shift is ≤ tolerance × mean per-feature variance
   * (scikit-learn's convention; default 1e-4). 0 stops only when centroids stop moving.
   */
  readonly tolerance?: number;
  /** Candidates per k-means++ step (greedy k-means++; default 2 + ⌊ln k⌋ as scikit-learn). */
  readonly localTrials?: number;
  /** Threads for the assignment step (default 1); the result is identical for any count. */
  readonly threads?: number;
  /** Called after each Lloyd iteration (e.g. for a progress bar). */
  readonly onIteration?: (info: { iteration: number; shift: number; maxIterations: number }) => void;
}

export interface KMeansResult {
  readonly k: number;
  readonly d: number;
  /** k × d, row-major. */
  readonly centroids: Float32Array;
  /** Nearest final centroid of each row. */
  readonly labels: Int32Array;
  /** Σ squared distance of each row to its final centroid (f64 sum). */
  readonly inertia: number;
  readonly iterations: number;
  readonly converged: boolean;
  /** Clusters that went empty and were re-seeded with the farthest points, summed over iterations. */
  readonly emptyClustersRepaired: number;
  /** Wall time of the Lloyd iterations and the final assignment, in ms (excludes setup and init). */
  readonly lloydMs: number;
}

/** Work of one assignment step (3·n·k·d flops) above which threads pay for their dispatch. */
const THREADS_MIN_WORK = 3 * 4096 * 8 * 64;

const POOL_FUNCTIONS = ['assignNearest', 'boundedAssign', 'groupedAssign'] as const;

/**
 * Dimensions from which the assignment also keeps Elkan's per-centroid bounds (n × k floats):
 * they pay when a distance is long. Measured (npx tsx bench/kernels/kmeans-profile.ts, 1 thread,
 * same run as scikit-learn): wide 20k × 768, k = 100: 34 ms per iteration with them, 52 without
 * (scikit-learn 30); balanced 100k × 64, k = 32: 5.5–6.1 with, 4.4–4.8 without (scikit-learn 8.6–10).
 * Below it the assignment keeps Yinyang's group bounds instead (groupedAssign, n × 4 or 8 floats):
 * 2026-11-26, same runs as scikit-learn, 1 thread: irregular 100k × 64, k = 32: 10.6–11.2 ms per
 * iteration with them, 13.5–14.7 with Hamerly's single lower bound (scikit-learn 10.5–11.1);
 * balanced 4.7–5.2 with them, 4.9–5.5 with Hamerly's.
 */
const ELKAN_MIN_D = 256;

/**
 * Per-thread scratch bytes of boundedAssign (best, its index and second best of a 4-row block)
 * and groupedAssign (per group: best, its position, second best; 256 bucket counts).
 */
const BOUNDED_STATE_BYTES = 8 * 48 + 256 * 4;

/**
 * Centroid groups of the Yinyang bounds (groupedAssign, d < ELKAN_MIN_D): ⌈k / 8⌉, at most 8.
 * For k = 32, 8 groups of 4 measured the same as 4 groups of 8 (irregular 10.6 vs 11.0 ms per
 * iteration, 1 thread; 6.6 vs 6.1 with 2), so the smaller bound table stays.
 */
export function yinyangGroups(k: number): number {
  return Math.min(8, Math.ceil(k / 8));
}

/** Bound lanes per row for `groups` groups (4 or 8: the filter reads them as whole vectors; the extra groups are empty). */
function groupLanes(groups: number): number {
  return groups <= 4 ? 4 : 8;
}

/** Pools live for the process (worker start-up and WASM tier-up are paid once, not per fit); their memory is recycled by arenas. */
const pools = new Map<number, KernelThreadPool<KMeansExports>>();

function sharedKMeansPool(threads: number, initialBytes: number): KernelThreadPool<KMeansExports> {
  let pool = pools.get(threads);
  if (!pool) {
    pool = createKernelThreadPool<KMeansExports>('kmeans', threads, POOL_FUNCTIONS, initialBytes);
    pools.set(threads, pool);
  }
  return pool;
}

/** Checks the shape of x and the options at the boundary (KMeansSession.setData checks the values): nothing past this point throws inside WASM. */
function checkFitArguments(x: Float32Array, d: number, options: KMeansOptions): number {
  const n = rowCount('x', x, d);
  const { k } = options;
  if (!Number.isInteger(k) || k < 1) throw new KMeansError(`'k' must be an integer ≥ 1, got ${k}`);
  if (k > n) throw new KMeansError(`'k' = ${k} is larger than the number of rows n = ${n}: k-means needs k ≤ n`);
  if (options.init && options.init.length !== k * d) throw new KMeansError(`'init' must hold k × d = ${k * d} floats, got ${options.init.length}`);
  checkInteger('maxIterations', options.maxIterations ?? 300, 0);
  checkInteger('threads', options.threads ?? 1, 1, 64);
  if (options.localTrials !== undefined) checkInteger('localTrials', options.localTrials, 1);
  if (!((options.tolerance ?? 1e-4) >= 0)) throw new KMeansError(`'tolerance' must be ≥ 0, got ${options.tolerance}`);
  return n;
}

/** Mean over features of the per-feature variance (scales the tolerance as scikit-learn does). */
function meanFeatureVariance(x: Float32Array, n: number, d: number): number {
  const mean = new Float64Array(d);
  const sq = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const v = x[i * d + j]!;
      mean[j]! += v;
      sq[j]! += v * v;
    }
  }
  let total = 0;
  for (let j = 0; j < d; j++) total += sq[j]! / n - (mean[j]! / n) ** 2;
  return total / d;
}

/** Buffers of one fit, all in one arena on the instance that runs the kernels. */
interface FitBuffers {
  readonly x: F32Buffer;
  readonly xNorms: F32Buffer;
  readonly labels: I32Buffer;
  /** Labels the sums currently hold (-1: not yet counted). */
  readonly previous: I32Buffer;
  readonly minDist: F32Buffer;
  /** Hamerly bounds: distance to the own centroid (upper) and to every other one (lower). */
  readonly upper: F32Buffer;
  readonly lower: F32Buffer;
  /** Elkan bounds (n × k): distance to each centroid as of the row's stamp (assignment index). */
  readonly bounds: F32Buffer;
  readonly stamps: I32Buffer;
  /** since[t][j]: how far centroid j moved from assignment t to the current one ((maxIterations + 2) × k). */
  readonly since: F32Buffer;
  /** Yinyang group bounds (n × groups), d < ELKAN_MIN_D: distance to every centroid of the group other than the own. */
  readonly glb: F32Buffer;
  /** groupedAssign's per-row group masks and rows sorted by mask. */
  readonly masks: U8Buffer;
  readonly sorted: I32Buffer;
  /** Largest drift per group; group of each centroid; original centroid at each grouped position; first position of each group (groups + 1). */
  readonly groupDrift: F32Buffer;
  readonly groupOf: I32Buffer;
  readonly order: I32Buffer;
  readonly gStart: I32Buffer;
  /** Half the centroid–centroid distances (k × k). */
  readonly pairHalf: F32Buffer;
  /** Rows in doubt, per thread's row range (boundedAssign's list). */
  readonly list: I32Buffer;
  readonly centroids: F32Buffer;
  readonly packed: F32Buffer;
  readonly cNorms: F32Buffer;
  readonly rawNorms: F32Buffer;
  /** Distance each centroid moved in the last update, and half the distance to its nearest other centroid. */
  readonly drift: F32Buffer;
  readonly half: F32Buffer;
  readonly sums: F64Buffer;
  readonly counts: I32Buffer;
  readonly scratch: F32Buffer;
}

function fitArenaBytes(n: number, d: number, k: number, threads: number, maxIterations: number): number {
  const kp = paddedCentroidCount(k);
  const elkan = maxIterations >= 0 && d >= ELKAN_MIN_D ? n * k + n + (maxIterations + 2) * k : 0;
  const yinyang = maxIterations >= 0 && d < ELKAN_MIN_D ? (n + k) * groupLanes(yinyangGroups(k)) + n + Math.ceil(n / 4) + 2 * k + 9 : 0;
  const words = n * d + 7 * n + k * d + kp * d + 2 * kp + 2 * k * d + 4 * k + k * k + elkan + yinyang + (threads * BOUNDED_STATE_BYTES) / 4;
  return words * 4 + 36 * 16;
}

/**
 * k-means on the rows of x (n × d): seeded greedy k-means++ init, then Lloyd iterations (fused
 * SIMD assignment; sums on one thread so any thread count gives identical results), empty
 * clusters re-seeded with the points farthest from their centroids.
 * @example const { centroids, labels, inertia } = fitKMeans(vectors, 64, { k: 32, seed: 7 });
 */
export function fitKMeans(x: Float32Array, d: number, options: KMeansOptions): KMeansResult {
  const n = checkFitArguments(x, d, options);
  const session = new KMeansSession(n, d, options.k, options.threads ?? 1, options.maxIterations ?? 300);
  try {
    session.setData(x);
    const init = options.init ?? session.kmeansPlusPlus(options.seed ?? 0, options.localTrials);
    return session.lloyd(init, options, options.tolerance === 0 ? 0 : (options.tolerance ?? 1e-4) * meanFeatureVariance(x, n, d));
  } finally {
    session.close();
  }
}

/**
 * Seeded greedy k-means++ (as scikit-learn's): each step samples `localTrials` candidates with
 * probability ∝ squared distance to the nearest chosen centroid and keeps the one that lowers
 * the potential most. Returns k × d centroids.
 */
export function kmeansPlusPlusInit(x: Float32Array, d: number, k: number, seed = 0, localTrials?: number): Float32Array {
  const n = checkFitArguments(x, d, { k, localTrials });
  const session = new KMeansSession(n, d, k, 1, -1);
  try {
    session.setData(x);
    return session.kmeansPlusPlus(seed, localTrials);
  } finally {
    session.close();
  }
}

/** One fit's WASM state: data and work buffers in an arena, optionally a thread pool over shared memory. */
class KMeansSession {
  readonly #instance: KernelInstance<KMeansExports>;
  readonly #pool: KernelThreadPool<KMeansExports> | undefined;
  readonly #arena: WasmArena;
  readonly #b: FitBuffers;
  /** Whether this fit keeps Elkan's per-centroid bounds (d ≥ ELKAN_MIN_D). */
  readonly #elkan: boolean;
  /** Yinyang centroid groups (0: Elkan or k-means++ only). */
  readonly #groups: number;
  /** Bound lanes per row of glb (4 or 8; 0 without groups). */
  readonly #lanes: number;

  /** `maxIterations`: Lloyd iterations this session may run (-1: k-means++ only, no bound buffers). */
  constructor(readonly n: number, readonly d: number, readonly k: number, threads: number, readonly maxIterations: number) {
    const bytes = fitArenaBytes(n, d, k, threads, maxIterations);
    const elkan = maxIterations >= 0 && d >= ELKAN_MIN_D;
    this.#elkan = elkan;
    const groups = maxIterations >= 0 && !elkan ? yinyangGroups(k) : 0;
    this.#groups = groups;
    const lanes = groups ? groupLanes(groups) : 0;
    this.#lanes = lanes;
    const useThreads = threads > 1 && 3 * n * k * d >= THREADS_MIN_WORK;
    this.#pool = useThreads ? sharedKMeansPool(threads, bytes + (1 << 20)) : undefined;
    this.#instance = this.#pool?.instance ?? loadKernelModule<KMeansExports>('kmeans');
    this.#arena = createArena(this.#instance, bytes);
    const a = this.#arena;
    const kp = paddedCentroidCount(k);
    this.#b = {
      x: a.f32(n * d), xNorms: a.f32(n), labels: a.i32(n), previous: a.i32(n), minDist: a.f32(n), upper: a.f32(n), lower: a.f32(n), list: a.i32(n),
      bounds: a.f32(elkan ? n * k : 0), stamps: a.i32(elkan ? n : 0), since: a.f32(elkan ? (maxIterations + 2) * k : 0), pairHalf: a.f32(k * k),
      centroids: a.f32(k * d), packed: a.f32(kp * d), cNorms: a.f32(kp), rawNorms: a.f32(k), drift: a.f32(k), half: a.f32(k),
      glb: a.f32(n * lanes), masks: a.u8(groups ? n : 0), sorted: a.i32(groups ? n : 0), groupDrift: a.f32(k * lanes), groupOf: a.i32(groups ? k : 0),
      order: a.i32(groups ? k : 0), gStart: a.i32(groups ? 9 : 0),
      sums: a.f64(k * d), counts: a.i32(k), scratch: a.f32((threads * Math.max(ASSIGN_SCRATCH_BYTES, BOUNDED_STATE_BYTES)) / 4),
    };
  }

  /**
   * Copies x into WASM memory (once per fit) and computes the row norms; throws a KMeansError
   * naming the first NaN or ±Infinity. The check reads the n norms instead of all n·d values (a
   * non-finite value makes its row's norm non-finite), so only a row with a non-finite norm is
   * scanned in JS (see BENCHMARKS.md, Kernels, for what the full scan cost).
   */
  setData(x: Float32Array): void {
    const { n, d } = this;
    this.#b.x.view.set(x);
    this.#instance.exports.squaredRowNorms(this.#b.x.ptr, n, d, this.#b.xNorms.ptr);
    const norms = this.#b.xNorms.view;
    for (let row = 0; row < n; row++) {
      if (Number.isFinite(norms[row]!)) continue;
      // A non-finite norm: find the value (a norm can also overflow on finite values, which pass).
      for (let i = row * d; i < row * d + d; i++) {
        if (!Number.isFinite(x[i]!)) throw new KMeansError(`'x' must be finite: element ${i} (row ${row}) is ${x[i]}`);
      }
    }
  }

  kmeansPlusPlus(seed: number, localTrials = 2 + Math.floor(Math.log(this.k))): Float32Array {
    const { n, d, k } = this;
    const e = this.#instance.exports;
    const b = this.#b;
    const random = mulberry32(seed);
    const rowPtr = (i: number): number => b.x.ptr + i * d * 4;
    const minDist = b.minDist.view;
    const x = b.x.view;
    const centroids = new Float32Array(k * d);
    const first = Math.floor(random() * n);
    centroids.set(x.subarray(first * d, first * d + d), 0);
    minDist.fill(Infinity);
    e.minDistancePotential(b.x.ptr, n, d, rowPtr(first), b.minDist.ptr, 1);
    const prefix = new Float64Array(n);
    for (let c = 1; c < k; c++) {
      let acc = 0;
      for (let i = 0; i < n; i++) prefix[i] = acc += minDist[i]!;
      let best = -1;
      let bestPotential = Infinity;
      for (let t = 0; t < localTrials; t++) {
        const candidate = searchPrefix(prefix, random() * acc);
        const p = e.minDistancePotential(b.x.ptr, n, d, rowPtr(candidate), b.minDist.ptr, 0);
        if (p < bestPotential) {
          bestPotential = p;
          best = candidate;
        }
      }
      e.minDistancePotential(b.x.ptr, n, d, rowPtr(best), b.minDist.ptr, 1);
      centroids.set(x.subarray(best * d, best * d + d), c * d);
    }
    return centroids;
  }

  /**
   * One assignment step with the current centroids buffer: labels for every row, and Yinyang
   * group bounds (d < ELKAN_MIN_D) or Hamerly + Elkan bounds. `full`: search every row (first step); otherwise the bounds of the previous step are
   * moved by `drift` and only rows they cannot settle are searched.
   */
  #assign(full: boolean, now: number, history: Float64Array): void {
    const { n, d, k } = this;
    const e = this.#instance.exports;
    const b = this.#b;
    if (this.#groups) {
      this.#groupedAssign(full);
      return;
    }
    e.packCentroids(b.centroids.ptr, k, d, b.packed.ptr);
    e.squaredRowNorms(b.centroids.ptr, k, d, b.rawNorms.ptr);
    e.padVector(b.rawNorms.ptr, k, Infinity, b.cNorms.ptr);
    const rawNorms = b.rawNorms.view;
    let maxCNorm = 0;
    for (let c = 0; c < k; c++) maxCNorm = Math.max(maxCNorm, rawNorms[c]!);
    let maxDrift = 0;
    let maxDriftAt = -1;
    let secondDrift = 0;
    if (!full) {
      e.halfCentroidDistances(b.centroids.ptr, k, d, b.half.ptr, b.pairHalf.ptr);
      // since[t][j] = drift of centroid j from assignment t to now, rounded up so bounds stay bounds.
      const since = b.since.view;
      for (let t = 0; this.#elkan && t <= now; t++) {
        for (let j = 0; j < k; j++) since[t * k + j] = (history[now * k + j]! - history[t * k + j]!) * (1 + 1e-6);
      }
      const drift = b.drift.view;
      for (let c = 0; c < k; c++) {
        const v = drift[c]!;
        if (v > maxDrift) {
          secondDrift = maxDrift;
          maxDrift = v;
          maxDriftAt = c;
        } else if (v > secondDrift) {
          secondDrift = v;
        }
      }
    }
    const args = [
      b.x.ptr, n, d, b.packed.ptr, b.centroids.ptr, k, b.xNorms.ptr, b.cNorms.ptr, b.labels.ptr, b.upper.ptr, b.lower.ptr, b.bounds.ptr, b.stamps.ptr,
      b.drift.ptr, b.half.ptr, b.pairHalf.ptr, b.since.ptr, now, maxDrift, maxDriftAt, secondDrift, maxCNorm, full ? 1 : 0, this.#elkan ? 1 : 0, b.list.ptr, b.scratch.ptr,
    ];
    if (this.#pool) {
      this.#pool.runRows('boundedAssign', args, n, {
        countArg: 1,
        rowPointers: [[0, d * 4], [6, 4], [8, 4], [9, 4], [10, 4], [11, k * 4], [12, 4], [24, 4]],
        threadPointers: [[25, BOUNDED_STATE_BYTES]],
      });
    } else {
      this.searchedRows = e.boundedAssign(...(args as Parameters<KMeansExports["boundedAssign"]>));
    }
  }

  /** #assign with Yinyang's group bounds (groupedAssign): centroids packed in group order. */
  #groupedAssign(full: boolean): void {
    const { n, d, k } = this;
    const groups = this.#lanes;
    const e = this.#instance.exports;
    const b = this.#b;
    const order = b.order.view;
    const centroids = b.centroids.view;
    const packed = b.packed.view;
    for (let p = 0; p < k; p++) packed.set(centroids.subarray(order[p]! * d, order[p]! * d + d), p * d);
    e.squaredRowNorms(b.packed.ptr, k, d, b.cNorms.ptr);
    const cNorms = b.cNorms.view;
    let maxCNorm = 0;
    for (let p = 0; p < k; p++) maxCNorm = Math.max(maxCNorm, cNorms[p]!);
    if (!full) {
      e.halfCentroidDistances(b.centroids.ptr, k, d, b.half.ptr, b.pairHalf.ptr);
      const drift = b.drift.view;
      const groupDrift = b.groupDrift.view;
      const groupOf = b.groupOf.view;
      // Largest and second largest drift per group (f32, as stored).
      const largest = new Float32Array(groups);
      const second = new Float32Array(groups);
      for (let c = 0; c < k; c++) {
        const g = groupOf[c]!;
        const v = drift[c]!;
        if (v > largest[g]!) {
          second[g] = largest[g]!;
          largest[g] = v;
        } else if (v > second[g]!) {
          second[g] = v;
        }
      }
      // Row c of groupDrift: the group maxima, but for c's own group (whose bound excludes c) the
      // largest drift of its other centroids (the second largest when c has the largest).
      for (let c = 0; c < k; c++) {
        groupDrift.set(largest, c * groups);
        if (drift[c] === largest[groupOf[c]!]) groupDrift[c * groups + groupOf[c]!] = second[groupOf[c]!]!;
      }
    }
    const args = [
      b.x.ptr, n, d, b.packed.ptr, b.centroids.ptr, k, b.xNorms.ptr, b.cNorms.ptr, b.labels.ptr, b.upper.ptr, b.glb.ptr, b.drift.ptr, b.half.ptr,
      b.groupDrift.ptr, b.groupOf.ptr, b.order.ptr, b.gStart.ptr, groups, maxCNorm, full ? 1 : 0, b.list.ptr, b.masks.ptr, b.sorted.ptr, b.scratch.ptr,
    ];
    if (this.#pool) {
      this.#pool.runRows('groupedAssign', args, n, {
        countArg: 1,
        rowPointers: [[0, d * 4], [6, 4], [8, 4], [9, 4], [10, groups * 4], [20, 4], [21, 1], [22, 4]],
        threadPointers: [[23, BOUNDED_STATE_BYTES]],
      });
    } else {
      this.searchedRows = e.groupedAssign(...(args as Parameters<KMeansExports['groupedAssign']>));
    }
  }

  /**
   * Splits the initial centroids into this.#groups groups of nearby centroids (Yinyang: a few
   * Lloyd steps on the centroids, seeded farthest-first from centroid 0) and fills groupOf, order
   * (positions by group, then index) and gStart.
   */
  #formGroups(init: Float32Array): void {
    const { d, k } = this;
    const groups = this.#groups;
    const dist = (a: Float32Array | Float64Array, ai: number, c: Float32Array | Float64Array, ci: number): number => {
      let s = 0;
      for (let j = 0; j < d; j++) s += (a[ai * d + j]! - c[ci * d + j]!) ** 2;
      return s;
    };
    const seeds = [0];
    const nearest = new Float64Array(k).fill(Infinity);
    while (seeds.length < groups) {
      let far = 0;
      for (let c = 0; c < k; c++) {
        nearest[c] = Math.min(nearest[c]!, dist(init, c, init, seeds[seeds.length - 1]!));
        if (nearest[c]! > nearest[far]!) far = c;
      }
      seeds.push(far);
    }
    const means = new Float64Array(groups * d);
    seeds.forEach((c, g) => means.set(init.subarray(c * d, c * d + d), g * d));
    const groupOf = this.#b.groupOf.view;
    for (let step = 0; step < 5; step++) {
      // Nearest mean first, each group capped at ⌈k / groups⌉ centroids: a group's search cost is its size.
      const pairs: [number, number, number][] = [];
      for (let c = 0; c < k; c++) for (let g = 0; g < groups; g++) pairs.push([dist(init, c, means, g), c, g]);
      pairs.sort((p, q) => p[0] - q[0] || p[1] - q[1] || p[2] - q[2]);
      const cap = Math.ceil(k / groups);
      const size = new Int32Array(groups);
      groupOf.fill(-1);
      for (const [, c, g] of pairs) {
        if (groupOf[c]! >= 0 || size[g]! >= cap) continue;
        groupOf[c] = g;
        size[g]!++;
      }
      means.fill(0);
      const sizes = new Float64Array(groups);
      for (let c = 0; c < k; c++) {
        sizes[groupOf[c]!]!++;
        for (let j = 0; j < d; j++) means[groupOf[c]! * d + j]! += init[c * d + j]!;
      }
      for (let g = 0; g < groups; g++) for (let j = 0; j < d; j++) means[g * d + j] = sizes[g]! ? means[g * d + j]! / sizes[g]! : Infinity;
    }
    const order = this.#b.order.view;
    const gStart = this.#b.gStart.view;
    let p = 0;
    for (let g = 0; g < groups; g++) {
      gStart[g] = p;
      for (let c = 0; c < k; c++) if (groupOf[c] === g) order[p++] = c;
    }
    for (let g = groups; g <= this.#lanes; g++) gStart[g] = p;
  }

  /** Rows the last single-threaded assignment searched over every centroid (the rest its bounds settled); for profiling. */
  searchedRows = 0;

  lloyd(init: Float32Array, options: KMeansOptions, tolerance: number): KMeansResult {
    const { n, d, k } = this;
    const e = this.#instance.exports;
    const b = this.#b;
    const maxIterations = options.maxIterations ?? 300;
    this.#pool?.wake();
    b.centroids.view.set(init);
    if (this.#groups) this.#formGroups(init);
    b.previous.view.fill(-1);
    b.sums.view.fill(0);
    b.counts.view.fill(0);
    const started = performance.now();
    let iterations = 0;
    let converged = false;
    let repaired = 0;
    let full = true;
    const next = new Float32Array(k * d);
    // history[t][j]: total distance centroid j moved before assignment t (for the Elkan bounds).
    const history = new Float64Array((maxIterations + 2) * k);
    while (iterations < maxIterations) {
      this.#assign(full, iterations, history);
      full = false;
      e.moveClusterSums(b.x.ptr, n, d, b.labels.ptr, b.previous.ptr, b.sums.ptr, b.counts.ptr);
      repaired += this.#repairEmptyClusters();
      const sums = b.sums.view;
      const counts = b.counts.view;
      const centroids = b.centroids.view;
      const drift = b.drift.view;
      let shift = 0;
      for (let c = 0; c < k; c++) {
        const count = counts[c]!;
        let moved = 0;
        for (let j = 0; j < d; j++) {
          const v = Math.fround(sums[c * d + j]! / count);
          next[c * d + j] = v;
          const delta = v - centroids[c * d + j]!;
          moved += delta * delta;
        }
        shift += moved;
        // Rounded up so that, stored as f32, it still bounds the move.
        drift[c] = Math.sqrt(moved) * (1 + 1e-6);
        history[(iterations + 1) * k + c] = history[iterations * k + c]! + Math.sqrt(moved);
      }
      centroids.set(next);
      iterations++;
      options.onIteration?.({ iteration: iterations, shift, maxIterations });
      if (shift <= tolerance) {
        converged = true;
        break;
      }
    }
    this.#assign(full, iterations, history);
    e.ownCentroidDistances(b.x.ptr, n, d, b.centroids.ptr, b.labels.ptr, b.minDist.ptr);
    const minDist = b.minDist.view;
    let inertia = 0;
    for (let i = 0; i < n; i++) inertia += minDist[i]!;
    const lloydMs = performance.now() - started;
    return {
      k, d, centroids: b.centroids.view.slice(), labels: b.labels.view.slice(), inertia, iterations, converged, emptyClustersRepaired: repaired, lloydMs,
    };
  }

  /**
   * Moves the points farthest from their centroids into empty clusters (largest distance first,
   * lower row on ties), taking them out of their old cluster's sums, as scikit-learn does.
   */
  #repairEmptyClusters(): number {
    const { d, k } = this;
    const counts = this.#b.counts.view;
    const empty: number[] = [];
    for (let c = 0; c < k; c++) if (counts[c] === 0) empty.push(c);
    if (empty.length === 0) return 0;
    const e = this.#instance.exports;
    const b = this.#b;
    e.ownCentroidDistances(b.x.ptr, this.n, d, b.centroids.ptr, b.labels.ptr, b.minDist.ptr);
    const previous = b.previous.view;
    const upper = b.upper.view;
    const lower = b.lower.view;
    const bounds = b.bounds.view;
    const sums = this.#b.sums.view;
    const labels = this.#b.labels.view;
    const minDist = this.#b.minDist.view;
    const x = this.#b.x.view;
    const moved = new Uint8Array(this.n);
    for (const c of empty) {
      // The farthest point not yet moved whose cluster keeps another member (lower row on ties): a linear scan per empty cluster.
      let i = -1;
      for (let r = 0; r < this.n; r++) {
        if (moved[r] || counts[labels[r]!]! <= 1) continue;
        if (i < 0 || minDist[r]! > minDist[i]!) i = r;
      }
      if (i < 0) break;
      moved[i] = 1;
      const old = labels[i]!;
      for (let j = 0; j < d; j++) {
        sums[old * d + j]! -= x[i * d + j]!;
        sums[c * d + j] = x[i * d + j]!;
      }
      counts[old]!--;
      counts[c] = 1;
      labels[i] = c;
      previous[i] = c;
      // Its bounds no longer describe its centroid: the next assignment re-checks this row.
      upper[i] = Infinity;
      lower[i] = 0;
      if (this.#groups) b.glb.view.fill(0, i * this.#lanes, i * this.#lanes + this.#groups);
      if (this.#elkan) {
        bounds.fill(0, i * k, i * k + k);
        bounds[i * k + c] = Infinity;
      }
    }
    return empty.length;
  }

  close(): void {
    this.#arena.release();
  }
}

/** First index i with prefix[i] > target (the sampled row), clamped to the last row. */
function searchPrefix(prefix: Float64Array, target: number): number {
  let lo = 0;
  let hi = prefix.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (prefix[mid]! > target) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

