import { rowAddress, f32Address, i32Address } from '../../distances/assembly/vector-offsets';
import { blockDot0, blockDot1, dotPair, dotSingle } from '../../distances/assembly/dot-blocks';
import { multiplyAdd } from '../../distances/assembly/multiply-add';

/**
 * Slack added to (subtracted from) a squared distance computed as ‖x‖² − 2x·c + ‖c‖² before it
 * becomes an upper (lower) bound: f32 cancellation error is at most a few 1e-5 of ‖x‖² + ‖c‖²
 * even for d = 768, so bounds built with this slack stay true bounds and pruning never changes
 * a label that the exact nearest-centroid rule would give.
 */
export const CANCELLATION_SLACK: f32 = 1e-4;

/** Relative rounding allowance of a distance computed directly (Σ(a−b)² in f32 has relative error ≤ d·2⁻²⁴, 4.6e-5 at d = 768). */
export const DIRECT_SLACK_UP: f32 = 1 + 1e-4;
const DIRECT_SLACK_DOWN: f32 = 1 - 1e-4;

/**
 * A row with at most k / INDIVIDUAL_SHARE centroids in doubt gets their exact distances one by
 * one (checkInDoubt) instead of the blocked search over all k, which costs about as much as 4
 * single distances per centroid.
 */
const INDIVIDUAL_SHARE = 4;

/** Squared L2 distance computed directly as Σ(a−b)² (no cancellation). */
// @ts-ignore: decorator
@inline export function directSquaredDistance(a: usize, b: usize, d: i32): f32 {
  const d4 = d & ~3;
  let acc0 = f32x4.splat(0);
  let acc1 = f32x4.splat(0);
  let j = 0;
  for (; j + 8 <= d4; j += 8) {
    const e0 = f32x4.sub(v128.load(f32Address(a, j)), v128.load(f32Address(b, j)));
    const e1 = f32x4.sub(v128.load(f32Address(a, j), 16), v128.load(f32Address(b, j), 16));
    acc0 = multiplyAdd(e0, e0, acc0);
    acc1 = multiplyAdd(e1, e1, acc1);
  }
  for (; j < d4; j += 4) {
    const e = f32x4.sub(v128.load(f32Address(a, j)), v128.load(f32Address(b, j)));
    acc0 = multiplyAdd(e, e, acc0);
  }
  const acc = f32x4.add(acc0, acc1);
  let s = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
  for (; j < d; j++) {
    const e = load<f32>(f32Address(a, j)) - load<f32>(f32Address(b, j));
    s += e * e;
  }
  return s;
}

/**
 * One Lloyd assignment with Hamerly's and Elkan's bounds (exact: gives the labels of a full
 * nearest-centroid search, computing far fewer distances once centroids move little). Per row i,
 * upper[i] bounds the distance to its centroid labels[i], lower[i] the distance to every other
 * centroid, and bounds[i][j] (n × k, +inf at the own centroid) the distance to centroid j as of
 * assignment stamps[i]: since[stamps[i]][j] (a (now + 1) × k table) is how far centroid j moved
 * since then, so bounds[i][j] − since[stamps[i]][j] bounds it now without touching the rows the
 * bounds settle (Elkan's per-centroid bounds catch the rows that Hamerly's single lower bound
 * gives up on when a few centroids move far).
 *
 * With `full` = 1 every row is searched (first iteration: everything else is output only).
 * Otherwise bounds are moved by the centroid drift of the last update (`drift`: k distances each
 * centroid moved; `maxDrift`/`maxDriftAt`/`secondDrift`: the largest, its centroid, the second
 * largest) and a row is kept when upper ≤ max(lower, half[label]) (`half`: half the distance from
 * each centroid to its nearest other one); else upper is tightened to the exact distance (direct
 * Σ(x−c)² on `centroids`, k × d) and tested again; else the row is kept when no centroid j has
 * both its bound and pairHalf[label][j] (half the centroid–centroid distances, k × k) below
 * upper. Rows still in doubt are listed in `list` (n i32) and searched over every centroid with
 * the blocked kernel (see assignNearest), which refreshes all their bounds (stamp `now`).
 * With `elkan` = 0 the per-centroid bounds are neither read nor written (Hamerly only): below a
 * few hundred dimensions keeping them costs more than the searches they save (see ELKAN_MIN_D
 * in kernels/kmeans/kmeans-kernels.ts); fits below ELKAN_MIN_D use groupedAssign
 * (grouped-assignment.ts) instead, so this path is kept for direct callers only.
 * `state` holds 48 bytes of per-thread scratch. Returns the number of rows searched.
 */
export function boundedAssign(
  x: usize, n: i32, d: i32, packed: usize, centroids: usize, k: i32, xNorms: usize, cNorms: usize,
  labels: usize, upper: usize, lower: usize, bounds: usize, stamps: usize, drift: usize, half: usize, pairHalf: usize,
  since: usize, now: i32, maxDrift: f32, maxDriftAt: i32, secondDrift: f32, maxCNorm: f32, full: i32, elkan: i32, list: usize, state: usize,
): i32 {
  let count = 0;
  if (full) {
    for (let i = 0; i < n; i++) store<i32>(i32Address(list, count++), i);
  } else {
    const k4 = k & ~3;
    for (let i = 0; i < n; i++) {
      const a = load<i32>(i32Address(labels, i));
      let u = load<f32>(f32Address(upper, i)) + load<f32>(f32Address(drift, a));
      let l = load<f32>(f32Address(lower, i)) - (a == maxDriftAt ? secondDrift : maxDrift);
      // pmax/pmin (maxps/minps) instead of f32.max/f32x4.min: wasm's NaN-exact min/max compile to
      // longer sequences, the scalar ones with data-dependent branches (no NaN reaches here).
      const bound = f32x4.extract_lane(f32x4.pmax(f32x4.splat(l), f32x4.splat(load<f32>(f32Address(half, a)))), 0);
      if (u > bound) {
        u = Mathf.sqrt(directSquaredDistance(rowAddress(x, i, d), rowAddress(centroids, a, d), d)) * DIRECT_SLACK_UP;
        if (u > bound && !elkan) {
          store<i32>(i32Address(list, count++), i);
        } else if (u > bound) {
          // Elkan: any centroid whose own bound and centroid–centroid bound both fall below u?
          const own = rowAddress(bounds, i, k);
          const moved = rowAddress(since, load<i32>(i32Address(stamps, i)), k);
          const pairs = rowAddress(pairHalf, a, k);
          const uu = f32x4.splat(u);
          let doubts = 0;
          let lo = f32x4.splat(Infinity);
          let j = 0;
          for (; j < k4; j += 4) {
            const lj = f32x4.sub(v128.load(f32Address(own, j)), v128.load(f32Address(moved, j)));
            doubts += <i32>popcnt(i32x4.bitmask(v128.and(f32x4.lt(lj, uu), f32x4.lt(v128.load(f32Address(pairs, j)), uu))));
            lo = f32x4.pmin(lo, lj);
          }
          let lowest = min(min(f32x4.extract_lane(lo, 0), f32x4.extract_lane(lo, 1)), min(f32x4.extract_lane(lo, 2), f32x4.extract_lane(lo, 3)));
          for (; j < k; j++) {
            const lj = load<f32>(f32Address(own, j)) - load<f32>(f32Address(moved, j));
            if (lj < u && load<f32>(f32Address(pairs, j)) < u) doubts++;
            lowest = min(lowest, lj);
          }
          if (doubts == 0) {
            l = max(l, lowest);
          } else if (doubts * INDIVIDUAL_SHARE <= k) {
            // Few centroids in doubt: their exact distances cost less than a search over all k.
            checkInDoubt(x, i, d, centroids, k, pairHalf, a, own, moved, labels, stamps, now);
            u = lastUpper;
            l = lastLower;
          } else {
            store<i32>(i32Address(list, count++), i);
          }
        }
      }
      store<f32>(f32Address(upper, i), u);
      store<f32>(f32Address(lower, i), l);
    }
  }
  searchListed(x, d, packed, k, xNorms, cNorms, maxCNorm, labels, upper, lower, elkan, bounds, stamps, now, list, count, state);
  return count;
}

/**
 * Elkan's step for one row whose bounds leave a few centroids in doubt: brings its bounds row up
 * to date (stamp `now`), computes the exact distance (direct form) to each centroid still in
 * doubt against the best so far, and writes the label and bounds; upper and lower are left in
 * lastUpper and lastLower.
 */
function checkInDoubt(
  x: usize, i: i32, d: i32, centroids: usize, k: i32, pairHalf: usize, a: i32, own: usize, moved: usize,
  labels: usize, stamps: usize, now: i32,
): void {
  for (let j = 0; j < k; j++) store<f32>(f32Address(own, j), load<f32>(f32Address(own, j)) - load<f32>(f32Address(moved, j)));
  store<i32>(i32Address(stamps, i), now);
  const row = rowAddress(x, i, d);
  let best = a;
  let bestD = Mathf.sqrt(directSquaredDistance(row, rowAddress(centroids, a, d), d));
  for (let j = 0; j < k; j++) {
    if (j == best) continue;
    const u = bestD * DIRECT_SLACK_UP;
    if (load<f32>(f32Address(own, j)) >= u || load<f32>(f32Address(rowAddress(pairHalf, best, k), j)) >= u) continue;
    const dj = Mathf.sqrt(directSquaredDistance(row, rowAddress(centroids, j, d), d));
    if (dj < bestD || (dj == bestD && j < best)) {
      store<f32>(f32Address(own, best), bestD * DIRECT_SLACK_DOWN);
      best = j;
      bestD = dj;
      store<f32>(f32Address(own, j), Infinity);
    } else {
      store<f32>(f32Address(own, j), dj * DIRECT_SLACK_DOWN);
    }
  }
  let lowest: f32 = Infinity;
  for (let j = 0; j < k; j++) lowest = min(lowest, load<f32>(f32Address(own, j)));
  store<i32>(i32Address(labels, i), best);
  lastUpper = bestD * DIRECT_SLACK_UP;
  lastLower = lowest;
}

/** upper and lower of the row checkInDoubt last handled (globals: per instance, so per thread). */
let lastUpper: f32 = 0;
let lastLower: f32 = 0;

/** bounds[r][j] = √max(0, ‖c_j‖² − 2x_r·c_j + ‖x_r‖² − slack) for the block's rows (lane r of `partial` and `lowSlack`). */
// @ts-ignore: decorator
@inline function storeBounds(bounds: usize, k: i32, j: i32, partial: v128, lowSlack: v128, r0: i32, r1: i32, r2: i32, r3: i32, rows: i32): void {
  const v = f32x4.sqrt(f32x4.pmax(f32x4.add(partial, lowSlack), f32x4.splat(0)));
  store<f32>(f32Address(rowAddress(bounds, r0, k), j), f32x4.extract_lane(v, 0));
  if (rows > 1) store<f32>(f32Address(rowAddress(bounds, r1, k), j), f32x4.extract_lane(v, 1));
  if (rows > 2) store<f32>(f32Address(rowAddress(bounds, r2, k), j), f32x4.extract_lane(v, 2));
  if (rows > 3) store<f32>(f32Address(rowAddress(bounds, r3, k), j), f32x4.extract_lane(v, 3));
}

/** Full nearest-centroid search, blocked 4 rows × 2 centroids (dot-blocks.ts), for the `count` rows listed in `list`. */
function searchListed(
  x: usize, d: i32, packed: usize, k: i32, xNorms: usize, cNorms: usize, maxCNorm: f32,
  labels: usize, upper: usize, lower: usize, elkan: i32, bounds: usize, stamps: usize, now: i32, list: usize, count: i32, state: usize,
): void {
  for (let t = 0; t < count; t += 4) {
    const rows = min(4, count - t);
    const r0 = load<i32>(i32Address(list, t));
    const r1 = load<i32>(i32Address(list, t + min(1, rows - 1)));
    const r2 = load<i32>(i32Address(list, t + min(2, rows - 1)));
    const r3 = load<i32>(i32Address(list, t + min(3, rows - 1)));
    const x0 = rowAddress(x, r0, d);
    const x1 = rowAddress(x, r1, d);
    const x2 = rowAddress(x, r2, d);
    const x3 = rowAddress(x, r3, d);
    const xn = f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(f32x4.splat(load<f32>(f32Address(xNorms, r0))),
      1, load<f32>(f32Address(xNorms, r1))), 2, load<f32>(f32Address(xNorms, r2))), 3, load<f32>(f32Address(xNorms, r3)));
    // Lower-bound slack for the cancellation error of ‖x‖² − 2x·c + ‖c‖² (see CANCELLATION_SLACK).
    const lowSlack = f32x4.sub(xn, f32x4.mul(f32x4.splat(CANCELLATION_SLACK), f32x4.add(xn, f32x4.splat(maxCNorm))));
    // Lane r: row r's smallest ‖c‖² − 2x·c so far, its centroid (strict <: the lower index stays
    // on ties) and the second smallest. Kept in locals: through memory, TurboFan reloads every
    // fold on the shared-memory threads build (measured 2× slower per row there).
    let best = f32x4.splat(Infinity);
    let bestI = i32x4.splat(0);
    let second = f32x4.splat(Infinity);
    let j = 0;
    for (; j + 2 <= k; j += 2) {
      dotPair(x0, x1, x2, x3, rowAddress(packed, j, d), rowAddress(packed, j + 1, d), d);
      const v0 = f32x4.sub(f32x4.splat(load<f32>(f32Address(cNorms, j))), f32x4.add(blockDot0, blockDot0));
      const v1 = f32x4.sub(f32x4.splat(load<f32>(f32Address(cNorms, j + 1))), f32x4.add(blockDot1, blockDot1));
      if (elkan) {
        storeBounds(bounds, k, j, v0, lowSlack, r0, r1, r2, r3, rows);
        storeBounds(bounds, k, j + 1, v1, lowSlack, r0, r1, r2, r3, rows);
      }
      let m = f32x4.lt(v0, best);
      second = v128.bitselect(best, f32x4.pmin(second, v0), m);
      best = v128.bitselect(v0, best, m);
      bestI = v128.bitselect(i32x4.splat(j), bestI, m);
      m = f32x4.lt(v1, best);
      second = v128.bitselect(best, f32x4.pmin(second, v1), m);
      best = v128.bitselect(v1, best, m);
      bestI = v128.bitselect(i32x4.splat(j + 1), bestI, m);
    }
    if (j < k) {
      dotSingle(x0, x1, x2, x3, rowAddress(packed, j, d), d);
      const v0 = f32x4.sub(f32x4.splat(load<f32>(f32Address(cNorms, j))), f32x4.add(blockDot0, blockDot0));
      if (elkan) storeBounds(bounds, k, j, v0, lowSlack, r0, r1, r2, r3, rows);
      const m = f32x4.lt(v0, best);
      second = v128.bitselect(best, f32x4.pmin(second, v0), m);
      best = v128.bitselect(v0, best, m);
      bestI = v128.bitselect(i32x4.splat(j), bestI, m);
    }
    v128.store(state, best);
    v128.store(state, bestI, 16);
    v128.store(state, second, 32);
    for (let r = 0; r < rows; r++) {
      const row = load<i32>(i32Address(list, t + r));
      const lane = <usize>r << 2;
      const xn = load<f32>(f32Address(xNorms, row));
      // Bounds with slack for the cancellation error of the ‖x‖² − 2x·c + ‖c‖² form.
      const slack = CANCELLATION_SLACK * (xn + maxCNorm);
      const label = load<i32>(state + 16 + lane);
      store<i32>(i32Address(labels, row), label);
      if (elkan) {
        store<f32>(f32Address(rowAddress(bounds, row, k), label), Infinity);
        store<i32>(i32Address(stamps, row), now);
      }
      store<f32>(f32Address(upper, row), Mathf.sqrt(max<f32>(load<f32>(state + lane) + xn + slack, 0)));
      store<f32>(f32Address(lower, row), Mathf.sqrt(max<f32>(load<f32>(state + 32 + lane) + xn - slack, 0)));
    }
  }
}

/**
 * pairs[j][o] = ½‖c_j − c_o‖ (direct form; k × k, +inf on the diagonal) and half[j] = its minimum
 * over o ≠ j (+inf when k = 1), shrunk by DIRECT_SLACK_DOWN so they stay lower bounds.
 */
export function halfCentroidDistances(centroids: usize, k: i32, d: i32, half: usize, pairs: usize): void {
  for (let j = 0; j < k; j++) store<f32>(f32Address(half, j), Infinity);
  for (let j = 0; j < k; j++) {
    const cj = rowAddress(centroids, j, d);
    store<f32>(f32Address(rowAddress(pairs, j, k), j), Infinity);
    let best = load<f32>(f32Address(half, j));
    for (let o = j + 1; o < k; o++) {
      const dist = <f32>0.5 * Mathf.sqrt(directSquaredDistance(cj, rowAddress(centroids, o, d), d)) * DIRECT_SLACK_DOWN;
      store<f32>(f32Address(rowAddress(pairs, j, k), o), dist);
      store<f32>(f32Address(rowAddress(pairs, o, k), j), dist);
      if (dist < best) best = dist;
      if (dist < load<f32>(f32Address(half, o))) store<f32>(f32Address(half, o), dist);
    }
    store<f32>(f32Address(half, j), best);
  }
}

/** out[i] = ‖x_i − c_labels[i]‖² (direct form) for n rows. */
export function ownCentroidDistances(x: usize, n: i32, d: i32, centroids: usize, labels: usize, out: usize): void {
  for (let i = 0; i < n; i++) {
    const a = load<i32>(i32Address(labels, i));
    store<f32>(f32Address(out, i), directSquaredDistance(rowAddress(x, i, d), rowAddress(centroids, a, d), d));
  }
}
