/**
 * A seeded PRNG (sfc32, 32-bit state words): the same seed gives the same sequence on every
 * platform, because it uses only 32-bit integer arithmetic. Returns floats in [0, 1).
 *
 * @example
 * const random = createSeededRandom(42);
 * const weight = (random() * 2 - 1) * limit;
 */
export function createSeededRandom(seed: number): () => number {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`createSeededRandom: seed ${seed} must be a uint32`);
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = (): number => {
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
