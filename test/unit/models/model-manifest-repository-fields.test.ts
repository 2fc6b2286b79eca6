import { parseModelManifest } from '../../../lib/models/model-manifest';

function manifestWith(fields: Record<string, unknown>): unknown {
  return {
    schemaVersion: 1,
    models: [{
      name: 'm', version: '1', platform: 'onnx_onnxv1', file: 'm/1/model.onnx', sha256: 'a'.repeat(64), bytes: 1,
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 3] }],
      maxBatchSize: 4, serveByDefault: true, ...fields,
    }],
  };
}

describe('model-manifest versionPolicy and parameters', () => {
  it.each([[{ latest: 2 }], [{ all: true }], [{ specific: [1, 3] }]])('accepts versionPolicy %j', (versionPolicy) => {
    expect(parseModelManifest(manifestWith({ versionPolicy })).models[0]!.versionPolicy).toEqual(versionPolicy);
  });

  it.each([[{ latest: 0 }], [{ all: false }], [{ specific: [] }], [{ latest: 1, all: true }], ['latest']])('refuses versionPolicy %j', (versionPolicy) => {
    expect(() => parseModelManifest(manifestWith({ versionPolicy }))).toThrow('"versionPolicy" must be {"latest": n >= 1}, {"all": true} or {"specific": [versions]}');
  });

  it('accepts string parameters and refuses others', () => {
    expect(parseModelManifest(manifestWith({ parameters: { owner: 'ml' } })).models[0]!.parameters).toEqual({ owner: 'ml' });
    expect(() => parseModelManifest(manifestWith({ parameters: { n: 1 } }))).toThrow('"parameters" must be an object of string values');
  });
});
