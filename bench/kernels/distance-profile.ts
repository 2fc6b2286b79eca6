// npx tsx bench/kernels/distance-profile.ts [balanced|wide ...] — focused distance-kernel timing:
// our full matrix and fused assignment (1 thread, inputs already in WASM memory) against
// onnxruntime-node's MatMul distance graph (1 thread) in the same run, interleaved, medians of 9.
import * as ort from 'onnxruntime-node';
import { balancedDataset, wideDataset, type BenchDataset } from './kernel-datasets';
import { squaredL2DistanceFeeds, squaredL2DistanceGraph } from './onnx-distance-graph';
import { distanceBenchBuffers } from './distance-bench-buffers';

const pick: Record<string, () => BenchDataset> = { balanced: balancedDataset, wide: wideDataset };
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

async function main(): Promise<void> {
  for (const name of process.argv.slice(2).length ? process.argv.slice(2) : ['balanced', 'wide']) {
    const dataset = pick[name]!();
    const { n, d, k, x } = dataset;
    const { kernels, work, centroids: c, xb, packed, out, labels, dist } = distanceBenchBuffers(dataset);
    const session = await ort.InferenceSession.create(squaredL2DistanceGraph(), { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
    const feeds = squaredL2DistanceFeeds(ort, x, n, d, c, k);
    const m: number[] = [];
    const a: number[] = [];
    const o: number[] = [];
    for (let r = 0; r < 10; r++) {
      let t = performance.now();
      work.reset();
      kernels.distanceMatrixInArena(work, xb, n, packed, out);
      const tm = performance.now() - t;
      t = performance.now();
      work.reset();
      kernels.assignNearestInArena(work, xb, n, packed, labels, dist);
      const ta = performance.now() - t;
      t = performance.now();
      await session.run(feeds);
      const to = performance.now() - t;
      if (r > 0) { m.push(tm); a.push(ta); o.push(to); }
    }
    const g = (3 * n * k * d) / 1e9;
    const gf = (ms: number): string => (g / (median([ms]) / 1000)).toFixed(1);
    const [mm, am, om] = [median(m), median(a), median(o)];
    console.log(`${name}: matrix ${mm.toFixed(1)} ms ${gf(mm)} GF/s (${(om / mm).toFixed(2)}x), assign ${am.toFixed(1)} ms ${gf(am)} GF/s (${(om / am).toFixed(2)}x), onnxruntime ${om.toFixed(1)} ms ${gf(om)} GF/s`);
    await session.release();
  }
}
void main();
