import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * onnxruntime graph-optimisation levels that can be saved at build and served to onnxruntime-web.
 * `all` is not one: it adds layout transforms (NCHWc) sized for the build machine's CPU
 * (onnxruntime warns "may contain hardware specific optimizations" when saving them).
 */
export type SavedOptimizationLevel = 'basic' | 'extended';

/** onnxruntime-node's version: the optimised graph depends on it, so it is part of an artifact's fingerprint. */
export function onnxOptimizerVersion(): string {
  return (require('onnxruntime-node/package.json') as { version: string }).version;
}

/**
 * The graph as onnxruntime-node's CPU execution provider saves it after optimising at `level`
 * (`optimizedModelFilePath`). Served with `graphOptimizationLevel: 'disabled'`, onnxruntime-web
 * skips those passes at session create: on WASM they run on Liftoff at every cold start.
 * Measured (default models iris + Silero VAD + text detector, wasm, 1 thread, fresh process
 * each, 7 interleaved rounds, /tmp probe beside `npm run bench:cold`): all three sessions
 * 328 → 274 ms (Silero VAD 57 → 32 ms, text detector 53 → 42 ms, iris 167 → 156 ms); served
 * by the handler, `npm run bench:cold -- --group target --runs 7 --compare-bundle ...`: default
 * models session create 293 → 254 ms, native 94 → 81 ms. ORT-format files (`.ort`) were no faster.
 * The level's passes are CPU-EP graph rewrites and fusions (FusedConv, FusedGemm, ...) that
 * onnxruntime-web's WASM build registers as well; the input/output signature is unchanged.
 */
export async function optimizeOnnxGraph(bytes: Uint8Array, level: SavedOptimizationLevel): Promise<Uint8Array> {
  // Loaded here only: the build's one use of the native runtime (a devDependency).
  const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
  const dir = mkdtempSync(join(tmpdir(), 'hotpath-ort-optimize-'));
  try {
    const out = join(dir, 'model.onnx');
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: level,
      optimizedModelFilePath: out,
      intraOpNumThreads: 1,
      logSeverityLevel: 3,
    });
    await session.release();
    return new Uint8Array(readFileSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
