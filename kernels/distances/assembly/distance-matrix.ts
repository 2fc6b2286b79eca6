import { rowAddress, f32Address } from './vector-offsets';
import { blockDot0, blockDot1, dotPair, dotSingle, loadUpTo4 } from './dot-blocks';

/** Metric codes shared with the TypeScript bindings. */
export const METRIC_SQUARED_L2: i32 = 0;
export const METRIC_INNER_PRODUCT: i32 = 1;
export const METRIC_COSINE: i32 = 2;

/**
 * Turns the dot products of 4 rows with one centroid into the metric's value. `xt` holds the
 * 4 row terms (‖x‖² for L2, 1/‖x‖ for cosine), `ct` the centroid term (‖c‖² or 1/‖c‖). Squared
 * L2 uses ‖x‖² − 2x·c + ‖c‖², clamped at 0 (rounding can make it slightly negative); NaN
 * propagates (f32x4.max keeps NaN).
 */
// @ts-ignore: decorator
@inline function finish(dot: v128, xt: v128, ct: f32, metric: i32): v128 {
  if (metric == METRIC_SQUARED_L2) {
    return f32x4.max(f32x4.sub(f32x4.add(xt, f32x4.splat(ct)), f32x4.add(dot, dot)), f32x4.splat(0));
  }
  if (metric == METRIC_INNER_PRODUCT) return dot;
  return f32x4.sub(f32x4.splat(1), f32x4.mul(f32x4.mul(dot, xt), f32x4.splat(ct)));
}

/** Stores lanes 0..rows-1 of v into column `col` of rows i.. of out (n × k). */
// @ts-ignore: decorator
@inline function storeColumn(out: usize, i: i32, k: i32, col: i32, v: v128, rows: i32): void {
  const at = f32Address(rowAddress(out, i, k), col);
  const stride = <usize>k << 2;
  store<f32>(at, f32x4.extract_lane(v, 0));
  if (rows > 1) store<f32>(at + stride, f32x4.extract_lane(v, 1));
  if (rows > 2) store<f32>(at + 2 * stride, f32x4.extract_lane(v, 2));
  if (rows > 3) store<f32>(at + 3 * stride, f32x4.extract_lane(v, 3));
}

/**
 * out (n × k, row-major) = metric(x[i], c[j]) for n rows of x (n × d) against k centroids laid
 * out by packCentroids. xTerm: n row terms; cTerm: k centroid terms (see finish). Blocked 4 rows
 * × 2 centroids (dot-blocks.ts); a short last block repeats its last row.
 */
export function distanceMatrix(
  x: usize, n: i32, d: i32, packed: usize, k: i32, xTerm: usize, cTerm: usize, metric: i32, out: usize,
): void {
  for (let i = 0; i < n; i += 4) {
    const rows = min(4, n - i);
    const r0 = rowAddress(x, i, d);
    const r1 = rowAddress(x, i + min(1, rows - 1), d);
    const r2 = rowAddress(x, i + min(2, rows - 1), d);
    const r3 = rowAddress(x, i + min(3, rows - 1), d);
    const xt = loadUpTo4(xTerm, i, rows);
    let j = 0;
    for (; j + 2 <= k; j += 2) {
      dotPair(r0, r1, r2, r3, rowAddress(packed, j, d), rowAddress(packed, j + 1, d), d);
      storeColumn(out, i, k, j, finish(blockDot0, xt, load<f32>(f32Address(cTerm, j)), metric), rows);
      storeColumn(out, i, k, j + 1, finish(blockDot1, xt, load<f32>(f32Address(cTerm, j + 1)), metric), rows);
    }
    if (j < k) {
      dotSingle(r0, r1, r2, r3, rowAddress(packed, j, d), d);
      storeColumn(out, i, k, j, finish(blockDot0, xt, load<f32>(f32Address(cTerm, j)), metric), rows);
    }
  }
}
