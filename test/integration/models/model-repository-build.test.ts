import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import { buildRepositoryModels, type RepositoryBuildResult } from '../../../layers/models/model-repository/build-repository-models';
import { writeOnnxGraph, type OnnxGraphSpec } from '../../../layers/models/onnx-graph-writer';
import { WasmBackend } from '../../../lib/backends/wasm-backend';
import { createInProcessApi } from '../../support/in-process-api';

/** input [batch, 4] → Gemm → output [batch, 3]: what most exported classifiers look like. */
function affineSpec(): OnnxGraphSpec {
  const w = Float32Array.from({ length: 12 }, (_, i) => (i % 5) / 4);
  return {
    name: 'affine',
    inputs: [{ name: 'input', type: 'FP32', shape: ['batch', 4] }],
    outputs: [{ name: 'scores', type: 'FP32', shape: ['batch', 3] }],
    initializers: [{ name: 'W', dims: [3, 4], data: w }, { name: 'b', dims: [3], data: Float32Array.from([0, 1, 2]) }],
    nodes: [{ op: 'Gemm', inputs: ['input', 'W', 'b'], outputs: ['scores'], attributes: { transB: 1 } }],
  };
}

/** The writer's graph, changed where the writer has no option for it (types, domains, opsets, external data). */
function mutated(spec: OnnxGraphSpec, change: (model: onnx.ModelProto, graph: onnx.GraphProto) => void): Uint8Array {
  const model = onnx.ModelProto.decode(writeOnnxGraph(spec));
  change(model, model.graph as onnx.GraphProto);
  return onnx.ModelProto.encode(model).finish();
}

const unary = (op: string, type: 'FP32' | 'INT64'): OnnxGraphSpec => ({
  name: op.toLowerCase(),
  inputs: [{ name: 'x', type, shape: ['batch', 3] }],
  outputs: [{ name: 'y', type, shape: ['batch', 3] }],
  initializers: [],
  nodes: [{ op, inputs: ['x'], outputs: ['y'] }],
});

/** A scikit-learn classifier as skl2onnx exports it with ZipMap on: probabilities as seq(map(int64, float)). */
function zipMapModel(): Uint8Array {
  return mutated(unary('ZipMap', 'FP32'), (model, graph) => {
    model.opsetImport.push({ domain: 'ai.onnx.ml', version: 3 });
    const node = graph.node[0]!;
    node.domain = 'ai.onnx.ml';
    node.output = ['output_probability'];
    node.attribute = [{ name: 'classlabels_int64s', type: onnx.AttributeProto.AttributeType.INTS, ints: [0, 1, 2] }];
    graph.output[0] = {
      name: 'output_probability',
      type: { sequenceType: { elemType: { mapType: { keyType: onnx.TensorProto.DataType.INT64, valueType: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } } } } },
    };
  });
}

/** Declares a batch dim, but reshapes to [1, 3]: onnxruntime's shape inference fixes the first dim at 1. */
function fakeBatchModel(): Uint8Array {
  return writeOnnxGraph({
    name: 'fake-batch',
    inputs: [{ name: 'x', type: 'FP32', shape: ['batch', 3] }],
    outputs: [{ name: 'y', type: 'FP32', shape: ['batch', 3] }],
    initializers: [{ name: 'shape', dims: [2], data: BigInt64Array.from([1n, 3n]) }],
    nodes: [{ op: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'] }],
  });
}

describe('buildRepositoryModels on onnxruntime-web', () => {
  let root: string;
  let repo: string;
  let modelsDir: string;
  let cacheFile: string;
  let backend: WasmBackend;
  let first: RepositoryBuildResult;

  function put(path: string, content: string | Uint8Array): void {
    mkdirSync(join(repo, path, '..'), { recursive: true });
    writeFileSync(join(repo, path), content);
  }

  const build = () => buildRepositoryModels({ repository: repo, modelsDir, cacheFile, backend });

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'hotpath-repository-'));
    repo = join(root, 'repository');
    modelsDir = join(root, 'built', 'models');
    cacheFile = join(root, 'cache', 'repository.json');
    backend = new WasmBackend({ ortWebDir: undefined, numThreads: 1 });
    const affine = writeOnnxGraph(affineSpec());

    // Models that build.
    put('plain/1/model.onnx', affine);
    put('classifier/2/model.onnx', affine);
    // A label of spaces is a label (PP-OCR's keys have U+3000); trailing empty lines are not.
    put('classifier/labels.txt', 'setosa\n\u3000\nvirginica\n\n');
    put('classifier/config.pbtxt', `
      name: "classifier"
      platform: "onnxruntime_onnx"
      max_batch_size: 16
      input [ { name: "input", data_type: TYPE_FP32, dims: [ 4 ] } ]
      output [ { name: "scores", data_type: TYPE_FP32, dims: [ 3 ], label_filename: "labels.txt" } ]
      dynamic_batching { preferred_batch_size: [ 4, 8 ] max_queue_delay_microseconds: 500 default_queue_policy { max_queue_size: 64 } }
      parameters { key: "owner" value: { string_value: "ml-team" } }
    `);
    put('unbatched/1/model.onnx', mutated(affineSpec(), (_m, graph) => {
      for (const value of [...graph.input, ...graph.output]) value.type!.tensorType!.shape!.dim![0] = { dimValue: 1 };
    }));
    for (const v of ['1', '2', '3']) put(`versioned/${v}/model.onnx`, affine);
    put('versioned/config.pbtxt', 'version_policy: { latest: { num_versions: 2 } }');

    // One model per way to fail; each must be refused by name while the others build.
    put('zipmap/1/model.onnx', zipMapModel());
    put('int-relu/1/model.onnx', writeOnnxGraph(unary('Relu', 'INT64')));
    put('custom-op/1/model.onnx', mutated(unary('Relu', 'FP32'), (m, graph) => {
      graph.node[0]!.opType = 'Frobnicate';
      graph.node[0]!.domain = 'com.example';
      m.opsetImport.push({ domain: 'com.example', version: 1 });
    }));
    put('future-opset/1/model.onnx', mutated(unary('Relu', 'FP32'), (m) => {
      m.opsetImport[0]!.version = 30;
    }));
    put('external-data/1/model.onnx', mutated(affineSpec(), (_m, graph) => {
      const w = graph.initializer[0]!;
      w.rawData = new Uint8Array(0);
      w.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
      w.externalData = [{ key: 'location', value: 'weights.bin' }, { key: 'offset', value: '0' }, { key: 'length', value: '48' }];
    }));
    put('corrupt/1/model.onnx', new Uint8Array([0x08, 0xff, 0xff, 0xff, 0x0a, 0x99, 0x01]));
    put('wrong-dims/1/model.onnx', affine);
    put('wrong-dims/config.pbtxt', 'max_batch_size: 8\ninput [{ name: "input" dims: [5] }]');
    put('bad-labels/1/model.onnx', affine);
    put('bad-labels/labels.txt', 'a\nb\n');
    put('bad-labels/config.pbtxt', 'output [{ name: "scores" label_filename: "labels.txt" }]');
    put('bad-type/1/model.onnx', affine);
    put('bad-type/config.pbtxt', 'input [{ name: "input"\n  data_type: TYPE_FLOAT32 }]');
    put('fake-batch/1/model.onnx', fakeBatchModel());
    put('wrong-output-dims/1/model.onnx', writeOnnxGraph({ ...unary('Identity', 'FP32'), inputs: [{ name: 'x', type: 'FP32', shape: ['batch', 'n'] }], outputs: [{ name: 'y', type: 'FP32', shape: ['batch', 'n'] }] }));
    put('wrong-output-dims/config.pbtxt', 'max_batch_size: 2\noutput [{ name: "y" dims: [5] }]');
    put('no-version/config.pbtxt', '');
    put('two-files/1/model.onnx', affine);
    put('two-files/1/model.onnx.data', new Uint8Array(48));
    put('bad name/1/model.onnx', affine);

    first = await build();
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('builds and proves the models that can be served, and writes their manifest', () => {
    const built = first.manifest.models.map((m) => `${m.name}@${m.version}`);

    expect(built).toEqual(['classifier@2', 'plain@1', 'unbatched@1', 'versioned@2', 'versioned@3']);
    expect(first.reports.every((r) => r.proved)).toBe(true);
    expect(JSON.parse(readFileSync(join(modelsDir, 'manifest.json'), 'utf8'))).toEqual(first.manifest);
  });

  it('gives a feed-forward graph its kernel plan, proven against onnxruntime-node, as the built-in layer build does', () => {
    const classifier = first.manifest.models.find((m) => m.name === 'classifier')!;

    expect(classifier.kernel).toMatchObject({ executor: 'feed-forward', file: 'classifier/2/model.feed-forward.bin' });
    expect(classifier.kernel!.reason).toMatch(/parity|argmax/);
    expect(readFileSync(join(modelsDir, classifier.kernel!.file)).byteLength).toBe(classifier.kernel!.bytes);
  });

  it('writes sha256, size and signature from the file, and config fields as the manifest holds them', () => {
    const byName = new Map(first.manifest.models.map((m) => [`${m.name}@${m.version}`, m]));
    const classifier = byName.get('classifier@2')!;
    const bytes = readFileSync(join(repo, 'classifier/2/model.onnx'));

    expect(classifier).toMatchObject({
      platform: 'onnx_onnxv1', file: 'classifier/2/model.onnx', bytes: bytes.byteLength, maxBatchSize: 16, serveByDefault: true,
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [{ name: 'scores', datatype: 'FP32', shape: [-1, 3] }],
      labels: { scores: ['setosa', '\u3000', 'virginica'] },
      dynamicBatching: { maxQueueDelayMicroseconds: 500, preferredBatchSizes: [4, 8], maxQueueSize: 64, defaultTimeoutMicroseconds: 0 },
      parameters: { owner: 'ml-team' },
    });
    expect(readFileSync(join(modelsDir, 'classifier/2/model.onnx'))).toEqual(bytes);
    expect(byName.get('plain@1')).toMatchObject({ maxBatchSize: 4, dynamicBatching: { maxQueueDelayMicroseconds: 0 } });
    expect(byName.get('unbatched@1')).toMatchObject({ maxBatchSize: 0, inputs: [{ name: 'input', shape: [1, 4] }] });
    expect(byName.get('unbatched@1')!.dynamicBatching).toBeUndefined();
    expect(byName.get('versioned@3')!.versionPolicy).toEqual({ latest: 2 });
  });

  it.each([
    ['zipmap', "model 'zipmap': zipmap/1/model.onnx output 'output_probability' is seq(map(int64, float)); hotpath serves tensors only: re-export with zipmap disabled"],
    ['int-relu', "does not run on onnxruntime-web 1.30.0, what Lambda runs: operator Relu (opset 14, node 'relu_0') has no kernel in onnxruntime-web's WASM build"],
    ['custom-op', "operator Frobnicate of domain 'com.example' is not in onnxruntime-web (a custom or training operator); re-export the model with standard ONNX operators"],
    ['future-opset', 'it is stamped with opset 30 of ai.onnx, newer than the runtime supports (up to opset 26); re-export it with an opset of 26 or lower'],
    ['external-data', 'external-data/1/model.onnx keeps tensors in external data files (weights.bin), which onnxruntime-web cannot open'],
    ['corrupt', 'corrupt/1/model.onnx is not an ONNX model'],
    ['wrong-dims', "wrong-dims/config.pbtxt gives input 'input' dims [5] (after the batch dim, max_batch_size 8), but wrong-dims/1/model.onnx has shape [-1, 4]; set dims: [4]"],
    ['bad-labels', "bad-labels/labels.txt has 2 labels, but output 'scores' has 3 classes"],
    ['bad-type', "bad-type/config.pbtxt:2:14: 'data_type' must be one of TYPE_INVALID, TYPE_BOOL"],
    ['fake-batch', "onnxruntime-web infers output 'y' as [1,3] (its shape inference fixes dims the graph leaves open), where the config or graph declares [-1,3]"],
    ['wrong-output-dims', "output 'y' came out [1, 32] for a batch of 1, but the config declares [-1, 5]"],
    ['no-version', "'no-version' has no version folder; put the model at no-version/1/model.onnx"],
    ['two-files', 'two-files/1 holds model.onnx.data beside model.onnx'],
    ['bad name', "model folder 'bad name' is not a valid model name"],
  ])('refuses %s with a message naming the model and what to do, and builds the others', (model, message) => {
    const refused = first.errors.filter((e) => e.model === model);

    expect(refused.map((e) => e.message)).toEqual([expect.stringContaining(message)]);
    expect(first.manifest.models.some((m) => m.name === model)).toBe(false);
  });

  it('says what to do when the first dim is not a batch dim', () => {
    expect(first.errors.find((e) => e.model === 'fake-batch')!.message).toContain('its first dim is fixed at 1, so it has no batch dim: set max_batch_size: 0 in config.pbtxt');
  });

  it('refuses nothing else', () => {
    expect(first.errors).toHaveLength(14);
  });

  it('rebuilds nothing on a warm build with nothing changed, and re-proves a model whose file changed', async () => {
    const warm = await build();

    expect(warm.manifest).toEqual(first.manifest);
    expect(warm.reports.filter((r) => r.proved)).toEqual([]);

    const changed = writeOnnxGraph({ ...affineSpec(), initializers: [{ name: 'W', dims: [3, 4], data: new Float32Array(12).fill(1) }, { name: 'b', dims: [3], data: new Float32Array(3) }] });
    writeFileSync(join(repo, 'plain/1/model.onnx'), changed);
    utimesSync(join(repo, 'plain/1/model.onnx'), new Date(), new Date(Date.now() + 5_000));
    const after = await build();

    expect(after.reports.filter((r) => r.proved).map((r) => r.name)).toEqual(['plain']);
    expect(readFileSync(join(modelsDir, 'plain/1/model.onnx'))).toEqual(Buffer.from(changed));
  });

  it('serves what it built through the Lambda handler, labels included', async () => {
    const api = await createInProcessApi({ modelsDir, models: '*' });
    try {
      const body = JSON.stringify({
        inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [1, 0, 0, 0] }],
        outputs: [{ name: 'scores', parameters: { classification: 1 } }],
      });

      const result = await api.call('POST', '/v2/models/classifier/infer', { body });

      expect(result.statusCode).toBe(200);
      // x = e0 picks W's first column, (i % 5) / 4 at i = 0, 4, 8: [0, 1, 0.75]; plus b = [0, 1, 2]: [0, 2, 2.75], class 2.
      expect(JSON.parse(result.body!).outputs[0].data).toEqual(['2.750000:2:virginica']);
    } finally {
      for (const backend of api.runtime.backends) await backend.dispose();
    }
  });
});
