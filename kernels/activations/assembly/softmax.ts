import { f32At, i32At } from './offsets';
import { expNonPositive, expNonPositiveX4 } from './exp';

/** Max of `n` floats at `row` (n >= 1); NaN if any element is NaN (wasm max propagates NaN). */
@inline function rowMax(row: usize, n: i32): f32 {
  let i = 0;
  let m: f32 = load<f32>(row);
  if (n >= 4) {
    let acc = v128.load(row);
    for (i = 4; i + 4 <= n; i += 4) acc = f32x4.max(acc, v128.load(f32At(row, i)));
    m = max<f32>(max<f32>(f32x4.extract_lane(acc, 0), f32x4.extract_lane(acc, 1)), max<f32>(f32x4.extract_lane(acc, 2), f32x4.extract_lane(acc, 3)));
  }
  for (; i < n; i++) m = max<f32>(m, load<f32>(f32At(row, i)));
  return m;
}

/** sum_i exp(row[i] - m); when `out` is non-zero also stores each exp there. */
@inline function sumExp(row: usize, n: i32, m: f32, out: usize, storeExp: bool): f32 {
  const mv = f32x4.splat(m);
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const e = expNonPositiveX4(f32x4.sub(v128.load(f32At(row, i)), mv));
    if (storeExp) v128.store(f32At(out, i), e);
    acc = f32x4.add(acc, e);
  }
  let sum = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
  for (; i < n; i++) {
    const e = expNonPositive(load<f32>(f32At(row, i)) - m);
    if (storeExp) store<f32>(f32At(out, i), e);
    sum += e;
  }
  return sum;
}

/** Softmax of each of `rows` rows of `cols` floats (max-subtracted). cols >= 1. */
export function softmaxRows(src: usize, rows: i32, cols: i32, dst: usize): void {
  for (let r = 0; r < rows; r++) {
    const row = f32At(src, r * cols);
    const out = f32At(dst, r * cols);
    const m = rowMax(row, cols);
    const inv: f32 = <f32>1 / sumExp(row, cols, m, out, true);
    const iv = f32x4.splat(inv);
    let i = 0;
    for (; i + 4 <= cols; i += 4) v128.store(f32At(out, i), f32x4.mul(v128.load(f32At(out, i)), iv));
    for (; i < cols; i++) store<f32>(f32At(out, i), load<f32>(f32At(out, i)) * inv);
  }
}

/** Log-softmax of each row: x - max - ln(sum exp(x - max)). cols >= 1. */
export function logSoftmaxRows(src: usize, rows: i32, cols: i32, dst: usize): void {
  for (let r = 0; r < rows; r++) {
    const row = f32At(src, r * cols);
    const out = f32At(dst, r * cols);
    const m = rowMax(row, cols);
    // (x - m) - ln(s), never x - (m + ln s): with a large m, m + ln s would round ln s away.
    const logSum = Mathf.log(sumExp(row, cols, m, 0, false));
    const mv = f32x4.splat(m);
    const lv = f32x4.splat(logSum);
    let i = 0;
    for (; i + 4 <= cols; i += 4) v128.store(f32At(out, i), f32x4.sub(f32x4.sub(v128.load(f32At(row, i)), mv), lv));
    for (; i < cols; i++) store<f32>(f32At(out, i), load<f32>(f32At(row, i)) - m - logSum);
  }
}

/** Index of the largest element of each row (first one on ties; first NaN when the row has a NaN). cols >= 1. */
export function argmaxRows(src: usize, rows: i32, cols: i32, dst: usize): void {
  for (let r = 0; r < rows; r++) {
    const row = f32At(src, r * cols);
    const m = rowMax(row, cols);
    let found = 0;
    if (m != m) {
      while (load<f32>(f32At(row, found)) == load<f32>(f32At(row, found))) found++;
    } else {
      const mv = f32x4.splat(m);
      let i = 0;
      while (i + 4 <= cols && !v128.any_true(f32x4.eq(v128.load(f32At(row, i)), mv))) i += 4;
      while (load<f32>(f32At(row, i)) != m) i++;
      found = i;
    }
    store<i32>(i32At(dst, r), found);
  }
}
