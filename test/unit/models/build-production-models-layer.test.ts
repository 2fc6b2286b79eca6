import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildProductionModelsLayer, servedModelsFromEnvironment } from '../../../layers/models/build-production-models-layer';
import type { ManifestModel, ModelManifest } from '../../../lib/models/model-manifest-types';

function model(name: string, version: string, serveByDefault: boolean): ManifestModel {
  return {
    name, version, platform: 'onnx_onnxv1', file: `${name}/${version}/model.onnx`, sha256: '0'.repeat(64), bytes: 4,
    inputs: [], outputs: [], maxBatchSize: 1, serveByDefault, description: name,
  } as unknown as ManifestModel;
}

describe('buildProductionModelsLayer', () => {
  let root: string;
  let source: string;
  let layer: string;
  const manifest: ModelManifest = { schemaVersion: 1, models: [model('iris', '1', true), model('iris', '2', true), model('vad', '1', true), model('mlp', '1', false)] };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'hotpath-production-layer-'));
    source = join(root, 'build', 'models');
    layer = join(root, 'build-production');
    for (const m of manifest.models) {
      mkdirSync(dirname(join(source, m.file)), { recursive: true });
      writeFileSync(join(source, m.file), m.name);
    }
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const files = (dir: string): string[] =>
    existsSync(dir) ? readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(dir, f)).isFile()).sort() : [];

  it('holds only the serveByDefault models, linked from the build, and a manifest listing exactly those', () => {
    // Act
    const { manifest: written, bytes } = buildProductionModelsLayer({ manifest, sourceModelsDir: source, layerDir: layer, selection: 'default' });

    // Assess
    expect(files(join(layer, 'models'))).toEqual(['iris/1/model.onnx', 'iris/2/model.onnx', 'manifest.json', 'vad/1/model.onnx']);
    expect(JSON.parse(readFileSync(join(layer, 'models', 'manifest.json'), 'utf8'))).toEqual({ schemaVersion: 1, models: manifest.models.slice(0, 3) });
    expect(written.models.map((m) => `${m.name}@${m.version}`)).toEqual(['iris@1', 'iris@2', 'vad@1']);
    expect(bytes).toBe(12);
    expect(statSync(join(layer, 'models', 'vad/1/model.onnx')).ino).toBe(statSync(join(source, 'vad/1/model.onnx')).ino);
    expect(JSON.parse(readFileSync(join(layer, 'selection.json'), 'utf8'))).toEqual({ HOTPATH_MODELS: 'default', models: ['iris@1', 'iris@2', 'vad@1'] });
  });

  it('removes what a previous selection left when the selection changes', () => {
    // Prepare
    buildProductionModelsLayer({ manifest, sourceModelsDir: source, layerDir: layer, selection: 'default' });

    // Act
    buildProductionModelsLayer({ manifest, sourceModelsDir: source, layerDir: layer, selection: ['mlp'] });

    // Assess
    expect(files(join(layer, 'models'))).toEqual(['manifest.json', 'mlp/1/model.onnx']);
    expect(existsSync(join(layer, 'models', 'iris'))).toBe(false);
    expect(JSON.parse(readFileSync(join(layer, 'selection.json'), 'utf8'))).toEqual({ HOTPATH_MODELS: 'mlp', models: ['mlp@1'] });
  });

  it('links the new file when the build replaced a model file', () => {
    // Prepare: the full build writes a new file and renames it over the old one (a new inode).
    buildProductionModelsLayer({ manifest, sourceModelsDir: source, layerDir: layer, selection: '*' });
    const file = join(source, 'mlp/1/model.onnx');
    writeFileSync(`${file}.tmp`, 'MLP2');
    renameSync(`${file}.tmp`, file);

    // Act
    buildProductionModelsLayer({ manifest, sourceModelsDir: source, layerDir: layer, selection: '*' });

    // Assess
    expect(readFileSync(join(layer, 'models', 'mlp/1/model.onnx'), 'utf8')).toBe('MLP2');
    expect(files(join(layer, 'models'))).toHaveLength(5);
  });

  it('refuses a selection naming a model the manifest does not have, listing those it has', () => {
    expect(() => buildProductionModelsLayer({ manifest, sourceModelsDir: source, layerDir: layer, selection: ['iris', 'ghost'] })).toThrow(
      "HOTPATH_MODELS names 'ghost', which the manifest does not have; it has iris, vad, mlp",
    );
  });
});

describe('servedModelsFromEnvironment', () => {
  it('parses HOTPATH_MODELS as the config module does, default when unset', () => {
    expect(servedModelsFromEnvironment({})).toBe('default');
    expect(servedModelsFromEnvironment({ HOTPATH_MODELS: '*' })).toBe('*');
    expect(servedModelsFromEnvironment({ HOTPATH_MODELS: ' iris-classifier, mlp-medium ' })).toEqual(['iris-classifier', 'mlp-medium']);
    expect(() => servedModelsFromEnvironment({ HOTPATH_MODELS: 'bad name!' })).toThrow(/HOTPATH_MODELS/);
  });
});
