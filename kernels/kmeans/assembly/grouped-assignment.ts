import { rowAddress, f32Address, i32Address } from '../../distances/assembly/vector-offsets';
import { blockDot0, blockDot1, dotPair, dotSingle } from '../../distances/assembly/dot-blocks';
import { CANCELLATION_SLACK, DIRECT_SLACK_UP, directSquaredDistance } from './bounded-assignment';

/** Most centroid groups (a row's groups in doubt are a bit mask in one byte). */
const MAX_GROUPS = 8;
/** Layout of the per-thread `state` scratch: per group the smallest value, its position and the second smallest (4 lanes each), then the bucket counts. */
const GROUP_STATE = 48;
const STATE_COUNTS = MAX_GROUPS * GROUP_STATE;

/**
 * One Lloyd assignment with Yinyang's group bounds (Ding et al. 2015; exact: the labels of a full
 * nearest-centroid search). The k centroids are split into `groups` (4 or 8; empty groups have
 * no positions) groups of nearby
 * centroids; per row, upper[i] bounds the distance to its centroid labels[i] and glb[i][g] (n ×
 * groups) the distance to every centroid of group g other than labels[i]. Each assignment moves
 * upper by the row's centroid drift and glb[i][g] down by the largest drift in group g
 * (`groupDrift[label][g]`, k × groups: for the row's own group, whose bound excludes its centroid,
 * the largest drift of the group's other centroids), so a few far-moving centroids only loosen the bounds of their own group (a
 * single Hamerly lower bound moves by the largest drift of all). A row is kept when upper ≤
 * max(min_g glb, half[label]); else upper is tightened to the exact distance (direct Σ(x−c)² on
 * `centroids`, original order) and tested again; else the row is searched over its own group and
 * every group whose bound falls below upper. Rows are bucketed by that group mask (counting sort
 * on `masks`, n bytes, into `sorted`) and each bucket is searched with the blocked 4 rows × 2
 * centroids kernel over its groups only, which refreshes upper and the searched groups' bounds.
 *
 * `packed` holds the centroids in group order (k × d), `cNorms` their squared norms in that
 * order, `order[p]` the original index of position p, `gStart` (groups + 1) each group's first
 * position, `groupOf[j]` the group of original centroid j. Ties go to the lower original index,
 * as in a search in index order. With `full` = 1 every row is searched over all groups.
 * `state` holds GROUPED_STATE_BYTES of per-thread scratch. Returns the number of rows searched.
 */
export function groupedAssign(
  x: usize, n: i32, d: i32, packed: usize, centroids: usize, k: i32, xNorms: usize, cNorms: usize,
  labels: usize, upper: usize, glb: usize, drift: usize, half: usize, groupDrift: usize, groupOf: usize, order: usize, gStart: usize,
  groups: i32, maxCNorm: f32, full: i32, list: usize, masks: usize, sorted: usize, state: usize,
): i32 {
  const all = (1 << groups) - 1;
  let count = 0;
  if (full == 1) {
    // Every row over every group: no sort (a second call site of searchGroups also keeps it out of line).
    for (let i = 0; i < n; i++) store<i32>(i32Address(sorted, i), i);
    searchGroups(x, d, packed, xNorms, cNorms, maxCNorm, labels, upper, glb, groupOf, order, gStart, groups, all, sorted, 0, n, state);
    return n;
  } else {
    for (let i = 0; i < n; i++) {
      const a = load<i32>(i32Address(labels, i));
      let u = load<f32>(f32Address(upper, i)) + load<f32>(f32Address(drift, a));
      const own = rowAddress(glb, i, groups);
      const moved = rowAddress(groupDrift, a, groups);
      const lv0 = f32x4.sub(v128.load(own), v128.load(moved));
      v128.store(own, lv0);
      let lv1 = f32x4.splat(Infinity);
      if (groups > 4) {
        lv1 = f32x4.sub(v128.load(own, 16), v128.load(moved, 16));
        v128.store(own, lv1, 16);
      }
      // Horizontal minimum with pmin (minps: wasm's f32.min / f32x4.min are NaN-exact sequences,
      // the scalar one with data-dependent branches; no NaN reaches here).
      let lv = f32x4.pmin(lv0, lv1);
      lv = f32x4.pmin(lv, v128.shuffle<f32>(lv, lv, 2, 3, 0, 1));
      lv = f32x4.pmin(lv, v128.shuffle<f32>(lv, lv, 1, 0, 3, 2));
      const l = f32x4.extract_lane(lv, 0);
      const h = load<f32>(f32Address(half, a));
      if (u > l && u > h) {
        u = Mathf.sqrt(directSquaredDistance(rowAddress(x, i, d), rowAddress(centroids, a, d), d)) * DIRECT_SLACK_UP;
        if (u > l && u > h) {
          const uu = f32x4.splat(u);
          const mask = (1 << load<i32>(i32Address(groupOf, a))) | i32x4.bitmask(f32x4.lt(lv0, uu)) | (i32x4.bitmask(f32x4.lt(lv1, uu)) << 4);
          store<i32>(i32Address(list, count), i);
          store<u8>(masks + <usize>count, <u8>mask);
          count++;
        }
      }
      store<f32>(f32Address(upper, i), u);
    }
  }
  if (count == 0) return 0;
  // Counting sort of the listed rows by group mask, so that each 4-row block shares its groups.
  const counts = state + STATE_COUNTS;
  memory.fill(counts, 0, (<usize>(all + 1)) << 2);
  for (let t = 0; t < count; t++) {
    const c = counts + ((<usize>load<u8>(masks + <usize>t)) << 2);
    store<i32>(c, load<i32>(c) + 1);
  }
  let start = 0;
  for (let m = 0; m <= all; m++) {
    const c = counts + (<usize>m << 2);
    const size = load<i32>(c);
    store<i32>(c, start);
    start += size;
  }
  for (let t = 0; t < count; t++) {
    const c = counts + ((<usize>load<u8>(masks + <usize>t)) << 2);
    const at = load<i32>(c);
    store<i32>(i32Address(sorted, at), load<i32>(i32Address(list, t)));
    store<i32>(c, at + 1);
  }
  // counts[m] is now the end of bucket m.
  let from = 0;
  for (let m = 0; m <= all; m++) {
    const to = load<i32>(counts + (<usize>m << 2));
    if (to > from) searchGroups(x, d, packed, xNorms, cNorms, maxCNorm, labels, upper, glb, groupOf, order, gStart, groups, m, sorted, from, to, state);
    from = to;
  }
  return count;
}

/**
 * Blocked search of rows sorted[from..to) over the centroids of the groups in `mask`; writes
 * labels, upper and those groups' bounds. Per group and lane it keeps the smallest ‖c‖² − 2x·c,
 * its position (strict <: the lower position, so the lower original index, stays on ties) and the
 * second smallest, the same three vectors as a plain search; the groups' winners are compared per
 * row at the end (ties to the lower original index).
 */
function searchGroups(
  x: usize, d: i32, packed: usize, xNorms: usize, cNorms: usize, maxCNorm: f32, labels: usize, upper: usize, glb: usize,
  groupOf: usize, order: usize, gStart: usize, groups: i32, mask: i32, sorted: usize, from: i32, to: i32, state: usize,
): void {
  for (let t = from; t < to; t += 4) {
    const rows = min(4, to - t);
    const r0 = load<i32>(i32Address(sorted, t));
    const r1 = load<i32>(i32Address(sorted, t + min(1, rows - 1)));
    const r2 = load<i32>(i32Address(sorted, t + min(2, rows - 1)));
    const r3 = load<i32>(i32Address(sorted, t + min(3, rows - 1)));
    const x0 = rowAddress(x, r0, d);
    const x1 = rowAddress(x, r1, d);
    const x2 = rowAddress(x, r2, d);
    const x3 = rowAddress(x, r3, d);
    for (let g = 0; g < groups; g++) {
      if (!(mask & (1 << g))) continue;
      let best = f32x4.splat(Infinity);
      let bestP = i32x4.splat(0);
      let second = f32x4.splat(Infinity);
      let p = load<i32>(i32Address(gStart, g));
      const end = load<i32>(i32Address(gStart, g + 1));
      bestP = i32x4.splat(p);
      for (; p + 2 <= end; p += 2) {
        dotPair(x0, x1, x2, x3, rowAddress(packed, p, d), rowAddress(packed, p + 1, d), d);
        const v0 = f32x4.sub(f32x4.splat(load<f32>(f32Address(cNorms, p))), f32x4.add(blockDot0, blockDot0));
        const v1 = f32x4.sub(f32x4.splat(load<f32>(f32Address(cNorms, p + 1))), f32x4.add(blockDot1, blockDot1));
        let m = f32x4.lt(v0, best);
        second = v128.bitselect(best, f32x4.pmin(second, v0), m);
        best = v128.bitselect(v0, best, m);
        bestP = v128.bitselect(i32x4.splat(p), bestP, m);
        m = f32x4.lt(v1, best);
        second = v128.bitselect(best, f32x4.pmin(second, v1), m);
        best = v128.bitselect(v1, best, m);
        bestP = v128.bitselect(i32x4.splat(p + 1), bestP, m);
      }
      if (p < end) {
        dotSingle(x0, x1, x2, x3, rowAddress(packed, p, d), d);
        const v0 = f32x4.sub(f32x4.splat(load<f32>(f32Address(cNorms, p))), f32x4.add(blockDot0, blockDot0));
        const m = f32x4.lt(v0, best);
        second = v128.bitselect(best, f32x4.pmin(second, v0), m);
        best = v128.bitselect(v0, best, m);
        bestP = v128.bitselect(i32x4.splat(p), bestP, m);
      }
      const at = state + <usize>g * GROUP_STATE;
      v128.store(at, best);
      v128.store(at, bestP, 16);
      v128.store(at, second, 32);
    }
    for (let r = 0; r < rows; r++) {
      const row = load<i32>(i32Address(sorted, t + r));
      const lane = <usize>r << 2;
      let bestV: f32 = Infinity;
      let label = 0x7fffffff;
      let labelGroup = 0;
      for (let g = 0; g < groups; g++) {
        if (!(mask & (1 << g))) continue;
        const at = state + <usize>g * GROUP_STATE + lane;
        const v = load<f32>(at);
        const j = load<i32>(i32Address(order, load<i32>(at, 16)));
        if (v < bestV || (v == bestV && j < label)) {
          bestV = v;
          label = j;
          labelGroup = g;
        }
      }
      const xn = load<f32>(f32Address(xNorms, row));
      // Bounds with slack for the cancellation error of the ‖x‖² − 2x·c + ‖c‖² form.
      const slack = CANCELLATION_SLACK * (xn + maxCNorm);
      store<i32>(i32Address(labels, row), label);
      store<f32>(f32Address(upper, row), Mathf.sqrt(max<f32>(bestV + xn + slack, 0)));
      const own = rowAddress(glb, row, groups);
      for (let g = 0; g < groups; g++) {
        if (!(mask & (1 << g))) continue;
        const v = load<f32>(state + <usize>g * GROUP_STATE + lane + (g == labelGroup ? 32 : 0));
        store<f32>(f32Address(own, g), Mathf.sqrt(max<f32>(v + xn - slack, 0)));
      }
    }
  }
}
