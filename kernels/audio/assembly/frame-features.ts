import { f32At, horizontalSum } from './offsets';

/**
 * Per-frame mean square and zero-crossing rate of `frames` frames of `frameLength` samples,
 * frame f starting at src[f * hop]. The SIMD lanes are laid out from each frame's first sample,
 * so a frame's figures do not depend on where the frame sits in memory (streaming detectors
 * get bit-identical results for any chunking).
 * Zero crossings count adjacent pairs inside the frame whose sign bits differ (x < 0 versus
 * x >= 0; NaN and -0 count as non-negative); the rate is that count over frameLength - 1.
 */
export function frameFeatures(src: usize, frames: i32, frameLength: i32, hop: i32, meanSquare: usize, zeroCrossingRate: usize): void {
  const zero = f32x4.splat(0);
  const invLength: f32 = 1.0 / <f32>frameLength;
  // One f64 division per frame, rounded once to f32: the same value as the TypeScript reference
  // (a precomputed f32 reciprocal was off in the last digit, e.g. 0.42857146 vs 0.42857143).
  const pairs: f64 = <f64>(frameLength - 1);
  for (let f = 0; f < frames; f++) {
    const start = f32At(src, f * hop);
    let acc = f32x4.splat(0);
    let i = 0;
    for (; i + 4 <= frameLength; i += 4) {
      const x = v128.load(f32At(start, i));
      acc = f32x4.add(acc, f32x4.mul(x, x));
    }
    let sum = horizontalSum(acc);
    for (; i < frameLength; i++) {
      const x = load<f32>(f32At(start, i));
      sum += x * x;
    }
    store<f32>(f32At(meanSquare, f), sum * invLength);

    // Pair i is (x[i], x[i+1]); lt() gives all-ones lanes, so subtracting the xor counts crossings.
    let counts = i32x4.splat(0);
    let p = 0;
    for (; p + 5 <= frameLength; p += 4) {
      const a = f32x4.lt(v128.load(f32At(start, p)), zero);
      const b = f32x4.lt(v128.load(f32At(start, p + 1)), zero);
      counts = i32x4.sub(counts, v128.xor(a, b));
    }
    let crossings = i32x4.extract_lane(counts, 0) + i32x4.extract_lane(counts, 1) + i32x4.extract_lane(counts, 2) + i32x4.extract_lane(counts, 3);
    for (; p + 1 < frameLength; p++) {
      if ((load<f32>(f32At(start, p)) < 0) != (load<f32>(f32At(start, p + 1)) < 0)) crossings++;
    }
    store<f32>(f32At(zeroCrossingRate, f), frameLength > 1 ? <f32>(<f64>crossings / pairs) : 0);
  }
}
