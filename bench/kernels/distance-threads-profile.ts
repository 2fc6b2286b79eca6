// npx tsx bench/kernels/distance-threads-profile.ts — where threads start to pay for the distance
// kernels: the distance matrix (d = 64, k = 32) and top-k (1000 columns, k = 10) over a sweep of
// row counts, 1 thread against 2 threads split on every call, interleaved, medians of 15. "busy":
// calls back to back (the workers are still spinning from the last call); "idle": 10 ms between
// calls (the workers sleep and must be woken, as for sporadic requests).
import { DistanceKernels } from '../../kernels/distances/distances-kernels';
import { instantiateKernelModule } from '../../kernels/runtime/load-kernel-module';
import { mulberry32 } from '../../kernels/seeded-random/seeded-random';

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const pause = (ms: number): void => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

function random(length: number): Float32Array {
  const next = mulberry32(12345);
  return Float32Array.from({ length }, () => (next() - 0.5) * 8);
}

function sweep(label: string, rowsList: number[], workOf: (rows: number) => number, call: (kernels: DistanceKernels, rows: number) => void): void {
  const one = new DistanceKernels(instantiateKernelModule('distances'));
  const two = new DistanceKernels(undefined, { threads: 2, thresholds: { distanceFlops: 0, topKScores: 0 } });
  for (const gap of [0, 10]) {
    for (const rows of rowsList) {
      const t1: number[] = [];
      const t2: number[] = [];
      for (let r = 0; r < 17; r++) {
        for (const [kernels, times] of [[one, t1], [two, t2]] as const) {
          if (gap) pause(gap);
          const t = performance.now();
          call(kernels, rows);
          if (r > 1) times.push((performance.now() - t) * 1000);
        }
      }
      const [a, b] = [median(t1), median(t2)];
      console.log(`${label} ${gap ? 'idle' : 'busy'} rows ${rows} work ${workOf(rows).toExponential(2)}: 1 thread ${a.toFixed(0)} µs, 2 threads ${b.toFixed(0)} µs, speed-up ${(a / b).toFixed(2)}`);
    }
  }
}

const d = 64;
const k = 32;
const x = random(8192 * d);
const c = random(k * d);
sweep('matrix', [4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096], (n) => 3 * n * k * d, (kernels, n) => kernels.distanceMatrix(x.subarray(0, n * d), c, d, 'squared-l2'));
const cols = 1000;
const scores = random(4096 * cols);
sweep('top-k', [2, 4, 8, 16, 32, 64, 128, 512, 2048], (n) => n * cols, (kernels, n) => kernels.topK(scores.subarray(0, n * cols), cols, 10));
process.exit(0);
