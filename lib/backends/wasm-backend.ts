import { createRequire } from 'node:module';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { InferenceBackend, ModelLoadRequest, BackendSession } from './inference-backend';
import { adaptOrtSession, type OrtModule } from './ort-session-adapter';

export interface WasmBackendOptions {
  /** onnxruntime-web package folder (the runtime layer); undefined resolves it from node_modules. */
  readonly ortWebDir: string | undefined;
  readonly numThreads: number;
}

/**
 * V8 tiers hot WASM functions up from Liftoff to TurboFan once they have run about this many
 * bytes of code (V8's --wasm-tiering-budget default, Node 20/22).
 */
const V8_DEFAULT_TIERING_BUDGET = 1_800_000;
/**
 * During INIT, a budget no start-up code reaches: session creation and the first runs stay on
 * Liftoff instead of TurboFan-compiling onnxruntime's graph-optimisation and kernel-registry
 * code, which runs once. Measured with the default models (iris + Silero VAD + text detector,
 * wasm, 1 thread, `npm run bench:cold -- --group target --runs 5`): spawn to first response
 * 2,800-4,400 ms → about 750 ms, peak RSS 250 → 161 MB; the TurboFan jobs competed with INIT
 * for the CPU (one vCPU at 1,769 MB) and held the memory. See BENCHMARKS.md, Cold start.
 */
const STARTUP_TIERING_BUDGET = 1_000_000_000;

/**
 * A graph saved pre-optimised at build (manifest `optimized`) is served as it is: onnxruntime
 * would otherwise run the same passes again inside WASM, on Liftoff, at every cold start.
 * A graph as authored gets every level (`all`).
 */
function runtimeOptimizationLevel(model: ModelLoadRequest): 'disabled' | 'all' {
  // 'disabled', not 'basic': re-running the basic passes on an extended-optimised graph cost
  // 25 ms of the default models' 299 ms with nothing to gain (probe, 7 rounds).
  // Session options measured and not used (same probe): enableCpuMemArena false,
  // enableMemPattern false, executionMode sequential, session.disable_prepacking,
  // session.use_env_allocators, logSeverityLevel 3: all within ±6 ms and ±1 MB.

  return model.optimized ? 'disabled' : 'all';
}

/**
 * One full GC after the runtime's start: onnxruntime-web reads the 14.2 MB .wasm into a
 * Buffer and instantiates from it, leaving ~27 MB of dead ArrayBuffers that V8 had not
 * collected before the next models' sessions and warm-ups pushed RSS to its peak.
 * Measured (default models, wasm, 1 thread, bench/cold/cold-child.mjs on the built bundle,
 * 8 interleaved rounds with and without): peak RSS 164 → 144 MB, spawn → first response
 * within noise (the GC takes ~6 ms of the first session on a ~6 MB heap). With the
 * pre-optimised graphs, `npm run bench:cold -- --group target --runs 7 --compare-bundle ...`:
 * 399 → 359 ms, 165 → 144 MB (BENCHMARKS.md, Cold start).
 */
function collectStartGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/**
 * onnxruntime-web on its WASM-SIMD backend: the default on Lambda for ONNX models without a
 * kernel plan, where one artifact runs on x86_64 and Graviton alike. The package is loaded from
 * the runtime layer (/opt/nodejs/node_modules/onnxruntime-web) or node_modules, never bundled, and
 * only at the first model this backend loads: an instance whose models all run on kernel plans
 * never loads or starts it (test/integration/serving/kernel-only-instance.test.ts).
 */
export class WasmBackend implements InferenceBackend {
  readonly route = 'local-wasm';
  readonly platforms = ['onnx_onnxv1'] as const;
  private ort: OrtModule | undefined;
  private runtimeStarted = false;

  constructor(private readonly options: WasmBackendOptions) {}

  async init(): Promise<void> {
    if (this.ort) return;
    // Before the module is instantiated: each function's budget is set from the flag when the instance is created.
    setFlagsFromString(`--wasm-tiering-budget=${STARTUP_TIERING_BUDGET}`);
    const requireFrom = createRequire(join(this.options.ortWebDir ?? process.cwd(), 'package.json'));
    const packageDir = this.options.ortWebDir ?? join(requireFrom.resolve('onnxruntime-web'), '../..');
    const ort = requireFrom(join(packageDir, 'dist/ort.node.min.js')) as OrtModule;
    // 1 thread runs on the calling thread; n > 1 starts n - 1 pthread workers (worker_threads)
    // at the first session, each about 110-160 ms to come online and +12 MB RSS here.
    ort.env.wasm.numThreads = this.options.numThreads;
    // Absolute path: relative wasmPaths resolve against the importing script, which differs between bundle and tests.
    ort.env.wasm.wasmPaths = join(packageDir, 'dist') + '/';
    this.ort = ort;
  }

  async load(model: ModelLoadRequest): Promise<BackendSession> {
    if (!this.ort) await this.init();
    const ort = this.ort!;
    const bytes = model.bytes ?? (await readFile(model.path));
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: runtimeOptimizationLevel(model) });
    if (!this.runtimeStarted) {
      this.runtimeStarted = true;
      collectStartGarbage();
    }
    return adaptOrtSession(ort, session);
  }

  /**
   * Start-up is over (models loaded and warmed): back to V8's default budget, so functions
   * that stay hot while serving tier up to TurboFan (measured: mlp-medium batch 1 goes from
   * 0.29 ms on Liftoff back to 0.13 ms within a few hundred requests).
   */
  startupDone(): void {
    if (this.ort) setFlagsFromString(`--wasm-tiering-budget=${V8_DEFAULT_TIERING_BUDGET}`);
  }

  async dispose(): Promise<void> {
    this.ort = undefined;
  }
}
