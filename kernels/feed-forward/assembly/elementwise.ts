import { expNonPositiveX4 } from '../../activations/assembly/exp';
import { f32At } from './offsets';

// Element-wise steps of a feed-forward plan, in place or not (dst may equal src).
// Binary kinds: 0 add, 1 sub, 2 mul, 3 div. Unary kinds: 1 relu, 2 sigmoid, 3 tanh.
// NaN stays NaN in every kind (relu as onnxruntime's: max(x, 0) with NaN propagated).

export const ADD: i32 = 0;
export const SUB: i32 = 1;
export const MUL: i32 = 2;
export const DIV: i32 = 3;
export const RELU: i32 = 1;
export const SIGMOID: i32 = 2;
export const TANH: i32 = 3;

/** Below this |x| tanh takes its odd Taylor polynomial: (1 - e^-2|x|)/(1 + e^-2|x|) would cancel. */
const TANH_SERIES_LIMIT: f32 = 0.3;

// @ts-ignore: decorator
@inline function binary4(kind: i32, a: v128, b: v128): v128 {
  if (kind == ADD) return f32x4.add(a, b);
  if (kind == SUB) return f32x4.sub(a, b);
  if (kind == MUL) return f32x4.mul(a, b);
  return f32x4.div(a, b);
}

// @ts-ignore: decorator
@inline function binary1(kind: i32, a: f32, b: f32): f32 {
  if (kind == ADD) return a + b;
  if (kind == SUB) return a - b;
  if (kind == MUL) return a * b;
  return a / b;
}

/**
 * dst[r, i] = x[r, i] ∘ c[i] (or c[i] ∘ x[r, i] when constFirst) for `rows` rows of n values,
 * with c of n values, or of 1 value (cLength 1) broadcast to all.
 */
export function binaryWithConstant(kind: i32, x: usize, rows: i32, n: i32, c: usize, cLength: i32, constFirst: bool, dst: usize): void {
  const n4 = cLength == 1 ? 0 : n & ~3;
  const scalar = f32x4.splat(load<f32>(c));
  for (let r = 0; r < rows; r++) {
    const row = f32At(x, r * n);
    const out = f32At(dst, r * n);
    if (cLength == 1) {
      let i = 0;
      for (; i + 4 <= n; i += 4) {
        const v = v128.load(f32At(row, i));
        v128.store(f32At(out, i), constFirst ? binary4(kind, scalar, v) : binary4(kind, v, scalar));
      }
      const s = load<f32>(c);
      for (; i < n; i++) {
        const v = load<f32>(f32At(row, i));
        store<f32>(f32At(out, i), constFirst ? binary1(kind, s, v) : binary1(kind, v, s));
      }
      continue;
    }
    for (let i = 0; i < n4; i += 4) {
      const v = v128.load(f32At(row, i));
      const w = v128.load(f32At(c, i));
      v128.store(f32At(out, i), constFirst ? binary4(kind, w, v) : binary4(kind, v, w));
    }
    for (let i = n4; i < n; i++) {
      const v = load<f32>(f32At(row, i));
      const w = load<f32>(f32At(c, i));
      store<f32>(f32At(out, i), constFirst ? binary1(kind, w, v) : binary1(kind, v, w));
    }
  }
}

/** dst[i] = a[i] ∘ b[i] for `length` values (two computed tensors of one shape). */
export function binarySameShape(kind: i32, a: usize, b: usize, length: i32, dst: usize): void {
  let i = 0;
  for (; i + 4 <= length; i += 4) v128.store(f32At(dst, i), binary4(kind, v128.load(f32At(a, i)), v128.load(f32At(b, i))));
  for (; i < length; i++) store<f32>(f32At(dst, i), binary1(kind, load<f32>(f32At(a, i)), load<f32>(f32At(b, i))));
}

/** max(x, 0), NaN kept: x where x > 0 or x is NaN. */
// @ts-ignore: decorator
@inline function relu4(x: v128): v128 {
  return v128.and(x, v128.or(f32x4.gt(x, f32x4.splat(0)), f32x4.ne(x, x)));
}

/** 1 / (1 + e^-x) from e^-|x| (never overflows): e / (1 + e) for x < 0. */
// @ts-ignore: decorator
@inline function sigmoid4(x: v128): v128 {
  const e = expNonPositiveX4(f32x4.neg(f32x4.abs(x)));
  const one = f32x4.splat(1);
  const denominator = f32x4.add(one, e);
  return v128.bitselect(f32x4.div(e, denominator), f32x4.div(one, denominator), f32x4.lt(x, f32x4.splat(0)));
}

// @ts-ignore: decorator
@inline function tanhSeries4(x: v128): v128 {
  const x2 = f32x4.mul(x, x);
  // x - x³/3 + 2x⁵/15 - 17x⁷/315 + 62x⁹/2835 (next term < 2e-8 · |x| below the limit).
  let p = f32x4.splat(<f32>(62.0 / 2835.0));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(<f32>(-17.0 / 315.0)));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(<f32>(2.0 / 15.0)));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(<f32>(-1.0 / 3.0)));
  return f32x4.add(x, f32x4.mul(f32x4.mul(p, x2), x));
}

// @ts-ignore: decorator
@inline function tanh4(x: v128): v128 {
  const a = f32x4.abs(x);
  const t = expNonPositiveX4(f32x4.mul(a, f32x4.splat(-2)));
  const one = f32x4.splat(1);
  const magnitude = f32x4.div(f32x4.sub(one, t), f32x4.add(one, t));
  // The sign of x back on the magnitude; NaN lanes stay NaN (expNonPositive keeps NaN).
  const signed = v128.or(magnitude, v128.and(x, i32x4.splat(<i32>0x80000000)));
  return v128.bitselect(tanhSeries4(x), signed, f32x4.lt(a, f32x4.splat(TANH_SERIES_LIMIT)));
}

// @ts-ignore: decorator
@inline function unary4(kind: i32, x: v128): v128 {
  if (kind == RELU) return relu4(x);
  if (kind == SIGMOID) return sigmoid4(x);
  return tanh4(x);
}

/** Four lanes from `count` (1..3) values at p, the rest 0. */
// @ts-ignore: decorator
@inline function loadPartial(p: usize, count: i32): v128 {
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (count > 1) v = f32x4.replace_lane(v, 1, load<f32>(f32At(p, 1)));
  if (count > 2) v = f32x4.replace_lane(v, 2, load<f32>(f32At(p, 2)));
  return v;
}

/**
 * dst[i] = f(x[i]) for `length` values, f one of relu, sigmoid, tanh (kind). The tail goes through
 * the same vector code on a partial vector, so a value's result does not depend on its position.
 */
export function unaryActivation(kind: i32, x: usize, length: i32, dst: usize): void {
  let i = 0;
  for (; i + 4 <= length; i += 4) v128.store(f32At(dst, i), unary4(kind, v128.load(f32At(x, i))));
  const rest = length - i;
  if (rest > 0) {
    const v = unary4(kind, loadPartial(f32At(x, i), rest));
    store<f32>(f32At(dst, i), f32x4.extract_lane(v, 0));
    if (rest > 1) store<f32>(f32At(dst, i + 1), f32x4.extract_lane(v, 1));
    if (rest > 2) store<f32>(f32At(dst, i + 2), f32x4.extract_lane(v, 2));
  }
}
