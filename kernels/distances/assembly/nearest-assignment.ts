import { rowAddress, f32Address, i32Address } from './vector-offsets';
import { blockDot0, blockDot1, dotPair, dotSingle } from './dot-blocks';

/**
 * For each of n rows of x: labels[i] = argmin_j ‖x_i − c_j‖² (lowest j on ties, -1 when every
 * distance is NaN) and minDist[i] = that squared distance, never materializing the n × k
 * matrix. `packed`: centroids laid out by packCentroids; `cNorms` the k centroid norms; `xNorms`
 * the n row norms. `scratch` holds 32 bytes per thread (the running minimum of a 4-row block).
 * Blocked 4 rows × 2 centroids (dot-blocks.ts); a short last block repeats its last row.
 */
export function assignNearest(
  x: usize, n: i32, d: i32, packed: usize, k: i32, xNorms: usize, cNorms: usize, labels: usize, minDist: usize, scratch: usize,
): void {
  for (let i = 0; i < n; i += 4) {
    const rows = min(4, n - i);
    const r0 = rowAddress(x, i, d);
    const r1 = rowAddress(x, i + min(1, rows - 1), d);
    const r2 = rowAddress(x, i + min(2, rows - 1), d);
    const r3 = rowAddress(x, i + min(3, rows - 1), d);
    // Lane r: row r's smallest ‖c‖² − 2x·c so far and its centroid; strict < keeps the lower
    // index on ties and never picks NaN.
    let best = f32x4.splat(Infinity);
    let bestI = i32x4.splat(-1);
    let j = 0;
    for (; j + 2 <= k; j += 2) {
      dotPair(r0, r1, r2, r3, rowAddress(packed, j, d), rowAddress(packed, j + 1, d), d);
      const d0 = f32x4.sub(f32x4.splat(load<f32>(f32Address(cNorms, j))), f32x4.add(blockDot0, blockDot0));
      const d1 = f32x4.sub(f32x4.splat(load<f32>(f32Address(cNorms, j + 1))), f32x4.add(blockDot1, blockDot1));
      let m = f32x4.lt(d0, best);
      best = v128.bitselect(d0, best, m);
      bestI = v128.bitselect(i32x4.splat(j), bestI, m);
      m = f32x4.lt(d1, best);
      best = v128.bitselect(d1, best, m);
      bestI = v128.bitselect(i32x4.splat(j + 1), bestI, m);
    }
    if (j < k) {
      dotSingle(r0, r1, r2, r3, rowAddress(packed, j, d), d);
      const d0 = f32x4.sub(f32x4.splat(load<f32>(f32Address(cNorms, j))), f32x4.add(blockDot0, blockDot0));
      const m = f32x4.lt(d0, best);
      best = v128.bitselect(d0, best, m);
      bestI = v128.bitselect(i32x4.splat(j), bestI, m);
    }
    v128.store(scratch, best);
    v128.store(scratch, bestI, 16);
    for (let r = 0; r < rows; r++) {
      const idx = load<i32>(scratch + 16 + (<usize>r << 2));
      const v = load<f32>(scratch + (<usize>r << 2));
      store<i32>(i32Address(labels, i + r), idx);
      // No finite candidate (a NaN row): label -1, distance NaN.
      store<f32>(f32Address(minDist, i + r), idx < 0 ? NaN : max<f32>(v + load<f32>(f32Address(xNorms, i + r)), 0));
    }
  }
}
