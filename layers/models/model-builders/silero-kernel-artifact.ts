import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { KernelPlanReference, ManifestModel } from '../../../lib/models/model-manifest-types';
import { SILERO_VAD_EXECUTOR } from '../../../lib/backends/kernel-models/silero-vad-model';
import { syntheticSpeechLikeAudio } from '../../../kernels/audio/synthetic-speech-signal';
import { SileroVadKernel } from '../../../kernels/silero/silero-kernels';
import { SILERO_WINDOW, sileroWindowSamples } from '../../../kernels/silero/silero-reference';
import { SILERO_SAMPLE_RATES, encodeSileroWeights, type SileroSampleRate } from '../../../kernels/silero/silero-weights-artifact';
import { REPO_ROOT } from '../../layer-paths';
import type { ModelArtifactSpec } from '../model-artifact-spec';
import { readPinnedFile } from './pinned-file-artifact';
import { extractSileroWeights } from './silero-kernel-weights';
import { readKernelPlanExclusions, writeKernelPlan, writeUnlessSame } from '../kernel-plans';

/** The served model the kernel artifact belongs to. */
export const SILERO_VAD_MODEL = 'silero-vad';

/**
 * Parity of one step against onnxruntime-node given the same window and state. Probabilities:
 * within 1e-4 absolute. State: within 1e-4 absolute plus 4 float32 ulps of the value, because the
 * LSTM's cell state integrates to |c| ≈ 2,100 over 10 minutes of speech-like audio, where one ulp
 * is 2.4e-4 and no float32 implementation can meet 1e-4 absolute. On loud tones (the sine sweep)
 * the gates cancel large terms: there onnxruntime-node itself is up to 4.4e-3 from the float64
 * reference on a few frames (60 s sweep), so the parity suite counts frames beyond `stateAbsolute`,
 * and a frame beyond `stateWorst` passes only when the kernels are no farther from float64 than
 * twice onnxruntime-node is (test/support/silero-parity.ts; BENCHMARKS.md, "Silero VAD on kernels").
 */
export const SILERO_PARITY = { probability: 1e-4, stateAbsolute: 1e-4, stateUlps: 4, stateWorst: 5e-4 } as const;

/** The 1e-4 goal for one state value, `expected` the onnxruntime one (plus 4 ulps of it). */
export function sileroStateTolerance(expected: number): number {
  return SILERO_PARITY.stateAbsolute + SILERO_PARITY.stateUlps * 2 ** -23 * Math.abs(expected);
}

/** The bound no frame may pass (the build refuses the kernel beyond it). */
export function sileroStateBound(expected: number): number {
  return SILERO_PARITY.stateWorst + SILERO_PARITY.stateUlps * 2 ** -23 * Math.abs(expected);
}

/** Seconds of speech-like audio per rate the build's parity check runs (state carried by onnxruntime-node). */
const BUILD_PARITY_SECONDS = 4;

const SOURCES = [
  'layers/models/model-builders/silero-kernel-artifact.ts', 'layers/models/model-builders/silero-kernel-weights.ts',
  'kernels/silero/silero-weights-artifact.ts', 'kernels/silero/silero-kernels.ts', 'kernels/silero/stft-basis.ts',
  'kernels/silero/assembly/dot-products.ts', 'kernels/silero/assembly/silero-forward.ts', 'kernels/silero/assembly/model-layout.ts',
  'kernels/audio/assembly/fft.ts',
];

/** Models kept on onnxruntime-web although their kernel passes parity, with the benchmark finding (shared with layers/models/kernel-plans.ts). */

interface CachedSileroPlan {
  readonly fingerprint: string;
  readonly kernel: KernelPlanReference;
  readonly mtimeMs: number;
}

export interface SileroKernelPlanOptions {
  /** The build's specs: only the spec that reads the pinned file (fingerprint params.sha256) gets the kernel. */
  readonly specs: readonly ModelArtifactSpec[];
  readonly modelsDir: string;
  /** The pinned silero_vad_v5.onnx and its sha256 (layers/models/default-models.ts). */
  readonly sourceFile: string;
  readonly sourceSha256: string;
  /** Where the fingerprint of the last build is kept (outside the layer). */
  readonly cacheFile: string;
  readonly log?: (line: string) => void;
}

/**
 * Writes silero-vad's kernel artifact (`model.silero-vad-v5.bin`: the weights extracted from the
 * pinned ONNX file, kernels/silero/silero-weights-artifact.ts) beside its graph and gives the
 * entry `kernel` with the build's parity figures as the reason, so the kernel backend serves it
 * (lib/serving/model-backend-selection.ts; HOTPATH_WASM_MODELS=silero-vad keeps onnxruntime-web).
 * Where kernel-plan-exclusions.json names the model, the artifact is still written (benchmarks
 * and tests read it) but the entry keeps onnxruntime-web with `kernelRefused` quoting the finding.
 * A failed parity check throws: the build never ships a kernel that disagrees with the graph.
 */
export async function attachSileroKernelPlan(entries: readonly ManifestModel[], options: SileroKernelPlanOptions): Promise<ManifestModel[]> {
  const { modelsDir, log = () => {} } = options;
  const entry = entries.find((e) => e.name === SILERO_VAD_MODEL && e.platform === 'onnx_onnxv1');
  const pinned = options.specs.some((s) => s.name === SILERO_VAD_MODEL && (s.fingerprint.params as { sha256?: unknown } | undefined)?.sha256 === options.sourceSha256);
  if (!entry || !pinned) return [...entries];
  const planFile = `${dirname(entry.file)}/model.${SILERO_VAD_EXECUTOR}.bin`;
  const planPath = join(modelsDir, planFile);
  const exclusions = readKernelPlanExclusions();
  const fingerprint = createHash('sha256').update(JSON.stringify({ source: options.sourceSha256, sources: sourcesHash() })).digest('hex');
  let cached = readCache(options.cacheFile);
  const current = cached?.fingerprint === fingerprint && existsSync(planPath) && statSync(planPath).mtimeMs === cached.mtimeMs;
  if (!current) {
    const started = performance.now();
    const source = readPinnedFile(options.sourceFile, options.sourceSha256).bytes;
    const encoded = encodeSileroWeights(extractSileroWeights(source));
    const summary = await checkParity(source, encoded);
    cached = {
      fingerprint,
      ...writeKernelPlan(planPath, planFile, SILERO_VAD_EXECUTOR, encoded, `${SILERO_VAD_EXECUTOR} kernels: weights extracted from the pinned silero_vad_v5.onnx; ${summary}`),
    };
    mkdirSync(dirname(options.cacheFile), { recursive: true });
    writeUnlessSame(options.cacheFile, new TextEncoder().encode(`${JSON.stringify(cached, null, 2)}\n`));
    log(`kernel  ${entry.name}/${entry.version}: ${cached.kernel.reason} (${(performance.now() - started).toFixed(0)} ms)`);
  }
  const exclusion = exclusions[entry.name];
  const { kernel: _previous, kernelRefused: _refused, ...rest } = entry;
  const attached: ManifestModel = exclusion
    ? { ...rest, kernelRefused: `${exclusion} (the ${SILERO_VAD_EXECUTOR} kernel passed parity: ${cached!.kernel.reason})` }
    : { ...rest, kernel: cached!.kernel };
  return entries.map((e) => (e === entry ? attached : e));
}

/**
 * Runs the pinned graph on onnxruntime-node (CPU, one thread) and the kernels over
 * BUILD_PARITY_SECONDS of speech-like audio per rate, each step from onnxruntime's carried state;
 * returns the worst differences, or throws naming the frame that broke SILERO_PARITY.
 */
async function checkParity(source: Uint8Array, encoded: Uint8Array): Promise<string> {
  const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
  const session = await ort.InferenceSession.create(source, { executionProviders: ['cpu'], intraOpNumThreads: 1, logSeverityLevel: 3 });
  const kernel = SileroVadKernel.fromArtifact(encoded);
  const worst = { probability: 0, state: 0 };
  let frames = 0;
  try {
    for (const rate of SILERO_SAMPLE_RATES) {
      const { samples } = syntheticSpeechLikeAudio({ seconds: BUILD_PARITY_SECONDS, sampleRate: rate, seed: 11 });
      let state = new Float32Array(256);
      for (const window of sileroWindows(samples, rate)) {
        const expected = await session.run({
          input: new ort.Tensor('float32', window, [1, window.length]),
          state: new ort.Tensor('float32', state, [2, 1, 128]),
          sr: new ort.Tensor('int64', BigInt64Array.of(BigInt(rate)), []),
        });
        const ours = kernel.step(rate, window, state);
        const p = (expected.output!.data as Float32Array)[0]!;
        const next = expected.stateN!.data as Float32Array;
        const dp = Math.abs(p - ours.probabilities[0]!);
        if (!(dp <= SILERO_PARITY.probability)) throw new Error(`silero kernel parity: ${rate} Hz frame ${frames}: probability ${ours.probabilities[0]} vs onnxruntime-node ${p}`);
        worst.probability = Math.max(worst.probability, dp);
        for (let i = 0; i < next.length; i++) {
          const ds = Math.abs(next[i]! - ours.state[i]!);
          if (!(ds <= sileroStateBound(next[i]!))) throw new Error(`silero kernel parity: ${rate} Hz frame ${frames}: state[${i}] ${ours.state[i]} vs onnxruntime-node ${next[i]}`);
          worst.state = Math.max(worst.state, ds);
        }
        state = Float32Array.from(next);
        frames++;
      }
    }
  } finally {
    kernel.dispose();
    await session.release();
  }
  return `parity with onnxruntime-node 1.30 on ${frames} frames (${BUILD_PARITY_SECONDS} s of speech-like audio at 16 and 8 kHz): max |Δp| ${worst.probability.toExponential(1)}, max |Δstate| ${worst.state.toExponential(1)}`;
}

/**
 * The model's input rows for a mono stream, as upstream's wrapper forms them: each window is the
 * previous window's last `context` samples (zeros at the start) then `frame` new ones; a partial
 * last frame is dropped.
 */
export function* sileroWindows(samples: Float32Array, rate: SileroSampleRate): Generator<Float32Array> {
  const { context, frame } = SILERO_WINDOW[rate];
  const n = sileroWindowSamples(rate);
  let previous = new Float32Array(context);
  for (let at = 0; at + frame <= samples.length; at += frame) {
    const window = new Float32Array(n);
    window.set(previous, 0);
    window.set(samples.subarray(at, at + frame), context);
    previous = window.slice(n - context);
    yield window;
  }
}

function sourcesHash(): string {
  const hash = createHash('sha256');
  for (const file of SOURCES) hash.update(`\0${file}\0`).update(readFileSync(join(REPO_ROOT, file)));
  return hash.digest('hex');
}

function readCache(cacheFile: string): CachedSileroPlan | undefined {
  try {
    return JSON.parse(readFileSync(cacheFile, 'utf8')) as CachedSileroPlan;
  } catch {
    return undefined;
  }
}

