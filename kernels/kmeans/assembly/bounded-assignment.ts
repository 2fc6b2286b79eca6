import { rowAddress, f32Address, i32Address } from '../../distances/assembly/vector-offsets';
import { blockDot0, blockDot1, dotPair, dotSingle } from '../../distances/assembly/dot-blocks';

/**
 * Slack added to (subtracted from) a squared distance computed as ‖x‖² − 2x·c + ‖c‖² before it
 * becomes an upper (lower) bound: f32 cancellation error is at most a few 1e-5 of ‖x‖² + ‖c‖²
 * even for d = 768, so bounds built with this slack stay true bounds and pruning never changes
 * a label that the exact nearest-centroid rule would give.
 */
const CANCELLATION_SLACK: f32 = 1e-4;

/** Relative rounding allowance of a distance computed directly (Σ(a−b)² in f32 has relative error ≤ d·2⁻²⁴, 4.6e-5 at d = 768). */
const DIRECT_SLACK_UP: f32 = 1 + 1e-4;
const DIRECT_SLACK_DOWN: f32 = 1 - 1e-4;

/** Squared L2 distance computed directly as Σ(a−b)² (no cancellation). */
// @ts-ignore: decorator
@inline function directSquaredDistance(a: usize, b: usize, d: i32): f32 {
  const d4 = d & ~3;
  let acc0 = f32x4.splat(0);
  let acc1 = f32x4.splat(0);
  let j = 0;
  for (; j + 8 <= d4; j += 8) {
    const e0 = f32x4.sub(v128.load(f32Address(a, j)), v128.load(f32Address(b, j)));
    const e1 = f32x4.sub(v128.load(f32Address(a, j), 16), v128.load(f32Address(b, j), 16));
    acc0 = f32x4.add(acc0, f32x4.mul(e0, e0));
    acc1 = f32x4.add(acc1, f32x4.mul(e1, e1));
  }
  for (; j < d4; j += 4) {
    const e = f32x4.sub(v128.load(f32Address(a, j)), v128.load(f32Address(b, j)));
    acc0 = f32x4.add(acc0, f32x4.mul(e, e));
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
 * One Lloyd assignment with Hamerly's bounds (exact: gives the labels of a full nearest-centroid
 * search, computing far fewer distances once centroids move little). Per row i, upper[i] bounds
 * the distance to its centroid labels[i] and lower[i] the distance to every other centroid.
 *
 * With `full` = 1 every row is searched (first iteration: labels/upper/lower are outputs only).
 * Otherwise bounds are first moved by the centroid drift of the last update (`drift`: k
 * distances each centroid moved; `maxDrift`/`maxDriftAt`/`secondDrift`: the largest drift, its
 * centroid and the second largest), and a row is skipped when upper ≤ max(lower, half[label])
 * (`half`: half the distance from each centroid to its nearest other centroid); then upper is
 * tightened to the exact distance (direct Σ(x−c)² on `centroids`, k × d) and tested again; rows
 * still in doubt are listed in `list` (n i32) and searched over every centroid with the 4 × 8
 * blocked kernel on `packed`/`cNorms` (see assignNearest). `state` holds 48 bytes of per-thread
 * scratch. Returns the number of rows searched.
 */
export function boundedAssign(
  x: usize, n: i32, d: i32, packed: usize, centroids: usize, k: i32, xNorms: usize, cNorms: usize,
  labels: usize, upper: usize, lower: usize, drift: usize, half: usize,
  maxDrift: f32, maxDriftAt: i32, secondDrift: f32, maxCNorm: f32, full: i32, list: usize, state: usize,
): i32 {
  let count = 0;
  if (full) {
    for (let i = 0; i < n; i++) store<i32>(i32Address(list, count++), i);
  } else {
    for (let i = 0; i < n; i++) {
      const a = load<i32>(i32Address(labels, i));
      let u = load<f32>(f32Address(upper, i)) + load<f32>(f32Address(drift, a));
      const l = load<f32>(f32Address(lower, i)) - (a == maxDriftAt ? secondDrift : maxDrift);
      store<f32>(f32Address(lower, i), l);
      const bound = max(l, load<f32>(f32Address(half, a)));
      if (u > bound) {
        u = Mathf.sqrt(directSquaredDistance(rowAddress(x, i, d), rowAddress(centroids, a, d), d)) * DIRECT_SLACK_UP;
        if (u > bound) store<i32>(i32Address(list, count++), i);
      }
      store<f32>(f32Address(upper, i), u);
    }
  }
  searchListed(x, d, packed, k, xNorms, cNorms, maxCNorm, labels, upper, lower, list, count, state);
  return count;
}

/** Full nearest-centroid search, blocked 4 rows × 2 centroids (dot-blocks.ts), for the `count` rows listed in `list`. */
function searchListed(
  x: usize, d: i32, packed: usize, k: i32, xNorms: usize, cNorms: usize, maxCNorm: f32,
  labels: usize, upper: usize, lower: usize, list: usize, count: i32, state: usize,
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
      let m = f32x4.lt(v0, best);
      second = v128.bitselect(best, f32x4.min(second, v0), m);
      best = v128.bitselect(v0, best, m);
      bestI = v128.bitselect(i32x4.splat(j), bestI, m);
      const v1 = f32x4.sub(f32x4.splat(load<f32>(f32Address(cNorms, j + 1))), f32x4.add(blockDot1, blockDot1));
      m = f32x4.lt(v1, best);
      second = v128.bitselect(best, f32x4.min(second, v1), m);
      best = v128.bitselect(v1, best, m);
      bestI = v128.bitselect(i32x4.splat(j + 1), bestI, m);
    }
    if (j < k) {
      dotSingle(x0, x1, x2, x3, rowAddress(packed, j, d), d);
      const v0 = f32x4.sub(f32x4.splat(load<f32>(f32Address(cNorms, j))), f32x4.add(blockDot0, blockDot0));
      const m = f32x4.lt(v0, best);
      second = v128.bitselect(best, f32x4.min(second, v0), m);
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
      store<i32>(i32Address(labels, row), load<i32>(state + 16 + lane));
      store<f32>(f32Address(upper, row), Mathf.sqrt(max<f32>(load<f32>(state + lane) + xn + slack, 0)));
      store<f32>(f32Address(lower, row), Mathf.sqrt(max<f32>(load<f32>(state + 32 + lane) + xn - slack, 0)));
    }
  }
}

/** half[j] = ½ min over j' ≠ j of ‖c_j − c_j'‖ (direct form), shrunk by DIRECT_SLACK_DOWN so it stays a lower bound; +inf when k = 1. */
export function halfNearestCentroidDistances(centroids: usize, k: i32, d: i32, half: usize): void {
  for (let j = 0; j < k; j++) store<f32>(f32Address(half, j), Infinity);
  for (let j = 0; j < k; j++) {
    const cj = rowAddress(centroids, j, d);
    let best = load<f32>(f32Address(half, j));
    for (let o = j + 1; o < k; o++) {
      const dist = <f32>0.5 * Mathf.sqrt(directSquaredDistance(cj, rowAddress(centroids, o, d), d)) * DIRECT_SLACK_DOWN;
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
