import { createRequire } from 'node:module';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import type { InferenceBackend, ModelLoadRequest, BackendSession } from './inference-backend';
import { adaptOrtSession, type OrtModule } from './ort-session-adapter';

export interface WasmBackendOptions {
  /** onnxruntime-web package folder (the runtime layer); undefined resolves it from node_modules. */
  readonly ortWebDir: string | undefined;
  readonly numThreads: number;
}

/**
 * onnxruntime-web on its WASM-SIMD backend: the default on Lambda, where one artifact runs
 * on x86_64 and Graviton alike. The package is loaded from the runtime layer
 * (/opt/nodejs/node_modules/onnxruntime-web) or node_modules, never bundled.
 */
export class WasmBackend implements InferenceBackend {
  readonly route = 'local-wasm';
  readonly platforms = ['onnx_onnxv1'] as const;
  private ort: OrtModule | undefined;

  constructor(private readonly options: WasmBackendOptions) {}

  async init(): Promise<void> {
    if (this.ort) return;
    const requireFrom = createRequire(join(this.options.ortWebDir ?? process.cwd(), 'package.json'));
    const packageDir = this.options.ortWebDir ?? join(requireFrom.resolve('onnxruntime-web'), '../..');
    const ort = requireFrom(join(packageDir, 'dist/ort.node.min.js')) as OrtModule;
    ort.env.wasm.numThreads = this.options.numThreads;
    // Absolute path: relative wasmPaths resolve against the importing script, which differs between bundle and tests.
    ort.env.wasm.wasmPaths = join(packageDir, 'dist') + '/';
    this.ort = ort;
  }

  async load(model: ModelLoadRequest): Promise<BackendSession> {
    if (!this.ort) await this.init();
    const ort = this.ort!;
    const bytes = model.bytes ?? (await readFile(model.path));
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    return adaptOrtSession(ort, session);
  }

  async dispose(): Promise<void> {
    this.ort = undefined;
  }
}
