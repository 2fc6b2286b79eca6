// Silero VAD v5 on the kernels against onnxruntime-web and onnxruntime-node, same frames, same run
// (`npm run bench:kernels -- --only silero`): per-frame latency at batch 1 on one thread with
// the state carried, and frames per second for B streams per call.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import { compareWithAnchor, type BenchResult } from '../bench-results';
import { syntheticSpeechLikeAudio } from '../../kernels/audio/synthetic-speech-signal';
import { SileroVadKernel } from '../../kernels/silero/silero-kernels';
import { encodeSileroWeights } from '../../kernels/silero/silero-weights-artifact';
import { extractSileroWeights } from '../../layers/models/model-builders/silero-kernel-weights';
import { readPinnedFile } from '../../layers/models/model-builders/pinned-file-artifact';
import { sileroWindows } from '../../layers/models/model-builders/silero-kernel-artifact';
import { SILERO_VAD_FILE, SILERO_VAD_SHA256 } from '../../layers/models/default-models';

type OrtModule = typeof import('onnxruntime-node');
const log = (line: string): void => void process.stderr.write(`${line}\n`);

/** Frames each engine runs at batch 1: 120 s of 16 kHz speech-like audio. */
const LATENCY_SECONDS = 120;
const BATCHES = [1, 8, 64] as const;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** onnxruntime-web's Node build, one thread, as lib/backends/wasm-backend.ts loads it. */
function loadOrtWeb(): OrtModule {
  const requireFrom = createRequire(__filename);
  const packageDir = join(requireFrom.resolve('onnxruntime-web'), '../..');
  const ort = requireFrom(join(packageDir, 'dist/ort.node.min.js')) as OrtModule;
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = `${join(packageDir, 'dist')}/`;
  return ort;
}

interface Engine {
  readonly name: string;
  step(window: Float32Array, state: Float32Array): Promise<Float32Array> | Float32Array;
}

function onnxEngine(name: string, ort: OrtModule, session: import('onnxruntime-node').InferenceSession): Engine {
  const sr = new ort.Tensor('int64', BigInt64Array.of(16000n), []);
  return {
    name,
    async step(window, state) {
      const out = await session.run({ input: new ort.Tensor('float32', window, [1, window.length]), state: new ort.Tensor('float32', state, [2, 1, 128]), sr });
      return out.stateN!.data as Float32Array;
    },
  };
}

/**
 * Per-frame latency on the same frames: each frame goes through onnxruntime-node, onnxruntime-web
 * and the kernels in turn (each carrying its own state), so a noisy second of a shared machine
 * hits all three. INIT is session creation (or the kernel's packing) plus one warm-up frame, as
 * the serving runtime's model warm-up does; every frame after it counts.
 */
export async function runSileroCases(): Promise<BenchResult[]> {
  const source = readPinnedFile(SILERO_VAD_FILE, SILERO_VAD_SHA256).bytes;
  const sessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' as const, logSeverityLevel: 3 as const };
  // onnxruntime-node first: loaded after onnxruntime-web, its 'cpu' backend would resolve to WASM (STACK.md).
  const node = onnxEngine(`onnxruntime-node ${ortNode.env.versions.common}`, ortNode, await ortNode.InferenceSession.create(source, { ...sessionOptions, executionProviders: ['cpu'] }));
  const ortWeb = loadOrtWeb();
  const web = onnxEngine(`onnxruntime-web ${ortWeb.env.versions.common}`, ortWeb, await ortWeb.InferenceSession.create(source, { ...sessionOptions, executionProviders: ['wasm'] }));
  const kernel = SileroVadKernel.fromArtifact(encodeSileroWeights(extractSileroWeights(source)));
  const ours: Engine = { name: 'kernels', step: (window, state) => kernel.step(16000, window, state).state };
  const engines = [node, web, ours];

  const { samples } = syntheticSpeechLikeAudio({ seconds: LATENCY_SECONDS, sampleRate: 16000, seed: 41 });
  const windows = [...sileroWindows(samples, 16000)];
  const states = engines.map(() => new Float32Array(256));
  const times = engines.map((): number[] => []);

  for (const [i, engine] of engines.entries()) states[i] = Float32Array.from(await engine.step(windows[0]!, states[i]!));
  for (const window of windows) {
    for (const [i, engine] of engines.entries()) {
      const t = performance.now();
      const next = await engine.step(window, states[i]!);
      times[i]!.push(performance.now() - t);
      states[i] = Float32Array.from(next);
    }
  }
  // Then each engine alone over the same frames (its weights and code stay in cache), from the state it reached.
  const alone = engines.map((): number[] => []);
  for (const [i, engine] of engines.entries()) {
    for (const window of windows) {
      const t = performance.now();
      const next = await engine.step(window, states[i]!);
      alone[i]!.push(performance.now() - t);
      states[i] = Float32Array.from(next);
    }
  }
  const stats = times.map((t, i) => {
    const sorted = [...t].sort((a, b) => a - b);
    const first = t.slice(0, 1000).sort((a, b) => a - b);
    const own = [...alone[i]!].sort((a, b) => a - b);
    return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), p99First1000: percentile(first, 0.99), max: sorted[sorted.length - 1]!, aloneP50: percentile(own, 0.5), aloneP99: percentile(own, 0.99) };
  });
  const load = (await import('node:os')).loadavg()[0]!.toFixed(1);
  engines.forEach((e, i) => log(`silero ${e.name}: p50 ${stats[i]!.p50.toFixed(4)} ms, p99 ${stats[i]!.p99.toFixed(4)} ms, p99 of the first 1,000 ${stats[i]!.p99First1000.toFixed(4)} ms, max ${stats[i]!.max.toFixed(3)} ms over ${windows.length} frames; alone p50 ${stats[i]!.aloneP50.toFixed(4)} ms, p99 ${stats[i]!.aloneP99.toFixed(4)} ms (load average ${load})`));
  const [n, w, k] = stats as [typeof stats[0], typeof stats[0], typeof stats[0]];
  const frames = `${windows.length} frames of 16 kHz speech-like audio, state carried, batch 1, one thread, engines interleaved per frame (load average ${load})`;
  const ms = (v: number): number => Number(v.toFixed(4));
  const results: BenchResult[] = [
    compareWithAnchor({ case: 'silero/16k/b1/p50-vs-web', metric: 'median_ms', value: ms(k.p50), lower_is_better: true, note: frames }, web.name, ms(w.p50), 0.5),
    compareWithAnchor({ case: 'silero/16k/b1/p50-vs-node', metric: 'median_ms', value: ms(k.p50), lower_is_better: true, note: frames }, node.name, ms(n.p50), 1.2),
    compareWithAnchor({ case: 'silero/16k/b1/p99-over-p50', metric: 'p99_ms', value: ms(k.p99), lower_is_better: true, note: 'every frame after INIT (packing + one warm-up frame); anchor: our p50' }, 'kernels p50', ms(k.p50), 2),
    compareWithAnchor({ case: 'silero/16k/b1/alone/p50-vs-web', metric: 'median_ms', value: ms(k.aloneP50), lower_is_better: true, note: 'each engine alone over the same frames after the interleaved pass' }, web.name, ms(w.aloneP50), 0.5),
    compareWithAnchor({ case: 'silero/16k/b1/alone/p50-vs-node', metric: 'median_ms', value: ms(k.aloneP50), lower_is_better: true, note: 'each engine alone over the same frames after the interleaved pass' }, node.name, ms(n.aloneP50), 1.2),
    compareWithAnchor({ case: 'silero/16k/b1/alone/p99-over-p50', metric: 'p99_ms', value: ms(k.aloneP99), lower_is_better: true, note: 'kernels alone' }, 'kernels alone p50', ms(k.aloneP50), 2),
    compareWithAnchor({ case: 'silero/16k/b1/p99-first-1000-over-p50', metric: 'p99_ms', value: ms(k.p99First1000), lower_is_better: true, note: 'the first 1,000 frames after INIT (V8 tier-up window)' }, 'kernels p50', ms(k.p50), 2),
    { case: 'silero/16k/b1/onnxruntime-web', metric: 'p99_ms', value: ms(w.p99), lower_is_better: true, note: `p50 ${ms(w.p50)} ms, p99 of the first 1,000 frames ${ms(w.p99First1000)} ms, alone p50 ${ms(w.aloneP50)} / p99 ${ms(w.aloneP99)} ms` },
    { case: 'silero/16k/b1/onnxruntime-node', metric: 'p99_ms', value: ms(n.p99), lower_is_better: true, note: `p50 ${ms(n.p50)} ms, p99 of the first 1,000 frames ${ms(n.p99First1000)} ms, alone p50 ${ms(n.aloneP50)} / p99 ${ms(n.aloneP99)} ms` },
  ];
  results.push(...(await batchedCases(kernel, ortNode, source, windows)));
  kernel.dispose();
  return results;
}

/** Frames per second for B streams × one frame per call (kernels), onnxruntime-node's batched graph as the anchor. */
async function batchedCases(kernel: SileroVadKernel, ort: OrtModule, source: Uint8Array, windows: readonly Float32Array[]): Promise<BenchResult[]> {
  const session = await ort.InferenceSession.create(source, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', executionProviders: ['cpu'], logSeverityLevel: 3 });
  const sr = new ort.Tensor('int64', BigInt64Array.of(16000n), []);
  const results: BenchResult[] = [];
  for (const batch of BATCHES) {
    const calls = Math.max(20, Math.floor(4000 / batch));
    const rows = new Float32Array(batch * 576);
    const rate = async (step: (rows: Float32Array, state: Float32Array) => Promise<Float32Array> | Float32Array): Promise<number> => {
      let state = new Float32Array(2 * batch * 128);
      const perCall: number[] = [];
      for (let c = -5; c < calls; c++) {
        for (let b = 0; b < batch; b++) rows.set(windows[(Math.abs(c) * batch + b) % windows.length]!, b * 576);
        const t = performance.now();
        state = Float32Array.from(await step(rows, state));
        if (c >= 0) perCall.push(performance.now() - t);
      }
      perCall.sort((a, b) => a - b);
      return (1000 * batch) / percentile(perCall, 0.5);
    };
    const ours = await rate((r, s) => kernel.step(16000, r, s, batch).state);
    const anchor = await rate(async (r, s) => (await session.run({ input: new ort.Tensor('float32', r, [batch, 576]), state: new ort.Tensor('float32', s, [2, batch, 128]), sr })).stateN!.data as Float32Array);
    log(`silero batch ${batch}: kernels ${ours.toFixed(0)} frames/s, onnxruntime-node ${anchor.toFixed(0)} frames/s`);
    results.push(compareWithAnchor({ case: `silero/16k/b${batch}/throughput`, metric: 'frames_per_s', value: Math.round(ours), lower_is_better: false, note: `${batch} streams × one frame per call, median call, one thread` }, `onnxruntime-node ${ort.env.versions.common} batched graph, 1 thread`, Math.round(anchor)));
  }
  await session.release();
  return results;
}
