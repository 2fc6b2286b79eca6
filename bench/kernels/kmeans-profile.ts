// npx tsx bench/kernels/kmeans-profile.ts [balanced|irregular|wide ...] — focused k-means timing:
// ours (whole fit and Lloyd loop per iteration, 1 and 2 threads) against scikit-learn lloyd in the
// same run, medians of 5 fits; for profiling the Lloyd step without the whole kernels bench.
import { fitKMeans, kmeansPlusPlusInit } from '../../kernels/kmeans/kmeans-kernels';
import { balancedDataset, irregularDataset, wideDataset, type BenchDataset } from './kernel-datasets';
import { runSklearnKMeans } from './sklearn-kmeans-anchor';

const ITERATIONS = 20;
const pick: Record<string, () => BenchDataset> = { balanced: balancedDataset, irregular: irregularDataset, wide: wideDataset };
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

for (const name of process.argv.slice(2).length ? process.argv.slice(2) : ['balanced', 'irregular', 'wide']) {
  const ds = pick[name]!();
  const { n, d, k, x } = ds;
  const init = kmeansPlusPlusInit(x, d, k, 7);
  const sk = runSklearnKMeans(x, n, d, init, ITERATIONS, [1, 2], 5);
  for (const threads of [1, 2]) {
    const whole: number[] = [];
    const loop: number[] = [];
    let iterations = 0;
    let inertia = 0;
    for (let r = 0; r < 6; r++) {
      const t = performance.now();
      const res = fitKMeans(x, d, { k, init, maxIterations: ITERATIONS, tolerance: 0, threads });
      if (r === 0) continue;
      whole.push((performance.now() - t) / res.iterations);
      loop.push(res.lloydMs / res.iterations);
      iterations = res.iterations;
      inertia = res.inertia;
    }
    const run = sk.runs.find((s) => s.threads === threads)!;
    const skPer = run.ms / run.n_iter;
    console.log(
      `${ds.name} ${threads}t: ours ${median(whole).toFixed(2)} ms/iter (loop ${median(loop).toFixed(2)}, ${iterations} iter), ` +
        `sklearn ${skPer.toFixed(2)} ms/iter (${run.n_iter} iter) → ratio ${(median(whole) / skPer).toFixed(2)}; ` +
        `inertia rel diff ${(Math.abs(inertia - run.inertia) / run.inertia).toExponential(1)}`,
    );
  }
}
