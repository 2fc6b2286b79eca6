// npm run bench:kernels — kernel figures against their anchors, measured in the same run:
// distances vs onnxruntime-node's MatMul graph, k-means vs scikit-learn and ml-kmeans.
// Writes bench/results/kernels.json. Part B's cases come from ./signal-cases.ts when present.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { compareWithAnchor, writeBenchResults, type BenchResult } from '../bench-results';
import { DistanceKernels, paddedCentroidCount } from '../../kernels/distances/distances-kernels';
import { FlatNearestNeighborIndex } from '../../kernels/distances/flat-nearest-neighbor-index';
import { fitKMeans, kmeansPlusPlusInit } from '../../kernels/kmeans/kmeans-kernels';
import { createArena } from '../../kernels/runtime/wasm-arena';
import { instantiateKernelModule, kernelSimdLevel } from '../../kernels/runtime/load-kernel-module';
import { balancedDataset, irregularDataset, wideDataset, type BenchDataset } from './kernel-datasets';
import { squaredL2DistanceFeeds, squaredL2DistanceGraph } from './onnx-distance-graph';
import { distanceBenchBuffers } from './distance-bench-buffers';
import { ensureSklearn, runSklearnKMeans } from './sklearn-kmeans-anchor';
import { runSileroCases } from './silero-cases';

const log = (line: string): void => void process.stderr.write(`${line}\n`);
const ITERATIONS = 20;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timeMs(reps: number, fn: () => void): number {
  fn();
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  return median(times);
}

async function timeMsAsync(reps: number, fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return median(times);
}

async function distanceCases(ds: BenchDataset): Promise<BenchResult[]> {
  const { n, d, k, x } = ds;
  const gflop = (3 * n * k * d) / 1e9;
  // Ours: single thread, inputs already in WASM memory (zero-copy arena), output n × k written there.
  const { kernels, work, arena, centroids: c, xb, packed, out, labels, dist } = distanceBenchBuffers(ds);
  const matrixMs = timeMs(5, () => {
    work.reset();
    kernels.distanceMatrixInArena(work, xb, n, packed, out);
  });
  const assignMs = timeMs(5, () => {
    work.reset();
    kernels.assignNearestInArena(work, xb, n, packed, labels, dist);
  });
  // Anchor: onnxruntime-node (native CPU, 1 intra-op thread) running ‖x‖² − 2XCᵀ + ‖c‖².
  const session = await ort.InferenceSession.create(squaredL2DistanceGraph(), { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
  const feeds = squaredL2DistanceFeeds(ort, x, n, d, c, k);
  const ortResult = (await session.run(feeds)).DIST!.data as Float32Array;
  let maxErr = 0;
  for (let i = 0; i < Math.min(n, 1000) * k; i++) maxErr = Math.max(maxErr, Math.abs(ortResult[i]! - out.view[i]!) / (1 + Math.abs(ortResult[i]!)));
  const ortMs = await timeMsAsync(5, () => session.run(feeds));
  await session.release();
  arena.release();
  work.release();
  const anchor = `onnxruntime-node ${ort.env.versions.common} MatMul distance graph, 1 thread`;
  const ortGflops = gflop / (ortMs / 1000);
  log(`distances ${ds.name}: matrix ${matrixMs.toFixed(1)} ms, assign ${assignMs.toFixed(1)} ms, onnxruntime ${ortMs.toFixed(1)} ms (max rel diff ${maxErr.toExponential(1)})`);
  return [
    ...(await threadedMatrixCases(ds, c, feeds, matrixMs)),
    compareWithAnchor({ case: `distances/${ds.name}/squared-l2-matrix`, metric: 'gflops', value: Number((gflop / (matrixMs / 1000)).toFixed(2)), lower_is_better: false }, anchor, Number(ortGflops.toFixed(2)), 0.5),
    compareWithAnchor({ case: `distances/${ds.name}/assign-nearest-fused`, metric: 'gflops', value: Number((gflop / (assignMs / 1000)).toFixed(2)), lower_is_better: false }, anchor, Number(ortGflops.toFixed(2)), 0.5),
  ];
}

/**
 * The full squared-L2 matrix at 1 and 2 threads (ours: rows split over the distances thread pool,
 * inputs already in its shared memory) against onnxruntime-node at 1 and 2 intra-op threads, in
 * the same run. `oneThreadMs`: ours at 1 thread from distanceCases.
 */
async function threadedMatrixCases(
  ds: BenchDataset, c: Float32Array, feeds: Record<string, ort.Tensor>, oneThreadMs: number,
): Promise<BenchResult[]> {
  const { n, d, k, x } = ds;
  const gflop = (3 * n * k * d) / 1e9;
  const kernels = new DistanceKernels(undefined, { threads: 2 });
  const kp = paddedCentroidCount(k);
  const work = createArena(kernels.instance, n * 4 * 3 + 4096);
  const arena = createArena(kernels.instance, (n * d + n * k + k * d + kp * d + 2 * kp) * 4 + 4096);
  const xb = arena.f32From(x);
  const packed = kernels.packCentroids(arena, arena.f32From(c), k, d, 'squared-l2');
  const out = arena.f32(n * k);
  const sessions = new Map<number, ort.InferenceSession>();
  for (const threads of [1, 2]) {
    sessions.set(threads, await ort.InferenceSession.create(squaredL2DistanceGraph(), { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential' }));
  }
  // Each side back to back (median of 5 after a warm-up, as the 1-thread cases): between calls our
  // workers spin 3 ms and then sleep; a call that finds them asleep pays the wake-up (BENCHMARKS.md).
  const ours2 = timeMs(5, () => {
    work.reset();
    kernels.distanceMatrixInArena(work, xb, n, packed, out);
  });
  const ort1 = await timeMsAsync(5, () => sessions.get(1)!.run(feeds));
  const ort2 = await timeMsAsync(5, () => sessions.get(2)!.run(feeds));
  for (const session of sessions.values()) await session.release();
  arena.release();
  work.release();
  const gf = (ms: number): number => Number((gflop / (ms / 1000)).toFixed(2));
  log(`distances ${ds.name} threads: ours 1t ${oneThreadMs.toFixed(1)} ms, 2t ${ours2.toFixed(1)} ms; onnxruntime 1t ${ort1.toFixed(1)} ms, 2t ${ort2.toFixed(1)} ms`);
  const anchor = (threads: number): string => `onnxruntime-node ${ort.env.versions.common} MatMul distance graph, ${threads} intra-op thread${threads > 1 ? 's' : ''}`;
  return [
    compareWithAnchor(
      { case: `distances/${ds.name}/squared-l2-matrix/1-thread-vs-ort-1-thread`, metric: 'gflops', value: gf(oneThreadMs), lower_is_better: false, note: 'ours from the 1-thread matrix case; onnxruntime timed again beside our 2-thread case' },
      anchor(1), gf(ort1), 0.5,
    ),
    compareWithAnchor(
      { case: `distances/${ds.name}/squared-l2-matrix/2-threads`, metric: 'gflops', value: gf(ours2), lower_is_better: false, note: `2 threads over shared WASM memory; speed-up over our 1 thread ${(oneThreadMs / ours2).toFixed(2)}×` },
      anchor(2), gf(ort2),
    ),
  ];
}

/**
 * Flat nearest-neighbour search, squared L2, k = 10: 1000 queries (rows of the data set after
 * the index) over an index of the first 100,000 rows (balanced: 64 dimensions), queries/s at
 * 1 and 2 threads, interleaved, medians of 5.
 */
function nearestNeighborCases(ds: BenchDataset): BenchResult[] {
  const { d, x } = ds;
  const size = Math.min(100_000, ds.n - 1000);
  const vectors = x.subarray(0, size * d);
  const queries = x.slice(size * d, (size + 1000) * d);
  const indexes = [1, 2].map((threads) => new FlatNearestNeighborIndex(vectors, d, 'squared-l2', { threads }));
  const times: number[][] = [[], []];
  for (let r = 0; r < 6; r++) {
    indexes.forEach((index, i) => {
      const t = performance.now();
      index.search(queries, 10);
      if (r > 0) times[i]!.push(performance.now() - t);
    });
  }
  for (const index of indexes) index.dispose();
  const [qps1, qps2] = times.map((t) => Math.round(1000 / (median(t) / 1000)));
  log(`nearest neighbours ${ds.name} (${size} × ${d}, 1000 queries, k 10): 1 thread ${qps1} q/s, 2 threads ${qps2} q/s`);
  return [
    { case: `nearest-neighbors/${ds.name}/1-thread`, metric: 'queries_per_second', value: qps1!, lower_is_better: false, note: `flat index of ${size} × ${d}, squared L2, k = 10, batches of 1000 queries` },
    compareWithAnchor(
      { case: `nearest-neighbors/${ds.name}/2-threads`, metric: 'queries_per_second', value: qps2!, lower_is_better: false, note: 'distances split over 2 threads; top-k on the calling thread (DEFAULT_THREAD_THRESHOLDS)' },
      'ours, 1 thread', qps1!,
    ),
  ];
}

interface KMeansFigures {
  readonly results: BenchResult[];
  readonly perIterationMs: number;
}

async function kmeansCases(ds: BenchDataset, sklearnProblem: string | undefined, mlKmeans: typeof import('ml-kmeans') | undefined): Promise<KMeansFigures> {
  const { n, d, k, x } = ds;
  const init = kmeansPlusPlusInit(x, d, k, 7);
  const results: BenchResult[] = [];
  const ours = new Map<number, { perIter: number; loopPerIter: number; inertia: number; iterations: number }>();
  for (const threads of [1, 2]) {
    const runs = [0, 1, 2].map(() => {
      const t = performance.now();
      const r = fitKMeans(x, d, { k, init, maxIterations: ITERATIONS, tolerance: 0, threads });
      return { total: performance.now() - t, r };
    });
    const best = runs.sort((a, b) => a.total - b.total)[1]!;
    ours.set(threads, {
      perIter: best.total / best.r.iterations, loopPerIter: best.r.lloydMs / best.r.iterations, inertia: best.r.inertia, iterations: best.r.iterations,
    });
    log(`kmeans ${ds.name} ${threads}t: ${(best.total / best.r.iterations).toFixed(2)} ms/iter (${best.r.iterations} iter, inertia ${best.r.inertia.toFixed(1)})`);
  }
  if (sklearnProblem) {
    for (const threads of [1, 2]) {
      results.push({ case: `kmeans/${ds.name}/${threads}-thread`, metric: 'ms_per_iteration', value: Number(ours.get(threads)!.perIter.toFixed(3)), lower_is_better: true, note: `scikit-learn anchor skipped: ${sklearnProblem}` });
    }
  } else {
    const sk = runSklearnKMeans(x, n, d, init, ITERATIONS, [1, 2], 3);
    for (const run of sk.runs) {
      const mine = ours.get(run.threads)!;
      const skPerIter = run.ms / run.n_iter;
      const anchor = `scikit-learn ${sk.version} KMeans(lloyd), ${run.threads} thread${run.threads > 1 ? 's' : ''} (${sk.blas.join('; ')})`;
      log(`sklearn ${ds.name} ${run.threads}t: ${skPerIter.toFixed(2)} ms/iter (${run.n_iter} iter, inertia ${run.inertia.toFixed(1)})`);
      results.push(compareWithAnchor(
        {
          case: `kmeans/${ds.name}/${run.threads}-thread`, metric: 'ms_per_iteration', value: Number(mine.perIter.toFixed(3)), lower_is_better: true,
          note: `whole fit from the same init / iterations for both (ours ${mine.iterations}, scikit-learn ${run.n_iter}); our Lloyd loop alone: ${mine.loopPerIter.toFixed(3)} ms/iteration`,
        },
        anchor, Number(skPerIter.toFixed(3)), 1.0,
      ));
      const rel = Math.abs(mine.inertia - run.inertia) / run.inertia;
      results.push(compareWithAnchor(
        { case: `kmeans/${ds.name}/${run.threads}-thread/inertia`, metric: 'inertia', value: Number(mine.inertia.toFixed(2)), lower_is_better: true, note: `relative difference ${rel.toExponential(2)} (target ≤ 1e-3)` },
        anchor, Number(run.inertia.toFixed(2)), 1.001,
      ));
    }
  }
  if (mlKmeans) {
    // ml-kmeans is plain JS on number[][]. Same work as ours: the whole data set, the same init and
    // the same ITERATIONS Lloyd iterations (our later iterations are cheaper, since the bounds skip
    // most rows, so timing only its first few iterations and scaling would flatter us), after a
    // small warm-up fit so its code is optimized. Per-iteration time = whole call / iterations.
    const rows = Array.from({ length: n }, (_, i) => Array.from(x.subarray(i * d, i * d + d)));
    const centers = Array.from({ length: k }, (_, j) => Array.from(init.subarray(j * d, j * d + d)));
    mlKmeans.kmeans(rows.slice(0, 2000), k, { initialization: centers, maxIterations: 2, tolerance: 0 });
    const t = performance.now();
    const r = mlKmeans.kmeans(rows, k, { initialization: centers, maxIterations: ITERATIONS, tolerance: 0 });
    const perIter = (performance.now() - t) / Math.max(1, r.iterations);
    const mine = ours.get(1)!;
    log(`ml-kmeans ${ds.name}: ${perIter.toFixed(1)} ms/iter (${r.iterations} iterations on all ${n} rows)`);
    results.push({
      ...compareWithAnchor({ case: `kmeans/${ds.name}/vs-ml-kmeans`, metric: 'speedup', value: Number((perIter / mine.perIter).toFixed(1)), lower_is_better: false }, 'ml-kmeans 7.0.1 (speedup anchor = 1)', 1, 50),
      note: `both on all ${n} rows from the same init, whole call / iterations: ml-kmeans ${perIter.toFixed(1)} ms/iteration (${r.iterations} iterations) vs ours ${mine.perIter.toFixed(2)} (${mine.iterations} iterations, 1 thread)`,
    });
  }
  return { results, perIterationMs: ours.get(1)!.perIter };
}

async function main(): Promise<void> {
  const started = performance.now();
  const results: BenchResult[] = [];
  // `--only silero`: Silero VAD's kernels against onnxruntime-web and -node alone (bench/results/kernels-silero.json).
  if (process.argv.slice(2).join(' ').includes('--only silero')) {
    const silero = await runSileroCases();
    for (const r of silero) log(`${r.case}: ${r.value} ${r.metric}${r.anchor_value !== undefined ? ` vs ${r.anchor_value}` : ''}${r.ratio === undefined ? '' : ` ratio ${r.ratio}${r.met === undefined ? '' : r.met ? ' (met)' : ' (NOT met)'}`}`);
    log(`bench: wrote ${writeBenchResults('kernels-silero', silero)} in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    return;
  }
  const balanced = balancedDataset();
  const irregular = irregularDataset();
  const wide = wideDataset();
  log(`bench: data sets generated in ${((performance.now() - started) / 1000).toFixed(1)} s; kernel SIMD level ${kernelSimdLevel()} (node ${process.versions.node})`);
  for (const ds of [balanced, wide]) results.push(...(await distanceCases(ds)));
  results.push(...nearestNeighborCases(balanced));
  const sklearnProblem = ensureSklearn(log);
  if (sklearnProblem) log(`bench: scikit-learn comparison skipped: ${sklearnProblem}`);
  let mlKmeans: typeof import('ml-kmeans') | undefined;
  try {
    mlKmeans = await import('ml-kmeans');
  } catch (cause) {
    log(`bench: ml-kmeans not loadable, comparison skipped: ${String(cause)}`);
  }
  const b = await kmeansCases(balanced, sklearnProblem, mlKmeans);
  const irr = await kmeansCases(irregular, sklearnProblem, mlKmeans);
  const w = await kmeansCases(wide, sklearnProblem, undefined);
  results.push(...b.results, ...irr.results, ...w.results);
  results.push(compareWithAnchor(
    { case: 'kmeans/irregular-vs-balanced', metric: 'ms_per_iteration', value: Number(irr.perIterationMs.toFixed(3)), lower_is_better: true, note: 'no-cliff check: irregular per-iteration time over balanced, 1 thread' },
    'ours on balanced-100k-64-32, 1 thread', Number(b.perIterationMs.toFixed(3)), 1.2,
  ));
  const signalCases = join(__dirname, 'signal-cases.ts');
  if (existsSync(signalCases)) {
    // A non-literal specifier: the file is Part B's and may not exist when this one is type-checked.
    const specifier = './signal-cases';
    const mod = (await import(specifier)) as { runSignalCases(): Promise<BenchResult[]> };
    results.push(...(await mod.runSignalCases()));
  }
  results.push(...(await runSileroCases()));
  // The relaxed-SIMD builds (Node >= 22, or NODE_OPTIONS=--experimental-wasm-relaxed-simd) get their own file, so both runs of a session are kept.
  const path = writeBenchResults(kernelSimdLevel() === 'relaxed-simd' ? 'kernels-relaxed-simd' : 'kernels', results);
  for (const r of results) {
    const ratio = r.ratio === undefined ? '' : ` ratio ${r.ratio}${r.met === undefined ? '' : r.met ? ' (met)' : ' (NOT met)'}`;
    log(`${r.case}: ${r.value} ${r.metric}${r.anchor_value !== undefined ? ` vs ${r.anchor_value}` : ''}${ratio}`);
  }
  log(`bench: wrote ${path} in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

main().catch((error: unknown) => {
  log(`bench failed: ${error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
});
