import { GROUP, rowAddress, f32Address, i32Address, packedAddress, groupCount } from './vector-offsets';

/** Picks, lane-wise, the smaller of (v, i) and (bestV, bestI); strict < keeps the earlier (lower) index on ties and never picks NaN. */
// @ts-ignore: decorator
@inline function keepSmaller(v: v128, idx: v128, bestV: v128, bestI: v128, out: usize): void {
  const m = f32x4.lt(v, bestV);
  v128.store(out, v128.bitselect(v, bestV, m));
  v128.store(out, v128.bitselect(idx, bestI, m), 16);
}

/** Reduces 4 lanes of (value, index) to the minimum value, lowest index on ties; writes label and min to the row's outputs. */
// @ts-ignore: decorator
@inline function reduceLanes(bestV: v128, bestI: v128, xn: f32, labels: usize, minDist: usize, row: i32): void {
  let v = f32x4.extract_lane(bestV, 0);
  let idx = i32x4.extract_lane(bestI, 0);
  for (let lane = 1; lane < 4; lane++) {
    const lv = lane == 1 ? f32x4.extract_lane(bestV, 1) : lane == 2 ? f32x4.extract_lane(bestV, 2) : f32x4.extract_lane(bestV, 3);
    const li = lane == 1 ? i32x4.extract_lane(bestI, 1) : lane == 2 ? i32x4.extract_lane(bestI, 2) : i32x4.extract_lane(bestI, 3);
    if (li >= 0 && (idx < 0 || lv < v || (lv == v && li < idx))) {
      v = lv;
      idx = li;
    }
  }
  store<i32>(i32Address(labels, row), idx);
  // No finite candidate (a NaN row): label -1, distance NaN.
  store<f32>(f32Address(minDist, row), idx < 0 ? NaN : max<f32>(v + xn, 0));
}

/**
 * For each of n rows of x: labels[i] = argmin_j ‖x_i − c_j‖² (lowest j on ties, -1 when every
 * distance is NaN) and minDist[i] = that squared distance, never materializing the n × k
 * matrix. `cNorms` holds groupCount(k)*GROUP centroid norms padded with +inf (padded lanes
 * never win); `xNorms` the n row norms. `scratch` holds 32 bytes per row block (4 rows: 128 bytes),
 * private to the caller (one per thread).
 */
export function assignNearest(
  x: usize, n: i32, d: i32, packed: usize, k: i32, xNorms: usize, cNorms: usize, labels: usize, minDist: usize, scratch: usize,
): void {
  const groups = groupCount(k);
  const iota = i32x4(0, 1, 2, 3);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const x0 = rowAddress(x, i, d);
    const x1 = rowAddress(x, i + 1, d);
    const x2 = rowAddress(x, i + 2, d);
    const x3 = rowAddress(x, i + 3, d);
    const inf = f32x4.splat(Infinity);
    const none = i32x4.splat(-1);
    for (let r = 0; r < 4; r++) {
      v128.store(scratch + (<usize>r << 5), inf);
      v128.store(scratch + (<usize>r << 5), none, 16);
    }
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
      blockRow(scratch, f32x4.sub(cn0, f32x4.add(a00, a00)), f32x4.sub(cn1, f32x4.add(a01, a01)), i0, i1);
      blockRow(scratch + 32, f32x4.sub(cn0, f32x4.add(a10, a10)), f32x4.sub(cn1, f32x4.add(a11, a11)), i0, i1);
      blockRow(scratch + 64, f32x4.sub(cn0, f32x4.add(a20, a20)), f32x4.sub(cn1, f32x4.add(a21, a21)), i0, i1);
      blockRow(scratch + 96, f32x4.sub(cn0, f32x4.add(a30, a30)), f32x4.sub(cn1, f32x4.add(a31, a31)), i0, i1);
    }
    for (let r = 0; r < 4; r++) {
      const s = scratch + (<usize>r << 5);
      reduceLanes(v128.load(s), v128.load(s, 16), load<f32>(f32Address(xNorms, i + r)), labels, minDist, i + r);
    }
  }
  for (; i < n; i++) {
    const x0 = rowAddress(x, i, d);
    v128.store(scratch, f32x4.splat(Infinity));
    v128.store(scratch, i32x4.splat(-1), 16);
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
      blockRow(
        scratch, f32x4.sub(cn0, f32x4.add(a00, a00)), f32x4.sub(cn1, f32x4.add(a01, a01)),
        i32x4.add(i32x4.splat(g * GROUP), iota), i32x4.add(i32x4.splat(g * GROUP + 4), iota),
      );
    }
    reduceLanes(v128.load(scratch), v128.load(scratch, 16), load<f32>(f32Address(xNorms, i)), labels, minDist, i);
  }
}

/** Folds one row's 8 candidate (partial distance, index) pairs into its running lane-wise minimum at `state`. */
// @ts-ignore: decorator
@inline function blockRow(state: usize, d0: v128, d1: v128, i0: v128, i1: v128): void {
  // lanes of d0 hold lower indices than d1's: strict < keeps d0 on ties.
  const m = f32x4.lt(d1, d0);
  const v = v128.bitselect(d1, d0, m);
  const idx = v128.bitselect(i1, i0, m);
  keepSmaller(v, idx, v128.load(state), v128.load(state, 16), state);
}
