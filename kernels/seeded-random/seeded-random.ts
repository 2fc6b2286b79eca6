/**
 * The seeded pseudo-random generators of this repository, in one place. Both use only 32-bit
 * integer arithmetic, so a seed gives the same sequence on every machine and engine.
 *
 * Two algorithms, because what they made is pinned: `mulberry32` draws the k-means++ initial
 * centroids (the `iris-kmeans` centroids in the models layer), test data and benchmark inputs;
 * `sfc32` draws the weights of the generated models (`iris-classifier`, the benchmark MLPs).
 * The models layer's files are checked against the sha256 in its manifest, so changing either
 * generator changes those models: use these, and write no other.
 */

/**
 * mulberry32: one 32-bit state word. Returns a function giving floats in [0, 1).
 * @example
 * const random = mulberry32(7);
 * const noise = Float32Array.from({ length: n }, () => random() * 2 - 1);
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return function nextMulberry32(): number {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * sfc32 (small fast counting generator): four 32-bit state words, the seed in the last.
 * Returns a function giving floats in [0, 1). Throws unless `seed` is a uint32.
 * @example
 * const random = sfc32(42);
 * const weight = (random() * 2 - 1) * limit;
 */
export function sfc32(seed: number): () => number {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`sfc32: seed ${seed} must be a uint32`);
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = function nextSfc32(): number {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    const t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    const out = (t + d) | 0;
    c = (c + out) | 0;
    return (out >>> 0) / 4294967296;
  };
  // Discard the first outputs: sfc32 mixes a fresh seed in about a dozen steps.
  for (let i = 0; i < 15; i++) next();
  return next;
}
