/**
 * The native backend's execution-provider self-test on the real onnxruntime-node and real
 * models of this CPU-only machine (no GPU, no Vulkan loader, no CUDA provider libraries):
 * providers that cannot serve are refused with onnxruntime's own reason, placement is read
 * from onnxruntime's profile, and the provider that serves is reported by every door.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as OrtCommon from 'onnxruntime-common';
import { NativeBackend } from '../../../lib/backends/native-backend';
import { selfTestProvider, type SelfTestOutcome } from '../../../lib/backends/execution-provider-selftest';
import type { OrtModule } from '../../../lib/backends/ort-session-adapter';
import { loadServingConfig } from '../../../lib/config/serving-config';
import { ModelVerificationError } from '../../../lib/errors/hotpath-error';
import { startOipServer, type RunningOipServer } from '../../../lib/server/oip-server';
import { createServingRuntime } from '../../../lib/serving/serving-runtime';

const ort = createRequire(join(process.cwd(), 'package.json'))('onnxruntime-node') as OrtModule;
const MODELS_DIR = join(process.cwd(), 'layers/models/build/models');
const IRIS = join(MODELS_DIR, 'iris-classifier/1/model.onnx');
const MLP_SMALL = join(MODELS_DIR, 'mlp-small/1/model.onnx');
/** This suite describes a machine without a GPU; on one with a GPU device node the refusals below would not be expected. */
const CPU_ONLY = !existsSync('/dev/nvidia0') && !existsSync('/dev/dri');
const cudaLibsPresent = existsSync(join(process.cwd(), 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so'));

interface LogLine { level: 'info' | 'error' | 'warn'; message: string; extra: Record<string, unknown>[] }
function recordingLogger() {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']) => (message: string, ...extra: Record<string, unknown>[]) => void lines.push({ level, message, extra });
  return { lines, logger: { info: at('info'), warn: at('warn'), error: at('error') } };
}

const irisInput = { name: 'input', datatype: 'FP32' as const, shape: [2, 4], data: new Float32Array([5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3]) };
const irisLoad = { name: 'iris-classifier', version: '1', path: IRIS, inputs: [{ name: 'input', datatype: 'FP32' as const, shape: [-1, 4] }], outputs: [] };

(CPU_ONLY ? describe : describe.skip)('native backend provider self-test (CPU-only machine)', () => {
  describe('through the OIP server', () => {
    let server: RunningOipServer;
    const { lines, logger } = recordingLogger();

    beforeAll(async () => {
      const config = loadServingConfig({}, { onnxBackend: 'native', providers: ['webgpu', 'cpu'], models: ['iris-classifier', 'mlp-small'], wasmThreads: 1 });
      const runtime = await createServingRuntime(config, logger);
      server = await startOipServer({ runtime, logger, port: 0 });
    }, 120_000);
    afterAll(async () => {
      await server?.close(0);
      await server?.runtime.registry.dispose();
    });

    it('refuses webgpu with onnxruntime\'s reason, logged as an error, and serves on cpu', async () => {
      // Act
      const meta = await (await fetch(`${server.url}/v2/models/iris-classifier`)).json() as { parameters: Record<string, unknown> };
      const serverMeta = await (await fetch(`${server.url}/v2`)).json() as { parameters: { providers: Record<string, string>; providers_refused: { provider: string; reason: string }[] } };

      // Assess
      expect(meta.parameters.provider).toBe('cpu');
      expect(meta.parameters.provider_nodes).toEqual({ CPUExecutionProvider: 6 });
      expect(meta.parameters.providers_refused).toEqual([{ provider: 'webgpu', reason: expect.stringContaining('Failed to get a WebGPU adapter') }]);
      expect(serverMeta.parameters.providers).toEqual({ 'iris-classifier@1': 'cpu', 'mlp-small@1': 'cpu' });
      expect(serverMeta.parameters.providers_refused[0]!.reason).toMatch(/^model 'iris-classifier@1': the session cannot be created on it: .*No supported adapters/);
      // The reason a caller reads carries no source paths.
      expect(serverMeta.parameters.providers_refused[0]!.reason).not.toContain('/onnxruntime_src');
      const refusals = lines.filter((l) => l.level === 'error' && l.message.startsWith("execution provider 'webgpu' REFUSED"));
      expect(refusals).toHaveLength(1);
    });

    it('answers inference with the provider in the x-hotpath-provider header', async () => {
      // Act
      const response = await fetch(`${server.url}/v2/models/iris-classifier/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: [{ name: 'input', shape: [2, 4], datatype: 'FP32', data: [...irisInput.data] }] }),
      });

      // Assess
      expect(response.status).toBe(200);
      expect(response.headers.get('x-hotpath-provider')).toBe('cpu');
      expect(response.headers.get('x-hotpath-route')).toBe('local-native');
    });
  });

  it('refuses cuda with the reason onnxruntime gives when its provider libraries are missing', async () => {
    // Prepare
    if (cudaLibsPresent) throw new Error('this machine has the CUDA provider libraries; the test expects a machine without them');
    const { logger } = recordingLogger();
    const backend = new NativeBackend({ intraOpThreads: 1, providers: ['cuda', 'cpu'], logger, ort });

    // Act
    const session = await backend.load(irisLoad);

    // Assess
    expect(session.executionProvider).toEqual({
      provider: 'cpu',
      nodesByProvider: { CPUExecutionProvider: 6 },
      refused: [{ provider: 'cuda', reason: expect.stringContaining('Failed to load shared library') }],
    });
    await session.dispose();
  });

  it('refuses a provider that onnxruntime silently replaced by CPU, from the profile, not from what was asked', async () => {
    // Prepare: an onnxruntime whose session factory drops the providers asked for, as a build without
    // them or a missing CUDA runtime does: the session is real and runs, on CPU.
    const silentFallback: OrtModule = {
      ...ort,
      InferenceSession: {
        create: (source: string, options: OrtCommon.InferenceSession.SessionOptions) => ort.InferenceSession.create(source, { ...options, executionProviders: ['cpu'] }),
      } as unknown as OrtModule['InferenceSession'],
    };
    const { lines, logger } = recordingLogger();
    const backend = new NativeBackend({ intraOpThreads: 1, providers: ['cuda', 'cpu'], logger, ort: silentFallback });

    // Act
    const session = await backend.load({ ...irisLoad, path: IRIS });

    // Assess
    expect(session.executionProvider?.provider).toBe('cpu');
    expect(session.executionProvider?.refused).toEqual([{
      provider: 'cuda',
      reason: "model 'iris-classifier@1': onnxruntime placed none of the graph's nodes on CUDAExecutionProvider (6 on CPUExecutionProvider): it fell back to another provider",
    }]);
    expect(lines.some((l) => l.level === 'error' && l.message.includes("'cuda' REFUSED"))).toBe(true);
    await session.dispose();
  });

  it('moves models already served to the next provider when a later model refuses theirs', async () => {
    // Prepare: the policy under test, with real CPU sessions: 'webgpu' is made to pass iris and refuse mlp-small.
    const served: string[] = [];
    const selfTest: typeof selfTestProvider = async (o, model, provider, options): Promise<SelfTestOutcome> => {
      const real = await selfTestProvider(o, model, 'cpu', options);
      if (provider === 'cpu' || !real.passed) return real;
      if (model.label === 'mlp-small@1') {
        await real.session.release();
        return { passed: false, reason: 'disagrees with the CPU provider (made up by this test)' };
      }
      served.push(`${model.label} on ${provider}`);
      return { ...real, result: { ...real.result, provider } };
    };
    const { logger } = recordingLogger();
    const backend = new NativeBackend({ intraOpThreads: 1, providers: ['webgpu', 'cpu'], logger, ort, selfTest });
    const iris = await backend.load(irisLoad);
    const onWebgpu = iris.executionProvider?.provider;

    // Act
    const mlp = await backend.load({ name: 'mlp-small', version: '1', path: MLP_SMALL, inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 256] }], outputs: [] });

    // Assess
    expect(onWebgpu).toBe('webgpu');
    expect(served).toEqual(['iris-classifier@1 on webgpu']);
    expect(iris.executionProvider?.provider).toBe('cpu');
    expect(mlp.executionProvider?.provider).toBe('cpu');
    expect(iris.executionProvider?.refused).toEqual([{ provider: 'webgpu', reason: "model 'mlp-small@1': disagrees with the CPU provider (made up by this test)" }]);
    const [probabilities] = await iris.run([irisInput], ['probabilities']);
    expect(probabilities!.shape).toEqual([2, 3]);
    await iris.dispose();
    await mlp.dispose();
  });

  it('refuses a model the CPU provider cannot run, naming it, and leaves the providers alone', async () => {
    // Prepare
    const { logger } = recordingLogger();
    const backend = new NativeBackend({ intraOpThreads: 1, providers: ['cpu'], logger, ort });
    const wrongWarmup = { ...irisLoad, warmupInputs: [{ name: 'input', datatype: 'FP32' as const, shape: [1, 5], data: new Float32Array(5) }] };

    // Act
    const refusal = await backend.load(wrongWarmup).catch((error: unknown) => error);

    // Assess
    expect(refusal).toBeInstanceOf(ModelVerificationError);
    expect((refusal as Error).message).toMatch(/^model 'iris-classifier@1': the CPU provider, the reference for every other, refused it: self-test run 1 \(the warm-up inputs\) failed: /);
    expect(backend.refusedProviders()).toEqual([]);
  });
});
