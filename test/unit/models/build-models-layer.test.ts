import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModelsLayer } from '../../../layers/models/build-models-layer';
import type { ModelArtifactSpec } from '../../../layers/models/model-artifact-spec';
import { readPinnedFile } from '../../../layers/models/model-builders/pinned-file-artifact';
import { writeOnnxGraph } from '../../../layers/models/onnx-graph-writer';

function identityGraph(width: number): Uint8Array {
  return writeOnnxGraph({
    name: 'identity',
    inputs: [{ name: 'input', type: 'FP32', shape: ['batch', width] }],
    outputs: [{ name: 'output', type: 'FP32', shape: ['batch', width] }],
    initializers: [],
    nodes: [{ op: 'Identity', inputs: ['input'], outputs: ['output'] }],
  });
}

describe('buildModelsLayer', () => {
  let root: string;
  let builds: string[];

  function onnxSpec(width = 4, declaredWidth = width): ModelArtifactSpec {
    return {
      name: 'identity',
      version: '1',
      platform: 'onnx_onnxv1',
      file: 'model.onnx',
      fingerprint: { sourceFiles: [__filename], params: { width } },
      build: () => {
        builds.push('identity');
        return { bytes: identityGraph(width), metrics: { width } };
      },
      manifest: {
        inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, declaredWidth] }],
        outputs: [{ name: 'output', datatype: 'FP32', shape: [-1, width] }],
        maxBatchSize: 8,
        serveByDefault: true,
      },
    };
  }

  /** A kernel-served model: one list entry with a small binary artifact and no ONNX signature check. */
  const kernelSpec: ModelArtifactSpec = {
    name: 'kmeans-assign',
    version: '1',
    platform: 'hotpath_kernel',
    file: 'centroids.bin',
    fingerprint: { sourceFiles: [__filename], params: { k: 2, dims: 2 } },
    build: () => {
      builds.push('kmeans-assign');
      return { bytes: new Uint8Array(Float32Array.from([0, 0, 1, 1]).buffer) };
    },
    manifest: {
      inputs: [{ name: 'points', datatype: 'FP32', shape: [-1, 2] }],
      outputs: [{ name: 'cluster', datatype: 'INT32', shape: [-1] }],
      maxBatchSize: 4096,
      serveByDefault: false,
      metrics: { clusters: 2 },
    },
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'hotpath-models-'));
    builds = [];
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const options = (specs: ModelArtifactSpec[], force = false) => ({ specs, modelsDir: join(root, 'models'), cacheFile: join(root, 'cache.json'), force });

  it('writes each artifact and a manifest with its sha256, size and measured metrics', async () => {
    // Act
    const { manifest } = await buildModelsLayer(options([onnxSpec(), kernelSpec]));

    // Assess
    const onDisk = JSON.parse(readFileSync(join(root, 'models', 'manifest.json'), 'utf8'));
    expect(onDisk).toEqual(manifest);
    const bytes = readFileSync(join(root, 'models', 'identity', '1', 'model.onnx'));
    expect(manifest.models[0]).toMatchObject({
      name: 'identity', version: '1', platform: 'onnx_onnxv1', file: 'identity/1/model.onnx',
      sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.byteLength, metrics: { width: 4 },
    });
    expect(manifest.models[1]).toMatchObject({ name: 'kmeans-assign', file: 'kmeans-assign/1/centroids.bin', bytes: 16, metrics: { clusters: 2 } });
  });

  it('ships an ONNX graph optimised by onnxruntime when the spec asks, and says so in the manifest', async () => {
    // Prepare: Identity → Identity, which the basic level removes.
    const spec: ModelArtifactSpec = {
      ...onnxSpec(),
      optimize: 'extended',
      build: () => ({
        bytes: writeOnnxGraph({
          name: 'double-identity',
          inputs: [{ name: 'input', type: 'FP32', shape: ['batch', 4] }],
          outputs: [{ name: 'output', type: 'FP32', shape: ['batch', 4] }],
          initializers: [],
          nodes: [{ op: 'Identity', inputs: ['input'], outputs: ['middle'] }, { op: 'Relu', inputs: ['middle'], outputs: ['output'] }],
        }),
      }),
    };

    // Act
    const { manifest } = await buildModelsLayer(options([spec, kernelSpec]));

    // Assess: the manifest describes the file as shipped.
    const bytes = readFileSync(join(root, 'models', 'identity', '1', 'model.onnx'));
    expect(manifest.models[0]).toMatchObject({ optimized: 'extended', sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.byteLength });
    expect(Buffer.from(bytes).includes(Buffer.from('Identity'))).toBe(false);
    expect(manifest.models[1]!.optimized).toBeUndefined();
  });

  it('refuses to optimise an artifact that is not an ONNX graph', async () => {
    // Act + Assess
    await expect(buildModelsLayer(options([{ ...kernelSpec, optimize: 'basic' }]))).rejects.toThrow("model 'kmeans-assign': only ONNX artifacts can be optimized");
  });

  it('skips artifacts whose fingerprint, size and mtime are unchanged', async () => {
    // Prepare
    await buildModelsLayer(options([onnxSpec(), kernelSpec]));
    const mtime = statSync(join(root, 'models', 'identity', '1', 'model.onnx')).mtimeMs;

    // Act
    const { reports, manifest } = await buildModelsLayer(options([onnxSpec(), kernelSpec]));

    // Assess
    expect(builds).toEqual(['identity', 'kmeans-assign']);
    expect(reports.map((r) => r.rebuilt)).toEqual([false, false]);
    expect(manifest.models[0]!.metrics).toEqual({ width: 4 });
    expect(statSync(join(root, 'models', 'identity', '1', 'model.onnx')).mtimeMs).toBe(mtime);
  });

  it('rebuilds when the parameters change, the file was touched, or force is set', async () => {
    // Prepare
    await buildModelsLayer(options([onnxSpec(4)]));

    // Act
    await buildModelsLayer(options([onnxSpec(5)]));
    writeFileSync(join(root, 'models', 'identity', '1', 'model.onnx'), 'corrupted');
    await buildModelsLayer(options([onnxSpec(5)]));
    await buildModelsLayer(options([onnxSpec(5)], true));

    // Assess
    expect(builds).toEqual(['identity', 'identity', 'identity', 'identity']);
  });

  it('fails, naming both, when the manifest declares a signature the ONNX file does not have', async () => {
    // Act / Assess
    await expect(buildModelsLayer(options([onnxSpec(4, 3)]))).rejects.toThrow(
      "model 'identity': the manifest declares inputs (input FP32 [-1,3]) outputs (output FP32 [-1,4]) but the ONNX file declares inputs (input FP32 [-1,4])",
    );
  });

  it('removes the folders of models that are no longer listed', async () => {
    // Prepare
    await buildModelsLayer(options([onnxSpec(), kernelSpec]));

    // Act
    await buildModelsLayer(options([onnxSpec()]));

    // Assess
    expect(existsSync(join(root, 'models', 'kmeans-assign'))).toBe(false);
    expect(existsSync(join(root, 'models', 'identity', '1', 'model.onnx'))).toBe(true);
  });

  it('refuses a model listed twice', async () => {
    // Act / Assess
    await expect(buildModelsLayer(options([onnxSpec(), onnxSpec()]))).rejects.toThrow("model 'identity/1' is listed twice");
  });
});

describe('readPinnedFile', () => {
  it('refuses a file whose sha256 is not the pinned one, naming both hashes', () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'hotpath-pin-'));
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'model.onnx');
    writeFileSync(path, 'not the model');
    const actual = createHash('sha256').update('not the model').digest('hex');

    // Act / Assess
    try {
      expect(() => readPinnedFile(path, '0'.repeat(64))).toThrow(`has sha256 ${actual}, expected ${'0'.repeat(64)}`);
      expect(readPinnedFile(path, actual).bytes.byteLength).toBe(13);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
