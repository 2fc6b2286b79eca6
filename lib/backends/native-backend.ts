import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { InferenceBackend, ModelLoadRequest, BackendSession } from './inference-backend';
import { adaptOrtSession, type OrtModule } from './ort-session-adapter';

export interface NativeBackendOptions {
  readonly intraOpThreads: number;
}

/**
 * onnxruntime-node on its CPU execution provider: a comparison point for the WASM path here,
 * and the runtime of the GPU container task. It shares onnxruntime-common's backend registry
 * with onnxruntime-web, so a process that loads both must load this one first.
 */
export class NativeBackend implements InferenceBackend {
  readonly route = 'local-native';
  readonly platforms = ['onnx_onnxv1'] as const;
  private ort: OrtModule | undefined;

  constructor(private readonly options: NativeBackendOptions) {}

  async init(): Promise<void> {
    if (this.ort) return;
    this.ort = createRequire(join(process.cwd(), 'package.json'))('onnxruntime-node') as OrtModule;
  }

  async load(model: ModelLoadRequest): Promise<BackendSession> {
    if (!this.ort) await this.init();
    const ort = this.ort!;
    const session = await ort.InferenceSession.create(model.path, {
      executionProviders: ['cpu'],
      intraOpNumThreads: this.options.intraOpThreads,
      graphOptimizationLevel: 'all',
    });
    return adaptOrtSession(ort, session);
  }

  async dispose(): Promise<void> {
    this.ort = undefined;
  }
}
