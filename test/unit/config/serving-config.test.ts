import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError } from '../../../lib/errors/hotpath-error';
import { loadServingConfig } from '../../../lib/config/serving-config';
import { engineSupportsRelaxedSimd } from '../../../kernels/runtime/load-kernel-module';

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

describe('serving-config', () => {
  it('uses the documented defaults when the environment sets nothing', () => {
    // Act
    const config = loadServingConfig({});

    // Assess
    expect(config).toMatchObject({
      models: 'default',
      onnxBackend: 'wasm',
      wasmThreads: Math.max(1, availableParallelism()),
      maxBodyBytes: 6 * 1024 * 1024,
      apiKey: undefined,
      warmup: true,
    });
    expect(config.modelsDir).toBe(existsSync('/opt/models') ? '/opt/models' : resolve('layers/models/build/models'));
    expect(config.ortWebDir).toBe(existsSync('/opt/nodejs/node_modules/onnxruntime-web') ? '/opt/nodejs/node_modules/onnxruntime-web' : undefined);
  });

  it('reads every variable when each has a good value', () => {
    // Prepare
    const ortDir = mkdtempSync(join(tmpdir(), 'hotpath-ort-'));

    try {
      // Act
      const config = loadServingConfig({
        HOTPATH_MODELS_DIR: 'some/models',
        HOTPATH_MODELS: ' iris-classifier , silero-vad,',
        HOTPATH_BACKEND: 'native',
        HOTPATH_WASM_THREADS: '3',
        HOTPATH_ORT_WEB_DIR: ortDir,
        HOTPATH_MAX_BODY_BYTES: '1048576',
        HOTPATH_API_KEY: 'secret',
        HOTPATH_WARMUP: 'FALSE',
      });

      // Assess
      expect(config).toMatchObject({
        modelsDir: resolve('some/models'),
        models: ['iris-classifier', 'silero-vad'],
        onnxBackend: 'native',
        wasmThreads: 3,
        ortWebDir: ortDir,
        maxBodyBytes: 1048576,
        apiKey: 'secret',
        warmup: false,
      });
    } finally {
      rmSync(ortDir, { recursive: true, force: true });
    }
  });

  it('takes "*" and "default" for HOTPATH_MODELS, and blank as default', () => {
    // Act
    const all = loadServingConfig({ HOTPATH_MODELS: '*' });
    const byDefault = loadServingConfig({ HOTPATH_MODELS: 'default' });
    const blank = loadServingConfig({ HOTPATH_MODELS: '   ' });

    // Assess
    expect([all.models, byDefault.models, blank.models]).toEqual(['*', 'default', 'default']);
  });

  it.each([
    ['HOTPATH_MODELS', 'iris classifier', "HOTPATH_MODELS: 'iris classifier' is not 'default', '*' or a comma-separated list of model names"],
    ['HOTPATH_MODELS', ',', "HOTPATH_MODELS: ',' is not 'default', '*' or a comma-separated list of model names"],
    ['HOTPATH_MODELS', 'iris,-x', "HOTPATH_MODELS: 'iris,-x' is not 'default', '*' or a comma-separated list of model names"],
    ['HOTPATH_BACKEND', 'gpu', "HOTPATH_BACKEND: 'gpu' is not one of wasm, native"],
    ['HOTPATH_WASM_THREADS', '0', "HOTPATH_WASM_THREADS: '0' is not an integer between 1 and 64"],
    ['HOTPATH_WASM_THREADS', '65', "HOTPATH_WASM_THREADS: '65' is not an integer between 1 and 64"],
    ['HOTPATH_WASM_THREADS', 'two', "HOTPATH_WASM_THREADS: 'two' is not an integer between 1 and 64"],
    ['HOTPATH_WASM_THREADS', '1.5', "HOTPATH_WASM_THREADS: '1.5' is not an integer between 1 and 64"],
    ['HOTPATH_MAX_BODY_BYTES', '1023', "HOTPATH_MAX_BODY_BYTES: '1023' is not an integer between 1024 and 268435456"],
    ['HOTPATH_MAX_BODY_BYTES', '6MB', "HOTPATH_MAX_BODY_BYTES: '6MB' is not an integer between 1024 and 268435456"],
    ['HOTPATH_WARMUP', 'yes', "HOTPATH_WARMUP: 'yes' is not true or false"],
    ['HOTPATH_INIT', 'later', "HOTPATH_INIT: 'later' is not one of eager, lazy"],
  ])('names %s when it is %p', (name, value, message) => {
    // Act
    const error = configError(() => loadServingConfig({ [name]: value }));

    // Assess
    expect(error.message).toBe(message);
    expect(error.status).toBe(500);
    expect(error.expose).toBe(false);
  });

  it('names HOTPATH_ORT_WEB_DIR and the folder when the folder does not exist', () => {
    // Prepare
    const missing = join(tmpdir(), 'hotpath-no-such-folder-4f1c');

    // Act
    const error = configError(() => loadServingConfig({ HOTPATH_ORT_WEB_DIR: missing }));

    // Assess
    expect(error.message).toBe(`HOTPATH_ORT_WEB_DIR: folder '${missing}' does not exist`);
  });

  it('prefers explicit overrides to the environment, without reading the overridden variable', () => {
    // Act
    const config = loadServingConfig({ HOTPATH_BACKEND: 'gpu', HOTPATH_WASM_THREADS: 'x', HOTPATH_WARMUP: 'true' }, { onnxBackend: 'native', wasmThreads: 2, warmup: false });

    // Assess
    expect(config).toMatchObject({ onnxBackend: 'native', wasmThreads: 2, warmup: false });
  });

  it('treats a blank HOTPATH_API_KEY as no key', () => {
    // Act
    const config = loadServingConfig({ HOTPATH_API_KEY: '  ' });

    // Assess
    expect(config.apiKey).toBeUndefined();
  });

  describe('wasm threads from Lambda memory (1 vCPU per 1,769 MB)', () => {
    it.each([
      ['128', 1],
      ['1769', 1],
      ['3537', 1],
      ['3538', 2],
      ['5307', 3],
      ['8845', 5],
      // 10,240 MB is 5.79 vCPUs' worth: the whole ones, not an oversubscribed 6th thread.
      ['10240', 5],
    ])('gives %s MB %i threads', (memory, threads) => {
      // Act
      const config = loadServingConfig({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: memory });

      // Assess
      expect(config.wasmThreads).toBe(threads);
    });

    it('caps at 6 threads when an emulator reports more memory than Lambda allows', () => {
      // Act
      const config = loadServingConfig({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '20000' });

      // Assess
      expect(config.wasmThreads).toBe(6);
    });

    it('uses the available cores when the memory size is not a positive number', () => {
      // Act
      const threads = ['abc', '0', '-5'].map((memory) => loadServingConfig({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: memory }).wasmThreads);

      // Assess
      expect(threads).toEqual([1, 1, 1].map(() => Math.max(1, availableParallelism())));
    });

    it('lets HOTPATH_WASM_THREADS override the memory-derived count', () => {
      // Act
      const config = loadServingConfig({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '10240', HOTPATH_WASM_THREADS: '1' });

      // Assess
      expect(config.wasmThreads).toBe(1);
    });
  });

  describe('HOTPATH_KERNEL_SIMD', () => {
    it('defaults to auto and reads simd', () => {
      // Act
      const byDefault = loadServingConfig({}).kernelSimd;
      const plain = loadServingConfig({ HOTPATH_KERNEL_SIMD: 'simd' }).kernelSimd;

      // Assess
      expect([byDefault, plain]).toEqual(['auto', 'simd']);
    });

    it('refuses a value that is not auto, simd or relaxed-simd', () => {
      // Act
      const error = configError(() => loadServingConfig({ HOTPATH_KERNEL_SIMD: 'avx512' }));

      // Assess
      expect(error.message).toBe("HOTPATH_KERNEL_SIMD: 'avx512' is not one of auto, simd, relaxed-simd");
    });

    it('accepts relaxed-simd exactly when the engine supports it, naming the variable otherwise', () => {
      // Act
      const read = () => loadServingConfig({ HOTPATH_KERNEL_SIMD: 'relaxed-simd' }).kernelSimd;

      // Assess
      if (engineSupportsRelaxedSimd()) expect(read()).toBe('relaxed-simd');
      else expect(configError(read).message).toMatch(/^HOTPATH_KERNEL_SIMD: 'relaxed-simd' needs an engine with relaxed SIMD/);
    });
  });
});
