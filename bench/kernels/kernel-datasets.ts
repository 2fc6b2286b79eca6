import { mulberry32 } from '../../kernels/seeded-random/seeded-random';

/** A generated data set: n rows of d floats drawn around k centers. */
export interface BenchDataset {
  readonly name: string;
  readonly n: number;
  readonly d: number;
  readonly k: number;
  readonly x: Float32Array;
}

function gaussian(random: () => number): () => number {
  return function nextGaussian(): number {
    const u = 1 - random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  };
}

/** Rows around k centers (uniform in [-1.5, 1.5]^d: blobs overlap, so Lloyd runs its 20 iterations), `sizes[i]` rows with spread `spreads[i]` for center i, shuffled. */
function blobs(name: string, d: number, sizes: readonly number[], spreads: readonly number[], seed: number): BenchDataset {
  const random = mulberry32(seed);
  const normal = gaussian(random);
  const k = sizes.length;
  const n = sizes.reduce((a, b) => a + b, 0);
  const centers = Float32Array.from({ length: k * d }, () => random() * 3 - 1.5);
  const owner = new Int32Array(n);
  let at = 0;
  sizes.forEach((size, c) => owner.fill(c, at, (at += size)));
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [owner[i], owner[j]] = [owner[j]!, owner[i]!];
  }
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = owner[i]!;
    for (let j = 0; j < d; j++) x[i * d + j] = centers[c * d + j]! + spreads[c]! * normal();
  }
  return { name, n, d, k, x };
}

/** balanced: N=100,000, D=64, K=32 equal blobs (spread 1). */
export function balancedDataset(): BenchDataset {
  return blobs('balanced-100k-64-32', 64, Array(32).fill(100_000 / 32), Array(32).fill(1), 1);
}

/** irregular: same N, D, K; cluster sizes ∝ 1/i^1.5, spreads 0.2 to 3.0. */
export function irregularDataset(): BenchDataset {
  const weights = Array.from({ length: 32 }, (_, i) => 1 / (i + 1) ** 1.5);
  const total = weights.reduce((a, b) => a + b, 0);
  const sizes = weights.map((w) => Math.max(1, Math.floor((w / total) * 100_000)));
  sizes[0]! += 100_000 - sizes.reduce((a, b) => a + b, 0);
  const spreads = Array.from({ length: 32 }, (_, i) => 0.2 + (2.8 * i) / 31);
  return blobs('irregular-100k-64-32', 64, sizes, spreads, 2);
}

/** wide: N=20,000, D=768, K=100 equal blobs. */
export function wideDataset(): BenchDataset {
  return blobs('wide-20k-768-100', 768, Array(100).fill(200), Array(100).fill(1), 3);
}
