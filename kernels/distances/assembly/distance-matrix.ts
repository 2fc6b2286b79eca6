import { GROUP, rowAddress, f32Address, packedAddress, groupCount } from './vector-offsets';

/** Metric codes shared with the TypeScript bindings. */
export const METRIC_SQUARED_L2: i32 = 0;
export const METRIC_INNER_PRODUCT: i32 = 1;
export const METRIC_COSINE: i32 = 2;

/**
 * Turns 4 dot products into the metric's value. `xt` is the row term (‖x‖² for L2, 1/‖x‖ for
 * cosine), `ct` 4 centroid terms (‖c‖² or 1/‖c‖). Squared L2 uses ‖x‖² − 2x·c + ‖c‖², clamped
 * at 0 (rounding can make it slightly negative); NaN propagates (f32x4.max keeps NaN).
 */
// @ts-ignore: decorator
@inline function finish(dot: v128, xt: f32, ct: v128, metric: i32): v128 {
  if (metric == METRIC_SQUARED_L2) {
    return f32x4.max(f32x4.sub(f32x4.add(f32x4.splat(xt), ct), f32x4.add(dot, dot)), f32x4.splat(0));
  }
  if (metric == METRIC_INNER_PRODUCT) return dot;
  return f32x4.sub(f32x4.splat(1), f32x4.mul(f32x4.mul(dot, f32x4.splat(xt)), ct));
}

/** Stores the first `count` (1..8) lanes of lo:hi at addr. */
// @ts-ignore: decorator
@inline function storeLanes(addr: usize, lo: v128, hi: v128, count: i32): void {
  if (count >= GROUP) {
    v128.store(addr, lo);
    v128.store(addr, hi, 16);
    return;
  }
  store<f32>(addr, f32x4.extract_lane(lo, 0));
  if (count > 1) store<f32>(addr, f32x4.extract_lane(lo, 1), 4);
  if (count > 2) store<f32>(addr, f32x4.extract_lane(lo, 2), 8);
  if (count > 3) store<f32>(addr, f32x4.extract_lane(lo, 3), 12);
  if (count > 4) store<f32>(addr, f32x4.extract_lane(hi, 0), 16);
  if (count > 5) store<f32>(addr, f32x4.extract_lane(hi, 1), 20);
  if (count > 6) store<f32>(addr, f32x4.extract_lane(hi, 2), 24);
}

/**
 * out (n × k, row-major) = metric(x[i], c[j]) for n rows of x (n × d) against k packed centroids.
 * xTerm: n row terms; cTerm: groupCount(k)*GROUP centroid terms (see finish). Register-blocked:
 * 4 rows × 8 centroids = 8 f32x4 accumulators per step, a broadcast load per row element.
 */
export function distanceMatrix(
  x: usize, n: i32, d: i32, packed: usize, k: i32, xTerm: usize, cTerm: usize, metric: i32, out: usize,
): void {
  const groups = groupCount(k);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const x0 = rowAddress(x, i, d);
    const x1 = rowAddress(x, i + 1, d);
    const x2 = rowAddress(x, i + 2, d);
    const x3 = rowAddress(x, i + 3, d);
    const xt0 = load<f32>(f32Address(xTerm, i));
    const xt1 = load<f32>(f32Address(xTerm, i + 1));
    const xt2 = load<f32>(f32Address(xTerm, i + 2));
    const xt3 = load<f32>(f32Address(xTerm, i + 3));
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
      const ct0 = v128.load(f32Address(cTerm, g * GROUP));
      const ct1 = v128.load(f32Address(cTerm, g * GROUP + 4));
      const count = min(GROUP, k - g * GROUP);
      const col = g * GROUP;
      storeLanes(f32Address(rowAddress(out, i, k), col), finish(a00, xt0, ct0, metric), finish(a01, xt0, ct1, metric), count);
      storeLanes(f32Address(rowAddress(out, i + 1, k), col), finish(a10, xt1, ct0, metric), finish(a11, xt1, ct1, metric), count);
      storeLanes(f32Address(rowAddress(out, i + 2, k), col), finish(a20, xt2, ct0, metric), finish(a21, xt2, ct1, metric), count);
      storeLanes(f32Address(rowAddress(out, i + 3, k), col), finish(a30, xt3, ct0, metric), finish(a31, xt3, ct1, metric), count);
    }
  }
  for (; i < n; i++) {
    const x0 = rowAddress(x, i, d);
    const xt0 = load<f32>(f32Address(xTerm, i));
    for (let g = 0; g < groups; g++) {
      let a00 = f32x4.splat(0), a01 = f32x4.splat(0);
      let p = packedAddress(packed, g, 0, d);
      for (let dim = 0; dim < d; dim++) {
        const v = v128.load32_splat(x0 + (<usize>dim << 2));
        a00 = f32x4.add(a00, f32x4.mul(v, v128.load(p)));
        a01 = f32x4.add(a01, f32x4.mul(v, v128.load(p, 16)));
        p += 32;
      }
      const ct0 = v128.load(f32Address(cTerm, g * GROUP));
      const ct1 = v128.load(f32Address(cTerm, g * GROUP + 4));
      storeLanes(f32Address(rowAddress(out, i, k), g * GROUP), finish(a00, xt0, ct0, metric), finish(a01, xt0, ct1, metric), min(GROUP, k - g * GROUP));
    }
  }
}
