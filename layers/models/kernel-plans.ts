import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import type { KernelPlanReference, ManifestModel } from '../../lib/models/model-manifest-types';
import { FeedForwardProgram } from '../../kernels/feed-forward/feed-forward-kernels';
import { countFor, encodeFeedForwardPlan, type FeedForwardPlan } from '../../kernels/feed-forward/feed-forward-plan';
import { engineSupportsRelaxedSimd, type KernelSimdLevel } from '../../kernels/runtime/load-kernel-module';
import { sfc32 } from '../../kernels/seeded-random/seeded-random';
import { REPO_ROOT } from '../layer-paths';
import { compileFeedForwardPlan } from './feed-forward-plan-compiler';
import { onnxOptimizerVersion } from './onnx-graph-optimizer';

/** Error of each float output against onnxruntime-node's, relative to that output's largest magnitude. */
export const PARITY_LIMIT = 1e-5;
/** Batches of generated rows the parity check runs: one row, an odd size (the kernels' tails), a batch of 4 row groups and a tail. */
const PARITY_BATCHES = [1, 7, 33] as const;
const PARITY_SEED = 20261202;
const EXECUTOR = 'feed-forward';

/**
 * Models the build keeps on onnxruntime-web although parity holds, with the benchmark finding that
 * says why (`layers/models/kernel-plan-exclusions.json`: `{ "<model>": "<finding>" }`).
 */
const EXCLUSIONS_FILE = join(REPO_ROOT, 'layers/models/kernel-plan-exclusions.json');

/** What decides a model's plan: its file, the executor's sources, onnxruntime-node, the exclusion. */
const EXECUTOR_SOURCES = [
  'layers/models/kernel-plans.ts', 'layers/models/feed-forward-plan-compiler.ts',
  'kernels/feed-forward/feed-forward-plan.ts', 'kernels/feed-forward/feed-forward-kernels.ts',
  'kernels/feed-forward/assembly', 'kernels/distances/assembly/dot-blocks.ts', 'kernels/distances/assembly/multiply-add.ts', 'kernels/activations/assembly',
];

interface CachedPlan {
  readonly fingerprint: string;
  readonly kernel?: KernelPlanReference;
  readonly refused?: string;
  readonly mtimeMs?: number;
}

export interface KernelPlansOptions {
  readonly modelsDir: string;
  /** Where the plans' fingerprints are kept (outside the layer). */
  readonly cacheFile: string;
  readonly log?: (line: string) => void;
  /** The exclusions file (default layers/models/kernel-plan-exclusions.json). */
  readonly exclusionsFile?: string;
}

type Ort = typeof import('onnxruntime-node');

/**
 * The manifest entries with each ONNX model's kernel plan: where the feed-forward executor takes
 * the graph (layers/models/feed-forward-plan-compiler.ts) and its outputs on generated rows match
 * onnxruntime-node's (PARITY_LIMIT of each output's scale, argmax along the last axis identical),
 * the plan is written beside the model (`model.feed-forward.bin`) and the entry gets `kernel` with
 * the figures as its reason; otherwise `kernelRefused` says why. Cached by fingerprint: a warm
 * build with nothing changed reads no model file.
 */
export async function attachKernelPlans(entries: readonly ManifestModel[], options: KernelPlansOptions): Promise<ManifestModel[]> {
  const { modelsDir, cacheFile, log = () => {} } = options;
  const cache = readCache(cacheFile);
  const next: Record<string, CachedPlan> = {};
  const exclusions = readKernelPlanExclusions(options.exclusionsFile);
  const sources = sourcesHash();
  const out: ManifestModel[] = [];
  let ort: Ort | undefined;
  for (const entry of entries) {
    if (entry.platform !== 'onnx_onnxv1') {
      out.push(entry);
      continue;
    }
    const key = `${entry.name}/${entry.version}`;
    const planFile = `${dirname(entry.file)}/model.${EXECUTOR}.bin`;
    const planPath = join(modelsDir, planFile);
    const fingerprint = createHash('sha256').update(JSON.stringify({ model: entry.sha256, sources, ort: onnxOptimizerVersion(), exclusion: exclusions[entry.name] ?? null })).digest('hex');
    let result = cache[key];
    const current = result?.fingerprint === fingerprint && (!result.kernel || (existsSync(planPath) && statSync(planPath).mtimeMs === result.mtimeMs && statSync(planPath).size === result.kernel.bytes));
    if (!current) {
      const started = performance.now();
      ort ??= require('onnxruntime-node') as Ort;
      result = await planFor(entry, readFileSync(join(modelsDir, entry.file)), planFile, planPath, exclusions[entry.name], ort, fingerprint);
      log(`${result.kernel ? 'kernel ' : 'onnx   '} ${key}: ${result.kernel ? result.kernel.reason : result.refused} (${(performance.now() - started).toFixed(0)} ms)`);
    }
    if (!result!.kernel && existsSync(planPath)) rmSync(planPath);
    next[key] = result!;
    const { kernel: _previous, kernelRefused: _refused, ...rest } = entry;
    out.push(result!.kernel ? { ...rest, kernel: result!.kernel } : { ...rest, kernelRefused: result!.refused! });
  }
  mkdirSync(dirname(cacheFile), { recursive: true });
  writeUnlessSame(cacheFile, new TextEncoder().encode(`${JSON.stringify(next, null, 2)}\n`));
  return out;
}

async function planFor(
  entry: ManifestModel, bytes: Uint8Array, planFile: string, planPath: string, exclusion: string | undefined, ort: Ort, fingerprint: string,
): Promise<CachedPlan> {
  const compiled = compileFeedForwardPlan(bytes);
  if (!compiled.plan) return { fingerprint, refused: `the ${EXECUTOR} executor does not take the graph: ${compiled.refused}` };
  const parity = await checkParity(compiled.plan, bytes, ort);
  if (parity.failure) return { fingerprint, refused: `the ${EXECUTOR} executor takes the graph but parity fails: ${parity.failure}` };
  if (exclusion) return { fingerprint, refused: `${exclusion} (the ${EXECUTOR} plan passed parity: ${parity.summary})` };
  const encoded = encodeFeedForwardPlan(compiled.plan);
  return {
    fingerprint,
    ...writeKernelPlan(planPath, planFile, EXECUTOR, encoded, `${EXECUTOR} executor takes every node (${compiled.plan.header.steps.length} steps); ${parity.summary}`),
  };
}

/**
 * Runs the plan on the kernels (each SIMD build this engine runs) and the graph on onnxruntime-node
 * (CPU, one thread) on the same seeded rows; a summary with the worst error, or the failure.
 */
async function checkParity(plan: FeedForwardPlan, bytes: Uint8Array, ort: Ort): Promise<{ summary: string; failure?: string }> {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1, logSeverityLevel: 3 });
  const levels: KernelSimdLevel[] = engineSupportsRelaxedSimd() ? ['simd', 'relaxed-simd'] : ['simd'];
  const programs = levels.map((simd) => new FeedForwardProgram(plan, { simd }));
  const random = sfc32(PARITY_SEED);
  let worst = 0;
  try {
    for (const rows of PARITY_BATCHES) {
      const inputs = plan.header.inputs.map((input) => {
        const count = countFor({ n: input.shape.reduce((p, d) => (d === -1 ? p : p * d), 1), batched: input.shape[0] === -1 }, rows);
        return Float32Array.from({ length: count }, () => (random() * 2 - 1) * 4);
      });
      const feeds = Object.fromEntries(plan.header.inputs.map((input, i) => [input.name, new ort.Tensor('float32', inputs[i]!, input.shape.map((d) => (d === -1 ? rows : d)))]));
      const expected = await session.run(feeds);
      for (const [p, program] of programs.entries()) {
        const actual = program.run(inputs, rows);
        for (const [i, output] of plan.header.outputs.entries()) {
          const reference = expected[output.name]!;
          const check = compareOutput(actual[i]!, reference.data as Float32Array | BigInt64Array | Int32Array, output.shape.at(-1)!, output.shape.length);
          const where = `output '${output.name}', batch ${rows}, ${levels[p]}`;
          if (check.failure) return { summary: '', failure: `${where}: ${check.failure}` };
          worst = Math.max(worst, check.error);
        }
      }
    }
  } finally {
    for (const program of programs) program.dispose();
    await session.release();
  }
  const rows = PARITY_BATCHES.reduce((a, b) => a + b, 0);
  const unchecked = levels.includes('relaxed-simd') ? '' : ` (relaxed-simd, which Node >= 22 runs, not checked on Node ${process.versions.node})`;
  return {
    summary: `parity with onnxruntime-node ${onnxOptimizerVersion()} on ${rows} seeded rows (batches ${PARITY_BATCHES.join(', ')}): max error ${worst.toExponential(1)} of each output's scale (limit ${PARITY_LIMIT.toExponential(0)}), argmax identical; kernels ${levels.join(' and ')}${unchecked}`,
  };
}

/** Float outputs: error relative to the output's largest magnitude, and the same argmax per row; integer outputs equal. */
function compareOutput(actual: Float32Array | Int32Array, expected: Float32Array | BigInt64Array | Int32Array, lastDim: number, rank: number): { error: number; failure?: string } {
  if (actual.length !== expected.length) return { error: Infinity, failure: `${actual.length} values, onnxruntime-node gives ${expected.length}` };
  if (!(expected instanceof Float32Array)) {
    for (let i = 0; i < actual.length; i++) if (BigInt(actual[i]!) !== BigInt(expected[i]!)) return { error: Infinity, failure: `element ${i} is ${actual[i]}, onnxruntime-node gives ${expected[i]}` };
    return { error: 0 };
  }
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]!));
    diff = Math.max(diff, Math.abs(actual[i]! - expected[i]!));
  }
  const error = scale > 0 ? diff / scale : diff;
  if (!(error <= PARITY_LIMIT)) return { error, failure: `max error ${error.toExponential(2)} of the output's scale, limit ${PARITY_LIMIT}` };
  if (rank >= 2 && lastDim > 1) {
    for (let row = 0; row < expected.length / lastDim; row++) {
      const a = argmax(actual, row * lastDim, lastDim);
      const b = argmax(expected, row * lastDim, lastDim);
      if (a !== b) return { error, failure: `row ${row}: argmax ${a}, onnxruntime-node's ${b}` };
    }
  }
  return { error };
}

function argmax(values: ArrayLike<number>, start: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (values[start + i]! > values[start + best]!) best = i;
  return best;
}

/** The executor's sources by content (folders: every file in them), relative to the repository. */
function sourcesHash(): string {
  const hash = createHash('sha256');
  const files = EXECUTOR_SOURCES.flatMap((source) => {
    const path = join(REPO_ROOT, source);
    return statSync(path).isDirectory() ? readdirSync(path).sort().map((f) => join(path, f)) : [path];
  });
  for (const file of files) {
    hash.update(`\0${relative(REPO_ROOT, file).split(sep).join('/')}\0`);
    hash.update(readFileSync(file));
  }
  return hash.digest('hex');
}

/** Writes then renames (no reader sees half a file); a file with the same bytes keeps its mtime. */
/** Models kept on onnxruntime-web although their kernel plan passes parity, with the reason (layers/models/kernel-plan-exclusions.json). */
export function readKernelPlanExclusions(file: string = EXCLUSIONS_FILE): Record<string, string> {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>) : {};
}

/** Writes a kernel plan's bytes at `planPath` (unless already the same) and returns its manifest reference and the file's mtime. */
export function writeKernelPlan(planPath: string, planFile: string, executor: string, encoded: Uint8Array, reason: string): { mtimeMs: number; kernel: KernelPlanReference } {
  writeUnlessSame(planPath, encoded);
  return {
    mtimeMs: statSync(planPath).mtimeMs,
    kernel: { executor, file: planFile, sha256: createHash('sha256').update(encoded).digest('hex'), bytes: encoded.byteLength, reason },
  };
}

export function writeUnlessSame(path: string, bytes: Uint8Array): void {
  if (existsSync(path) && Buffer.from(bytes).equals(readFileSync(path))) return;
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, bytes);
  renameSync(temporary, path);
}

function readCache(cacheFile: string): Record<string, CachedPlan> {
  try {
    return JSON.parse(readFileSync(cacheFile, 'utf8')) as Record<string, CachedPlan>;
  } catch {
    return {};
  }
}
