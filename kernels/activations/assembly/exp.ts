// exp(x) for x <= 0 (softmax arguments after max subtraction), Cephes-style: x = n ln2 + r,
// |r| <= ln2/2, a degree-6 polynomial for e^r, 2^n built in the exponent bits. Relative error
// about 2 ulp. Below -87 the result is 0 (2^n would be subnormal); NaN stays NaN.
const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const P0: f32 = 1.9875691500e-4;
const P1: f32 = 1.3981999507e-3;
const P2: f32 = 8.3334519073e-3;
const P3: f32 = 4.1665795894e-2;
const P4: f32 = 1.6666665459e-1;
const P5: f32 = 5.0000001201e-1;
const UNDERFLOW: f32 = -87.0;

/** e^x on four lanes, for lanes <= 0 or NaN. */
@inline export function expNonPositiveX4(x: v128): v128 {
  const fx = f32x4.nearest(f32x4.mul(x, f32x4.splat(LOG2E)));
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(fx, f32x4.splat(LN2_HI))), f32x4.mul(fx, f32x4.splat(LN2_LO)));
  let p = f32x4.splat(P0);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P4));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P5));
  const y = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1));
  const pow2n = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(fx), i32x4.splat(127)), 23);
  const result = f32x4.mul(y, pow2n);
  return v128.andnot(result, f32x4.lt(x, f32x4.splat(UNDERFLOW)));
}

/** The same approximation on one value (scalar tails use it so results do not depend on position). */
@inline export function expNonPositive(x: f32): f32 {
  if (x < UNDERFLOW) return 0;
  const fx = nearest<f32>(x * LOG2E);
  const r = x - fx * LN2_HI - fx * LN2_LO;
  let p = P0;
  p = p * r + P1;
  p = p * r + P2;
  p = p * r + P3;
  p = p * r + P4;
  p = p * r + P5;
  const y = p * r * r + r + 1;
  const n = fx == fx ? <i32>fx : 0;
  return y * reinterpret<f32>((n + 127) << 23);
}
