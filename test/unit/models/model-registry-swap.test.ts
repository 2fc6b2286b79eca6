import type { BackendSession, InferenceBackend } from '../../../lib/backends/inference-backend';
import { NotFoundError } from '../../../lib/errors/hotpath-error';
import type { ManifestModel } from '../../../lib/models/model-manifest-types';
import { ModelRegistry, type RegisteredModel } from '../../../lib/models/model-registry';
import { replaceModelVersions } from '../../../lib/models/model-registry-swap';

const NOT_LOADED = { loadMs: 0, warmupMs: 0, readMs: 0, verifyMs: 0, sessionMs: 0 } as const;
const backend = { route: 'local-test' } as unknown as InferenceBackend;

function entry(name: string, version: string, ready = true): RegisteredModel {
  const manifest = { name, version, platform: 'onnx_onnxv1', file: `${name}/${version}/model.onnx`, sha256: '0'.repeat(64), bytes: 1, inputs: [], outputs: [] } as unknown as ManifestModel;
  const session = { inputs: [], outputs: [], run: async () => [], dispose: async () => {} } as BackendSession;
  return { manifest, selected: true, state: ready ? { ready: true, session, backend } : { ready: false, reason: 'refused' }, ...NOT_LOADED };
}

const labels = (registry: ModelRegistry) => registry.entries.map((e) => `${e.manifest.name}@${e.manifest.version}`);

describe('replaceModelVersions', () => {
  const a1 = entry('a', '1');
  const b1 = entry('b', '1');
  const b2 = entry('b', '2', false);
  const c1 = entry('c', '1');
  const registry = new ModelRegistry([a1, b1, b2, c1]);

  it('puts the new versions where the old ones stood and retires only the old ready sessions', () => {
    const b3 = entry('b', '3');

    const { registry: next, retired } = replaceModelVersions(registry, 'b', [b3]);

    expect(labels(next)).toEqual(['a@1', 'b@3', 'c@1']);
    expect(retired).toEqual([b1.state.ready && b1.state.session]);
    expect(labels(registry)).toEqual(['a@1', 'b@1', 'b@2', 'c@1']);
  });

  it('appends a model it did not have and retires nothing', () => {
    const { registry: next, retired } = replaceModelVersions(registry, 'd', [entry('d', '1')]);

    expect(labels(next)).toEqual(['a@1', 'b@1', 'b@2', 'c@1', 'd@1']);
    expect(retired).toEqual([]);
  });

  it('answers a removed model with its absence reason until it is back, other unknown names as before', () => {
    const { registry: without } = replaceModelVersions(registry, 'a', [], "model 'a' was unloaded");
    const { registry: alsoWithoutC } = replaceModelVersions(without, 'c', []);
    const { registry: back } = replaceModelVersions(alsoWithoutC, 'a', [entry('a', '2')]);

    expect(() => without.find('a')).toThrow(new NotFoundError("model 'a' was unloaded"));
    expect(() => alsoWithoutC.find('a')).toThrow("model 'a' was unloaded");
    expect(() => alsoWithoutC.find('c')).toThrow("model 'c' is not served here");
    expect(back.find('a').manifest.version).toBe('2');
    expect(back).toBeInstanceOf(ModelRegistry);
    expect(() => back.find('zzz')).toThrow("model 'zzz' is not served here");
  });
});
