import type { BackendSession, InferenceBackend } from '../../../lib/backends/inference-backend';
import { ModelNotReadyError, NotFoundError } from '../../../lib/errors/hotpath-error';
import type { ManifestModel } from '../../../lib/models/model-manifest-types';
import { ModelRegistry, type ModelState, type RegisteredModel } from '../../../lib/models/model-registry';

const NOT_LOADED = { loadMs: 0, warmupMs: 0, readMs: 0, verifyMs: 0, sessionMs: 0 } as const;

/** A session that records whether it was disposed; lookups never run it. */
function fakeSession(): BackendSession & { disposed: boolean } {
  return {
    inputs: [], outputs: [], disposed: false,
    async run() {
      throw new Error('lookups do not run sessions');
    },
    async dispose() {
      this.disposed = true;
    },
  };
}

const backend = { route: 'local-test' } as unknown as InferenceBackend;

function entry(name: string, version: string, state: 'ready' | string, selected = true): RegisteredModel {
  const manifest = { name, version, platform: 'onnx_onnxv1', file: `${name}/${version}/model.onnx`, sha256: '0'.repeat(64), bytes: 1, inputs: [], outputs: [] } as unknown as ManifestModel;
  const modelState: ModelState = state === 'ready' ? { ready: true, session: fakeSession(), backend } : { ready: false, reason: state };
  return { manifest, selected, state: modelState, ...NOT_LOADED };
}

describe('model-registry', () => {
  const registry = new ModelRegistry([
    entry('iris-classifier', '1', 'ready'),
    entry('iris-classifier', '2', 'ready'),
    entry('iris-classifier', '10', "model 'iris-classifier@10': sha256 of the file is a, manifest says b"),
    entry('iris-bad-shape', '1', "model 'iris-bad-shape@1': input 'input' has shape [-1,4] in the file, manifest says [-1,5]"),
    entry('iris-unselected', '1', 'not loaded on this instance (see HOTPATH_MODELS)', false),
  ]);

  describe('find', () => {
    it('picks the newest ready version when no version is asked for', () => {
      // Act
      const found = registry.find('iris-classifier');

      // Assess
      expect(found.manifest.version).toBe('2');
      expect(found.state.ready).toBe(true);
    });

    it('picks the newest version when none is ready', () => {
      // Act
      const found = registry.find('iris-bad-shape');

      // Assess
      expect(found.manifest.version).toBe('1');
      expect(found.state.ready).toBe(false);
    });

    it('gives the asked-for version when it exists, ready or not', () => {
      expect(registry.find('iris-classifier', '1').manifest.version).toBe('1');
      expect(registry.find('iris-classifier', '10').state.ready).toBe(false);
    });

    it('answers 404 listing the versions when the asked-for version does not exist', () => {
      // Act
      const run = () => registry.find('iris-classifier', '3');

      // Assess
      expect(run).toThrow(NotFoundError);
      expect(run).toThrow("model 'iris-classifier' has no version '3'; its versions are: 1, 2, 10");
    });

    it('answers 404 when the model is unknown', () => {
      // Act
      const run = () => registry.find('ghost');

      // Assess
      expect(run).toThrow(NotFoundError);
      expect(run).toThrow("model 'ghost' is not served here; GET /v2/models lists the models");
    });
  });

  describe('findReady', () => {
    it('gives a ready entry with its session', () => {
      // Act
      const found = registry.findReady('iris-classifier', '1');

      // Assess
      expect(found.state.session.inputs).toEqual([]);
      expect(found.state.backend.route).toBe('local-test');
    });

    it('answers 503 with the reason when the asked-for version is not ready', () => {
      // Act
      const run = () => registry.findReady('iris-classifier', '10');

      // Assess
      expect(run).toThrow(ModelNotReadyError);
      expect(run).toThrow("model 'iris-classifier' version '10' is not ready: model 'iris-classifier@10': sha256 of the file is a, manifest says b");
    });

    it('answers 503 with the reason when no version of the model is ready', () => {
      // Act
      let error: unknown;
      try {
        registry.findReady('iris-bad-shape');
      } catch (caught) {
        error = caught;
      }

      // Assess
      expect(error).toBeInstanceOf(ModelNotReadyError);
      expect((error as ModelNotReadyError).status).toBe(503);
      expect((error as Error).message).toBe(
        "model 'iris-bad-shape' version '1' is not ready: model 'iris-bad-shape@1': input 'input' has shape [-1,4] in the file, manifest says [-1,5]",
      );
    });
  });

  describe('versionsOf', () => {
    it('orders versions numerically, newest first, and gives none for an unknown model', () => {
      expect(registry.versionsOf('iris-classifier')).toEqual(['10', '2', '1']);
      expect(registry.versionsOf('ghost')).toEqual([]);
    });
  });

  describe('allSelectedReady', () => {
    it('is false while a selected model is not ready, and ignores unselected ones', () => {
      // Prepare
      const onlyReadyAndUnselected = new ModelRegistry([entry('a', '1', 'ready'), entry('b', '1', 'not loaded on this instance (see HOTPATH_MODELS)', false)]);

      // Act / Assess
      expect(registry.allSelectedReady()).toBe(false);
      expect(onlyReadyAndUnselected.allSelectedReady()).toBe(true);
    });
  });

  describe('dispose', () => {
    it('disposes the session of every ready entry', async () => {
      // Prepare
      const entries = [entry('a', '1', 'ready'), entry('a', '2', 'refused'), entry('b', '1', 'ready')];
      const local = new ModelRegistry(entries);

      // Act
      await local.dispose();

      // Assess
      const disposed = entries.map((e) => (e.state.ready ? (e.state.session as ReturnType<typeof fakeSession>).disposed : null));
      expect(disposed).toEqual([true, null, true]);
    });
  });
});
