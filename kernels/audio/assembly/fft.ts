import { f32At, i32At } from './offsets';

// A real FFT of n = 2m points as a complex FFT of m points (even samples as real parts, odd as
// imaginary) plus a split step. The plan is one block of 7 arrays of m elements each:
//   bit-reversal permutation (int32), per-stage twiddles (re, im; stage h at [h-1, 2h-1)),
//   split twiddles e^{-2*pi*i*k/n} (re, im), complex work buffer (re, im).

/** Bytes a plan for m complex points (n = 2m real points) occupies. */
export function rfftPlanBytes(m: i32): i32 {
  return 7 * 4 * m;
}
@inline function planBitReverse(plan: usize, m: i32): usize { return plan; }
@inline function planStageRe(plan: usize, m: i32): usize { return plan + 4 * <usize>m; }
@inline function planStageIm(plan: usize, m: i32): usize { return plan + 8 * <usize>m; }
@inline function planSplitRe(plan: usize, m: i32): usize { return plan + 12 * <usize>m; }
@inline function planSplitIm(plan: usize, m: i32): usize { return plan + 16 * <usize>m; }
@inline function planWorkRe(plan: usize, m: i32): usize { return plan + 20 * <usize>m; }
@inline function planWorkIm(plan: usize, m: i32): usize { return plan + 24 * <usize>m; }

/** Fills the plan's tables for m complex points (m a power of two, m >= 1). */
export function rfftPlanInit(plan: usize, m: i32): void {
  let bits = 0;
  while ((1 << bits) < m) bits++;
  for (let k = 0; k < m; k++) {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((k >> b) & 1) << (bits - 1 - b);
    store<i32>(i32At(planBitReverse(plan, m), k), r);
  }
  for (let h = 1; h < m; h <<= 1) {
    for (let j = 0; j < h; j++) {
      const angle = -Math.PI * <f64>j / <f64>h;
      store<f32>(f32At(planStageRe(plan, m), h - 1 + j), <f32>Math.cos(angle));
      store<f32>(f32At(planStageIm(plan, m), h - 1 + j), <f32>Math.sin(angle));
    }
  }
  for (let k = 0; k < m; k++) {
    const angle = -Math.PI * <f64>k / <f64>m;
    store<f32>(f32At(planSplitRe(plan, m), k), <f32>Math.cos(angle));
    store<f32>(f32At(planSplitIm(plan, m), k), <f32>Math.sin(angle));
  }
}

/** Loads the n = 2m real samples at `src` into the work buffer in bit-reversed order and runs the complex FFT in place. */
function complexFftOfPacked(plan: usize, m: i32, src: usize): void {
  const re = planWorkRe(plan, m);
  const im = planWorkIm(plan, m);
  const rev = planBitReverse(plan, m);
  for (let k = 0; k < m; k++) {
    const r = load<i32>(i32At(rev, k));
    store<f32>(f32At(re, r), load<f32>(f32At(src, 2 * k)));
    store<f32>(f32At(im, r), load<f32>(f32At(src, 2 * k + 1)));
  }
  if (m >= 2) {
    for (let i = 0; i < m; i += 2) {
      const ar = load<f32>(f32At(re, i)), ai = load<f32>(f32At(im, i));
      const br = load<f32>(f32At(re, i + 1)), bi = load<f32>(f32At(im, i + 1));
      store<f32>(f32At(re, i), ar + br); store<f32>(f32At(im, i), ai + bi);
      store<f32>(f32At(re, i + 1), ar - br); store<f32>(f32At(im, i + 1), ai - bi);
    }
  }
  if (m >= 4) {
    // Stage h = 2: twiddles 1 and -i.
    for (let s = 0; s < m; s += 4) {
      const ar = load<f32>(f32At(re, s)), ai = load<f32>(f32At(im, s));
      const br = load<f32>(f32At(re, s + 2)), bi = load<f32>(f32At(im, s + 2));
      store<f32>(f32At(re, s), ar + br); store<f32>(f32At(im, s), ai + bi);
      store<f32>(f32At(re, s + 2), ar - br); store<f32>(f32At(im, s + 2), ai - bi);
      const cr = load<f32>(f32At(re, s + 1)), ci = load<f32>(f32At(im, s + 1));
      const dr = load<f32>(f32At(im, s + 3)), di = -load<f32>(f32At(re, s + 3));
      store<f32>(f32At(re, s + 1), cr + dr); store<f32>(f32At(im, s + 1), ci + di);
      store<f32>(f32At(re, s + 3), cr - dr); store<f32>(f32At(im, s + 3), ci - di);
    }
  }
  const stageRe = planStageRe(plan, m);
  const stageIm = planStageIm(plan, m);
  for (let h = 4; h < m; h <<= 1) {
    for (let s = 0; s < m; s += 2 * h) {
      for (let j = 0; j < h; j += 4) {
        const wr = v128.load(f32At(stageRe, h - 1 + j));
        const wi = v128.load(f32At(stageIm, h - 1 + j));
        const a = s + j;
        const b = a + h;
        const br = v128.load(f32At(re, b)), bi = v128.load(f32At(im, b));
        const tr = f32x4.sub(f32x4.mul(br, wr), f32x4.mul(bi, wi));
        const ti = f32x4.add(f32x4.mul(br, wi), f32x4.mul(bi, wr));
        const ar = v128.load(f32At(re, a)), ai = v128.load(f32At(im, a));
        v128.store(f32At(re, b), f32x4.sub(ar, tr)); v128.store(f32At(im, b), f32x4.sub(ai, ti));
        v128.store(f32At(re, a), f32x4.add(ar, tr)); v128.store(f32At(im, a), f32x4.add(ai, ti));
      }
    }
  }
}

/**
 * Split step: bins k = 1..m-1 of the real FFT from the packed complex FFT Z:
 * X[k] = (Z[k] + conj Z[m-k]) / 2 + W^k (Z[k] - conj Z[m-k]) / (2i), written as complex bins or as
 * power (inlined, so `power` is a constant), SIMD over k with a reversed load of Z[m-k].
 */
@inline function splitBins(plan: usize, m: i32, outRe: usize, outIm: usize, power: bool): void {
  const re = planWorkRe(plan, m);
  const im = planWorkIm(plan, m);
  const wRe = planSplitRe(plan, m);
  const wIm = planSplitIm(plan, m);
  const half = f32x4.splat(0.5);
  let k = 1;
  for (; k <= m - 4; k += 4) {
    const zr = v128.load(f32At(re, k)), zi = v128.load(f32At(im, k));
    // Z[m-k-3 .. m-k] reversed gives lanes Z[m-k], Z[m-k-1], Z[m-k-2], Z[m-k-3].
    const cr = v128.shuffle<f32>(v128.load(f32At(re, m - k - 3)), f32x4.splat(0), 3, 2, 1, 0);
    const ci = f32x4.neg(v128.shuffle<f32>(v128.load(f32At(im, m - k - 3)), f32x4.splat(0), 3, 2, 1, 0));
    const er = f32x4.mul(f32x4.add(zr, cr), half), ei = f32x4.mul(f32x4.add(zi, ci), half);
    const or = f32x4.mul(f32x4.sub(zi, ci), half), oi = f32x4.mul(f32x4.sub(cr, zr), half);
    const wr = v128.load(f32At(wRe, k)), wi = v128.load(f32At(wIm, k));
    const xr = f32x4.add(er, f32x4.sub(f32x4.mul(wr, or), f32x4.mul(wi, oi)));
    const xi = f32x4.add(ei, f32x4.add(f32x4.mul(wr, oi), f32x4.mul(wi, or)));
    if (power) {
      v128.store(f32At(outRe, k), f32x4.add(f32x4.mul(xr, xr), f32x4.mul(xi, xi)));
    } else {
      v128.store(f32At(outRe, k), xr);
      v128.store(f32At(outIm, k), xi);
    }
  }
  for (; k < m; k++) {
    const zr = load<f32>(f32At(re, k)), zi = load<f32>(f32At(im, k));
    const cr = load<f32>(f32At(re, m - k)), ci = -load<f32>(f32At(im, m - k));
    const er = (zr + cr) * 0.5, ei = (zi + ci) * 0.5;
    const or = (zi - ci) * 0.5, oi = (cr - zr) * 0.5;
    const wr = load<f32>(f32At(wRe, k)), wi = load<f32>(f32At(wIm, k));
    const xr = er + (wr * or - wi * oi);
    const xi = ei + (wr * oi + wi * or);
    if (power) {
      store<f32>(f32At(outRe, k), xr * xr + xi * xi);
    } else {
      store<f32>(f32At(outRe, k), xr);
      store<f32>(f32At(outIm, k), xi);
    }
  }
}

/** Real FFT of n = 2m samples at `src`: m + 1 bins (DC .. Nyquist) as real parts at `outRe` and imaginary parts at `outIm`. */
export function rfft(plan: usize, m: i32, src: usize, outRe: usize, outIm: usize): void {
  complexFftOfPacked(plan, m, src);
  const z0r = load<f32>(planWorkRe(plan, m));
  const z0i = load<f32>(planWorkIm(plan, m));
  store<f32>(outRe, z0r + z0i);
  store<f32>(outIm, 0);
  store<f32>(f32At(outRe, m), z0r - z0i);
  store<f32>(f32At(outIm, m), 0);
  splitBins(plan, m, outRe, outIm, false);
}

/** Power spectrum |X[k]|^2 of the real FFT of n = 2m samples at `src`: m + 1 bins at `outPower`. */
export function rfftPower(plan: usize, m: i32, src: usize, outPower: usize): void {
  complexFftOfPacked(plan, m, src);
  const z0r = load<f32>(planWorkRe(plan, m));
  const z0i = load<f32>(planWorkIm(plan, m));
  const dc = z0r + z0i;
  const nyquist = z0r - z0i;
  store<f32>(outPower, dc * dc);
  store<f32>(f32At(outPower, m), nyquist * nyquist);
  splitBins(plan, m, outPower, 0, true);
}
