import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildProductionModelsLayer } from '../../../layers/models/build-production-models-layer';
import { moveModelsToS3 } from '../../../layers/models/model-repository/s3-models';
import { parseModelManifest } from '../../../lib/models/model-manifest';
import type { ManifestModel, ModelManifest } from '../../../lib/models/model-manifest-types';

function model(name: string, version: string): ManifestModel {
  return {
    name, version, platform: 'onnx_onnxv1', file: `${name}/${version}/model.onnx`, sha256: '0'.repeat(64), bytes: name.length,
    inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 1] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }], maxBatchSize: 1, serveByDefault: true,
  };
}

describe('build:layers --s3-models (moveModelsToS3)', () => {
  let root: string;
  let source: string;
  const manifest: ModelManifest = { schemaVersion: 1, models: [model('iris', '1'), model('text-detector', '1'), model('text-detector', '2')] };
  const files = (dir: string): string[] =>
    existsSync(dir) ? readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(dir, f)).isFile()).sort() : [];

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'hotpath-s3-build-'));
    source = join(root, 'build', 'models');
    for (const m of manifest.models) {
      mkdirSync(dirname(join(source, m.file)), { recursive: true });
      writeFileSync(join(source, m.file), m.name);
    }
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('gives every version of the named models the s3Prefix, puts their files under their keys for upload, and leaves them out of the layer', () => {
    // prepare
    const uploadDir = join(root, 'build', 's3-upload');
    mkdirSync(join(uploadDir, 'old', '1'), { recursive: true });
    writeFileSync(join(uploadDir, 'old', '1', 'model.onnx'), 'from an earlier build');
    const lines: string[] = [];

    // act
    const moved = moveModelsToS3(manifest, { names: ['text-detector'], prefix: 's3://my-models/v1', sourceModelsDir: source, uploadDir, log: (l) => lines.push(l) });
    const layer = buildProductionModelsLayer({ manifest: moved.manifest, sourceModelsDir: source, layerDir: join(root, 'layer'), selection: '*' });

    // assess
    expect(moved.manifest.models.map((m) => m.s3Prefix)).toEqual([undefined, 's3://my-models/v1/', 's3://my-models/v1/']);
    expect(lines[0]).toBe('text-detector@1: served from s3://my-models/v1/text-detector/1/model.onnx (0.00 MB, downloaded into /tmp at INIT)');
    expect(files(uploadDir)).toEqual(['text-detector/1/model.onnx', 'text-detector/2/model.onnx']);
    expect(files(join(root, 'layer', 'models'))).toEqual(['iris/1/model.onnx', 'manifest.json']);
    const deployed = parseModelManifest(JSON.parse(readFileSync(join(root, 'layer', 'models', 'manifest.json'), 'utf8')));
    expect(deployed.models.filter((m) => m.s3Prefix !== undefined).map((m) => `${m.name}@${m.version}`)).toEqual(['text-detector@1', 'text-detector@2']);
    expect(layer.bytes).toBe('iris'.length);
    expect(moved.uploadCommand).toMatch(/^aws s3 cp \S*s3-upload s3:\/\/my-models\/v1\/ --recursive$/);
    expect(lines.at(-1)).toBe(`  ${moved.uploadCommand}`);
    expect(lines.some((l) => l.includes('s3:GetObject on arn:aws:s3:::my-models/v1/*'))).toBe(true);
  });

  it('refuses a name the build does not have, and a prefix that is not s3://bucket/...', () => {
    const options = { prefix: 's3://my-models/', sourceModelsDir: source, uploadDir: join(root, 'up') };
    expect(() => moveModelsToS3(manifest, { ...options, names: ['txt-detector'] })).toThrow("--s3-models names 'txt-detector', which the build does not have; it has iris, text-detector");
    expect(() => moveModelsToS3(manifest, { ...options, names: ['iris'], prefix: 'my-models/v1' })).toThrow("--s3-prefix 'my-models/v1' is not s3://bucket/ or s3://bucket/prefix/");
    expect(() => moveModelsToS3(manifest, { ...options, names: ['iris'], prefix: 's3://my-models//v1/' })).toThrow('is not s3://bucket/');
  });

  it('uploads a kernel plan\'s file beside the ONNX file, so whichever the instance serves is in S3', () => {
    const kernelFile = 'text-detector/1/model.feed-forward.bin';
    writeFileSync(join(source, kernelFile), 'plan');
    const withPlan: ModelManifest = { schemaVersion: 1, models: [{ ...model('text-detector', '1'), kernel: { executor: 'feed-forward', file: kernelFile, sha256: '1'.repeat(64), bytes: 4, reason: 'test' } }] };
    const uploadDir = join(root, 'up');

    moveModelsToS3(withPlan, { names: ['text-detector'], prefix: 's3://my-models/', sourceModelsDir: source, uploadDir });

    expect(files(uploadDir)).toEqual([kernelFile, 'text-detector/1/model.onnx']);
  });

  it('refuses a manifest s3Prefix that is not s3://bucket/prefix/', () => {
    for (const bad of ['https://bucket/', 's3://bucket/key']) {
      expect(() => parseModelManifest({ schemaVersion: 1, models: [{ ...model('iris', '1'), s3Prefix: bad }] })).toThrow(`"s3Prefix" must be s3://bucket/ or s3://bucket/prefix/ (ending in /), got "${bad}"`);
    }
  });
});
