// acc + a·b on 4 f32 lanes, the one operation the dot-product microkernels are made of. The
// relaxed-SIMD build (kernels/build/<family>[.threads].relaxed.wasm, `--enable relaxed-simd`)
// uses f32x4.relaxed_madd, which V8 turns into one fused multiply-add where the CPU has FMA
// (twice the arithmetic per cycle of a separate mul and add); the plain build keeps mul + add.
// relaxed_madd may or may not round once (implementation-defined), so the two builds can differ
// in the last bits; each is deterministic on a given machine. ASC_FEATURE_RELAXED_SIMD is a
// compile-time constant: the plain build never sees the relaxed instruction.

/** acc + a·b, lane-wise (fused in the relaxed-SIMD build where the engine fuses). */
// @ts-ignore: decorator
@inline export function multiplyAdd(a: v128, b: v128, acc: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(acc, f32x4.mul(a, b));
}
