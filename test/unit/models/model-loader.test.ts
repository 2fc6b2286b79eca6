import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { KernelBackend } from '../../../lib/backends/kernel-backend';
import { WasmBackend } from '../../../lib/backends/wasm-backend';
import { readModelManifest } from '../../../lib/models/model-manifest';
import type { ManifestModel, ModelManifest } from '../../../lib/models/model-manifest-types';
import { loadModelRegistry, type ModelRegistryLogger } from '../../../lib/models/model-loader';
import type { ModelRegistry } from '../../../lib/models/model-registry';

const BUILT_MODELS = resolve('layers/models/build/models');

interface LogRecord {
  readonly level: 'info' | 'error';
  readonly message: string;
  readonly extra: Record<string, unknown>[];
}

/** A logger that keeps what it was told, so tests can read the refusal reasons. */
class RecordingLogger implements ModelRegistryLogger {
  readonly records: LogRecord[] = [];
  info(message: string, ...extra: Record<string, unknown>[]): void {
    this.records.push({ level: 'info', message, extra });
  }
  error(message: string, ...extra: Record<string, unknown>[]): void {
    this.records.push({ level: 'error', message, extra });
  }
  messages(level: 'info' | 'error'): string[] {
    return this.records.filter((r) => r.level === level).map((r) => r.message);
  }
}

function builtManifest(): ModelManifest {
  const path = join(BUILT_MODELS, 'manifest.json');
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build:layers\` first`);
  return JSON.parse(readFileSync(path, 'utf8')) as ModelManifest;
}

function irisWith(base: ManifestModel, name: string, version: string, overrides: Partial<ManifestModel> = {}): ManifestModel {
  return { ...base, name, version, file: `${name}/${version}/model.onnx`, ...overrides };
}

/** Copies (or links, for large files) a built model file to `file` under `dir`. */
function placeModel(dir: string, source: ManifestModel, file: string, link = false): void {
  const target = join(dir, file);
  mkdirSync(dirname(target), { recursive: true });
  if (link) symlinkSync(join(BUILT_MODELS, source.file), target);
  else copyFileSync(join(BUILT_MODELS, source.file), target);
}

const SETOSA = new Float32Array([5.1, 3.5, 1.4, 0.2]);
const VIRGINICA = new Float32Array([6.7, 3.0, 5.2, 2.3]);

describe('model-loader', () => {
  const built = builtManifest();
  const iris = built.models.find((m) => m.name === 'iris-classifier')!;
  const vad = built.models.find((m) => m.name === 'silero-vad')!;
  const backend = new WasmBackend({ ortWebDir: undefined, numThreads: 1 });
  const backendFor = (platform: string) => (backend.platforms.includes(platform as 'onnx_onnxv1') ? backend : undefined);

  let dir: string;
  let registry: ModelRegistry;
  const logger = new RecordingLogger();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hotpath-registry-'));
    const models: ManifestModel[] = [
      irisWith(iris, 'iris-classifier', '1'),
      irisWith(iris, 'iris-classifier', '2'),
      irisWith(iris, 'iris-classifier', '10', { sha256: '0'.repeat(64) }),
      irisWith(iris, 'iris-bad-sha', '1', { sha256: 'f'.repeat(64) }),
      irisWith(iris, 'iris-bad-shape', '1', { inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 5] }] }),
      irisWith(iris, 'iris-bad-datatype', '1', { inputs: [{ name: 'input', datatype: 'FP64', shape: [-1, 4] }] }),
      irisWith(iris, 'iris-bad-output', '1', { outputs: [{ name: 'label', datatype: 'INT32', shape: [-1] }] }),
      irisWith(iris, 'iris-bad-input-name', '1', { inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 4] }] }),
      irisWith(iris, 'iris-bad-bytes', '1', { bytes: iris.bytes + 1 }),
      irisWith(iris, 'iris-no-backend', '1', { platform: 'tensorflow_savedmodel' }),
      irisWith(iris, 'iris-missing-file', '1'),
      irisWith(iris, 'iris-bad-warmup', '1', { warmupShapes: { input: [1, 5] } }),
      irisWith(iris, 'iris-narrowed', '1', { inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 4] }] }),
      { ...vad },
      irisWith(iris, 'iris-unselected', '1'),
    ];
    for (const model of models) {
      if (model.name === 'iris-missing-file') continue;
      placeModel(dir, model.name === 'silero-vad' ? vad : iris, model.file, model.name === 'silero-vad');
    }
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ schemaVersion: 1, models }));
    const manifest = await readModelManifest(dir);
    const selection = models.map((m) => m.name).filter((name) => name !== 'iris-unselected');
    registry = await loadModelRegistry({ modelsDir: dir, manifest, selection: [...new Set(selection), 'ghost'], backendFor, warmup: true, logger });
  });

  afterAll(async () => {
    await registry?.dispose();
    await backend.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function reasonOf(name: string, version = '1'): string {
    const state = registry.find(name, version).state;
    if (state.ready) throw new Error(`${name}@${version} is ready`);
    return state.reason;
  }

  describe('loading with the real wasm backend', () => {
    it('makes the good models ready and runs them when the others are refused', async () => {
      // Prepare
      const entry = registry.findReady('iris-classifier', '1');

      // Act
      const outputs = await entry.state.session.run([{ name: 'input', datatype: 'FP32', shape: [2, 4], data: Float32Array.from([...SETOSA, ...VIRGINICA]) }]);

      // Assess
      const label = outputs.find((o) => o.name === 'label')!;
      expect(Array.from(label.data as BigInt64Array)).toEqual([0n, 2n]);
      expect(registry.findReady('silero-vad').state.ready).toBe(true);
      expect(registry.findReady('iris-narrowed').state.ready).toBe(true);
      expect(logger.messages('info')).toEqual(expect.arrayContaining([
        "model 'iris-classifier@1' ready", "model 'iris-classifier@2' ready", "model 'silero-vad@1' ready",
      ]));
    });

    it('refuses a model whose sha256 is wrong, naming both hashes', () => {
      // Act
      const reason = reasonOf('iris-bad-sha');

      // Assess
      expect(reason).toBe(`model 'iris-bad-sha@1': sha256 of the file is ${iris.sha256}, manifest says ${'f'.repeat(64)}`);
    });

    it('refuses a model whose declared shape contradicts the file', () => {
      // Act
      const reason = reasonOf('iris-bad-shape');

      // Assess
      expect(reason).toBe("model 'iris-bad-shape@1': input 'input' has shape [-1,4] in the file, manifest says [-1,5]");
    });

    it('refuses a model whose declared input or output datatype is wrong', () => {
      // Act
      const input = reasonOf('iris-bad-datatype');
      const output = reasonOf('iris-bad-output');

      // Assess
      expect(input).toBe("model 'iris-bad-datatype@1': input 'input' is FP32 in the file, manifest says FP64");
      expect(output).toBe("model 'iris-bad-output@1': output 'label' is INT64 in the file, manifest says INT32");
    });

    it('refuses a model whose input names differ from the file', () => {
      // Act
      const reason = reasonOf('iris-bad-input-name');

      // Assess
      expect(reason).toBe("model 'iris-bad-input-name@1': manifest declares input 'features', the file has input");
    });

    it('refuses a model whose size is wrong, whose file is missing or whose platform no backend serves', () => {
      // Act
      const reasons = [reasonOf('iris-bad-bytes'), reasonOf('iris-missing-file'), reasonOf('iris-no-backend')];

      // Assess
      expect(reasons).toEqual([
        `model 'iris-bad-bytes@1': file has ${iris.bytes} bytes, manifest says ${iris.bytes + 1}`,
        "model 'iris-missing-file@1': file 'iris-missing-file/1/model.onnx' in the models dir cannot be read (ENOENT)",
        "model 'iris-no-backend@1': no backend serves platform 'tensorflow_savedmodel'",
      ]);
    });

    it('gives not-ready reasons without the absolute path of the models dir', () => {
      // Prepare
      const refused = registry.entries.filter((e) => e.selected && !e.state.ready);

      // Act
      const reasons = refused.map((e) => (e.state as { reason: string }).reason);

      // Assess
      expect(reasons).toHaveLength(10);
      for (const reason of reasons) expect(reason).not.toContain(dir);
      expect(reasons.join('\n')).not.toMatch(/(^|[\s'(])\/(tmp|work|opt|home)\//);
    });

    it('refuses a model whose warm-up run fails, with the runtime\'s reason', () => {
      // Act
      const reason = reasonOf('iris-bad-warmup');
      const logged = logger.messages('error').find((m) => m.startsWith("model 'iris-bad-warmup@1' refused: "));

      // Assess
      expect(reason).toContain('Got invalid dimensions for input: input');
      expect(logged).toBe(`model 'iris-bad-warmup@1' refused: ${reason}`);
    });

    it('logs each refusal as an error with the reason and the model', () => {
      // Prepare
      const refused = registry.entries.filter((e) => e.selected && !e.state.ready);

      // Act
      const errors = logger.records.filter((r) => r.level === 'error' && r.message.includes('refused'));

      // Assess
      expect(errors.map((r) => r.message)).toEqual(
        refused.map((e) => `model '${e.manifest.name}@${e.manifest.version}' refused: ${(e.state as { reason: string }).reason}`),
      );
      expect(errors.map((r) => r.extra[0]!.model)).toEqual(refused.map((e) => e.manifest.name));
      expect(refused.map((e) => `${e.manifest.name}@${e.manifest.version}`).sort()).toEqual([
        'iris-bad-bytes@1', 'iris-bad-datatype@1', 'iris-bad-input-name@1', 'iris-bad-output@1', 'iris-bad-sha@1',
        'iris-bad-shape@1', 'iris-bad-warmup@1', 'iris-classifier@10', 'iris-missing-file@1', 'iris-no-backend@1',
      ]);
    });

    it('logs a selected name the manifest does not have', () => {
      // Act
      const errors = logger.messages('error');

      // Assess
      expect(errors).toContain("HOTPATH_MODELS names model 'ghost', which the manifest does not have");
    });

    it('lists an unselected model as not loaded without counting it against readiness', () => {
      // Prepare
      const everySelectedReady = registry.entries.filter((e) => e.selected).every((e) => e.state.ready);

      // Act
      const entry = registry.find('iris-unselected');

      // Assess
      expect(entry.selected).toBe(false);
      expect(entry.state).toEqual({ ready: false, reason: 'not loaded on this instance (see HOTPATH_MODELS)' });
      expect(registry.allSelectedReady()).toBe(everySelectedReady);
      expect(registry.allSelectedReady()).toBe(false);
    });
  });

  describe('selection', () => {
    it('loads only the serveByDefault models when the selection is default', async () => {
      // Prepare
      const models = [irisWith(iris, 'a', '1', { serveByDefault: true }), irisWith(iris, 'b', '1', { serveByDefault: false })];
      for (const model of models) placeModel(dir, iris, model.file);
      const local = new RecordingLogger();

      // Act
      const selected = await loadModelRegistry({ modelsDir: dir, manifest: { schemaVersion: 1, models }, selection: 'default', backendFor, warmup: false, logger: local });

      // Assess
      try {
        expect(selected.entries.map((e) => [e.manifest.name, e.selected, e.state.ready])).toEqual([['a', true, true], ['b', false, false]]);
        expect(selected.entries[0]!.warmupMs).toBe(0);
        expect(selected.allSelectedReady()).toBe(true);
      } finally {
        await selected.dispose();
      }
    });
  });
  describe('not-ready reasons', () => {
    it('cuts the models dir off a path a backend quotes in its refusal', async () => {
      // Prepare: a kernel artifact with a suffix no kernel model kind takes.
      const bytes = new TextEncoder().encode('not a kernel artifact');
      const file = 'kernel-odd/1/model.bin';
      mkdirSync(join(dir, 'kernel-odd', '1'), { recursive: true });
      writeFileSync(join(dir, file), bytes);
      const model: ManifestModel = {
        ...iris, name: 'kernel-odd', version: '1', platform: 'hotpath_kernel', file, bytes: bytes.byteLength,
        sha256: createHash('sha256').update(bytes).digest('hex'), optimized: undefined,
      };
      const kernels = new KernelBackend();

      // Act
      const loaded = await loadModelRegistry({
        modelsDir: dir, manifest: { schemaVersion: 1, models: [model] }, selection: '*', backendFor: () => kernels, warmup: false, logger: new RecordingLogger(),
      });

      // Assess
      const state = loaded.find('kernel-odd').state;
      expect(state.ready).toBe(false);
      expect((state as { reason: string }).reason).toMatch(/^model 'kernel-odd': no kernel model kind for artifact kernel-odd\/1\/model\.bin; expected a file ending in /);
      expect((state as { reason: string }).reason).not.toContain(dir);
    });
  });
});
