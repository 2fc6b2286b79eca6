import { GROUP, rowAddress, f32Address, i32Address, packedAddress, groupCount } from '../../distances/assembly/vector-offsets';

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

/** Lane-wise running (best, its index, second best) of one row, kept in 48 bytes at `state`. */
// @ts-ignore: decorator
@inline function foldCandidates(state: usize, v: v128, idx: v128): void {
  const best = v128.load(state);
  const bestI = v128.load(state, 16);
  const second = v128.load(state, 32);
  // strict <: on a tie the earlier (lower) index stays best.
  const m = f32x4.lt(v, best);
  v128.store(state, v128.bitselect(v, best, m));
  v128.store(state, v128.bitselect(idx, bestI, m), 16);
  v128.store(state, v128.bitselect(best, f32x4.min(second, v), m), 32);
}

/**
 * Reduces a row's lane state to its nearest centroid (lowest index on ties) and writes the
 * label and Hamerly bounds: upper = √(best² + slack), lower = √(max(0, second² − slack)).
 */
// @ts-ignore: decorator
@inline function finishRow(state: usize, xn: f32, slack: f32, row: i32, labels: usize, upper: usize, lower: usize): void {
  let v = f32x4.extract_lane(v128.load(state), 0);
  let idx = i32x4.extract_lane(v128.load(state, 16), 0);
  const s = v128.load(state, 32);
  let second = min(min(f32x4.extract_lane(s, 0), f32x4.extract_lane(s, 1)), min(f32x4.extract_lane(s, 2), f32x4.extract_lane(s, 3)));
  for (let lane = 1; lane < 4; lane++) {
    const lv = load<f32>(state + (<usize>lane << 2));
    const li = load<i32>(state + 16 + (<usize>lane << 2));
    if (lv < v || (lv == v && li < idx)) {
      second = min(second, v);
      v = lv;
      idx = li;
    } else {
      second = min(second, lv);
    }
  }
  store<i32>(i32Address(labels, row), idx);
  store<f32>(f32Address(upper, row), Mathf.sqrt(max<f32>(v + xn + slack, 0)));
  store<f32>(f32Address(lower, row), Mathf.sqrt(max<f32>(second + xn - slack, 0)));
}

// @ts-ignore: decorator
@inline function resetState(state: usize): void {
  v128.store(state, f32x4.splat(Infinity));
  v128.store(state, i32x4.splat(0), 16);
  v128.store(state, f32x4.splat(Infinity), 32);
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
 * register-blocked kernel on `packed`/`cNorms` (see assignNearest). `state` holds 192 bytes of
 * per-thread scratch. Returns the number of rows searched.
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

/** Full nearest-centroid search, blocked 4 rows × 8 centroids, for the `count` rows listed in `list`. */
function searchListed(
  x: usize, d: i32, packed: usize, k: i32, xNorms: usize, cNorms: usize, maxCNorm: f32,
  labels: usize, upper: usize, lower: usize, list: usize, count: i32, state: usize,
): void {
  const groups = groupCount(k);
  const iota = i32x4(0, 1, 2, 3);
  const c4 = count & ~3;
  let t = 0;
  for (; t < c4; t += 4) {
    const r0 = load<i32>(i32Address(list, t));
    const r1 = load<i32>(i32Address(list, t + 1));
    const r2 = load<i32>(i32Address(list, t + 2));
    const r3 = load<i32>(i32Address(list, t + 3));
    const x0 = rowAddress(x, r0, d);
    const x1 = rowAddress(x, r1, d);
    const x2 = rowAddress(x, r2, d);
    const x3 = rowAddress(x, r3, d);
    for (let r = 0; r < 4; r++) resetState(state + <usize>r * 48);
    for (let g = 0; g < groups; g++) {
      let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
      let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
      let p = packedAddress(packed, g, 0, d);
      for (let dim = 0; dim < d; dim++) {
        const c0 = v128.load(p);
        const c1 = v128.load(p, 16);
        const off = <usize>dim << 2;
        let v = v128.load32_splat(x0 + off);
        a00 = f32x4.add(a00, f32x4.mul(v, c0));
        a01 = f32x4.add(a01, f32x4.mul(v, c1));
        v = v128.load32_splat(x1 + off);
        a10 = f32x4.add(a10, f32x4.mul(v, c0));
        a11 = f32x4.add(a11, f32x4.mul(v, c1));
        v = v128.load32_splat(x2 + off);
        a20 = f32x4.add(a20, f32x4.mul(v, c0));
        a21 = f32x4.add(a21, f32x4.mul(v, c1));
        v = v128.load32_splat(x3 + off);
        a30 = f32x4.add(a30, f32x4.mul(v, c0));
        a31 = f32x4.add(a31, f32x4.mul(v, c1));
        p += 32;
      }
      const cn0 = v128.load(f32Address(cNorms, g * GROUP));
      const cn1 = v128.load(f32Address(cNorms, g * GROUP + 4));
      const i0 = i32x4.add(i32x4.splat(g * GROUP), iota);
      const i1 = i32x4.add(i32x4.splat(g * GROUP + 4), iota);
      foldCandidates(state, f32x4.sub(cn0, f32x4.add(a00, a00)), i0);
      foldCandidates(state, f32x4.sub(cn1, f32x4.add(a01, a01)), i1);
      foldCandidates(state + 48, f32x4.sub(cn0, f32x4.add(a10, a10)), i0);
      foldCandidates(state + 48, f32x4.sub(cn1, f32x4.add(a11, a11)), i1);
      foldCandidates(state + 96, f32x4.sub(cn0, f32x4.add(a20, a20)), i0);
      foldCandidates(state + 96, f32x4.sub(cn1, f32x4.add(a21, a21)), i1);
      foldCandidates(state + 144, f32x4.sub(cn0, f32x4.add(a30, a30)), i0);
      foldCandidates(state + 144, f32x4.sub(cn1, f32x4.add(a31, a31)), i1);
    }
    finishListedRow(state, r0, x, xNorms, maxCNorm, labels, upper, lower);
    finishListedRow(state + 48, r1, x, xNorms, maxCNorm, labels, upper, lower);
    finishListedRow(state + 96, r2, x, xNorms, maxCNorm, labels, upper, lower);
    finishListedRow(state + 144, r3, x, xNorms, maxCNorm, labels, upper, lower);
  }
  for (; t < count; t++) {
    const r0 = load<i32>(i32Address(list, t));
    const x0 = rowAddress(x, r0, d);
    resetState(state);
    for (let g = 0; g < groups; g++) {
      let a00 = f32x4.splat(0), a01 = f32x4.splat(0);
      let p = packedAddress(packed, g, 0, d);
      for (let dim = 0; dim < d; dim++) {
        const v = v128.load32_splat(x0 + (<usize>dim << 2));
        a00 = f32x4.add(a00, f32x4.mul(v, v128.load(p)));
        a01 = f32x4.add(a01, f32x4.mul(v, v128.load(p, 16)));
        p += 32;
      }
      const cn0 = v128.load(f32Address(cNorms, g * GROUP));
      const cn1 = v128.load(f32Address(cNorms, g * GROUP + 4));
      foldCandidates(state, f32x4.sub(cn0, f32x4.add(a00, a00)), i32x4.add(i32x4.splat(g * GROUP), iota));
      foldCandidates(state, f32x4.sub(cn1, f32x4.add(a01, a01)), i32x4.add(i32x4.splat(g * GROUP + 4), iota));
    }
    finishListedRow(state, r0, x, xNorms, maxCNorm, labels, upper, lower);
  }
}

// @ts-ignore: decorator
@inline function finishListedRow(state: usize, row: i32, x: usize, xNorms: usize, maxCNorm: f32, labels: usize, upper: usize, lower: usize): void {
  const xn = load<f32>(f32Address(xNorms, row));
  finishRow(state, xn, CANCELLATION_SLACK * (xn + maxCNorm), row, labels, upper, lower);
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
