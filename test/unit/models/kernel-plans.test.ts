import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { ManifestModel } from '../../../lib/models/model-manifest-types';
import { decodeFeedForwardPlan } from '../../../kernels/feed-forward/feed-forward-plan';
import { attachKernelPlans } from '../../../layers/models/kernel-plans';
import { writeOnnxGraph } from '../../../layers/models/onnx-graph-writer';

const dense = writeOnnxGraph({
  name: 'dense',
  inputs: [{ name: 'input', type: 'FP32', shape: ['batch', 3] }],
  outputs: [{ name: 'output', type: 'FP32', shape: ['batch', 2] }],
  initializers: [{ name: 'W', dims: [2, 3], data: Float32Array.of(1, -2, 0.5, 0.25, 3, -1) }, { name: 'b', dims: [2], data: Float32Array.of(0.1, -0.2) }],
  nodes: [{ op: 'Gemm', inputs: ['input', 'W', 'b'], outputs: ['g'], attributes: { transB: 1 } }, { op: 'Tanh', inputs: ['g'], outputs: ['output'] }],
});
const convolution = writeOnnxGraph({
  name: 'conv',
  inputs: [{ name: 'input', type: 'FP32', shape: ['batch', 1, 4, 4] }],
  outputs: [{ name: 'output', type: 'FP32', shape: ['batch', 1, 4, 4] }],
  initializers: [{ name: 'K', dims: [1, 1, 1, 1], data: Float32Array.of(2) }],
  nodes: [{ op: 'Conv', inputs: ['input', 'K'], outputs: ['output'] }],
});

function entry(name: string, bytes: Uint8Array, inputs: ManifestModel['inputs'], outputs: ManifestModel['outputs']): ManifestModel {
  return {
    name, version: '1', platform: 'onnx_onnxv1', file: `${name}/1/model.onnx`, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.byteLength,
    inputs, outputs, maxBatchSize: 8, serveByDefault: true,
  };
}

describe('attachKernelPlans', () => {
  let root: string;
  let lines: string[];
  const models = () => join(root, 'models');
  const options = (exclusions: Record<string, string> = {}) => {
    writeFileSync(join(root, 'exclusions.json'), JSON.stringify(exclusions));
    return { modelsDir: models(), cacheFile: join(root, 'cache', 'plans.json'), exclusionsFile: join(root, 'exclusions.json'), log: (line: string) => lines.push(line) };
  };
  const entries = [
    entry('dense', dense, [{ name: 'input', datatype: 'FP32', shape: [-1, 3] }], [{ name: 'output', datatype: 'FP32', shape: [-1, 2] }]),
    entry('conv', convolution, [{ name: 'input', datatype: 'FP32', shape: [-1, 1, 4, 4] }], [{ name: 'output', datatype: 'FP32', shape: [-1, 1, 4, 4] }]),
  ];

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'hotpath-plans-'));
    lines = [];
    for (const [name, bytes] of [['dense', dense], ['conv', convolution]] as const) {
      mkdirSync(join(models(), name, '1'), { recursive: true });
      writeFileSync(join(models(), name, '1', 'model.onnx'), bytes);
    }
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('writes a plan with its parity figures for a graph the executor takes, and the reason for one it does not', async () => {
    // Act
    const [withPlan, refused] = await attachKernelPlans(entries, options());

    // Assess
    const file = join(models(), 'dense/1/model.feed-forward.bin');
    const bytes = readFileSync(file);
    expect(withPlan!.kernel).toEqual({
      executor: 'feed-forward', file: 'dense/1/model.feed-forward.bin', sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.byteLength,
      reason: expect.stringMatching(/^feed-forward executor takes every node \(1 steps\); parity with onnxruntime-node 1\.30\.0 on 41 seeded rows \(batches 1, 7, 33\): max error \d\.\de-\d+ of each output's scale \(limit 1e-5\), argmax identical; kernels simd/),
    });
    expect(decodeFeedForwardPlan(bytes).header.steps).toEqual([expect.objectContaining({ op: 'dense', activation: 3 })]);
    expect(refused!.kernel).toBeUndefined();
    expect(refused!.kernelRefused).toBe("the feed-forward executor does not take the graph: node 'conv_0' (Conv): operator 'Conv' is not one the feed-forward executor runs");
  });

  it('reads no model again when nothing changed, and redoes a plan whose file went missing', async () => {
    // Prepare
    const first = await attachKernelPlans(entries, options());
    lines = [];

    // Act
    const again = await attachKernelPlans(entries, options());
    const linesWhenCurrent = [...lines];
    rmSync(join(models(), 'dense/1/model.feed-forward.bin'));
    const redone = await attachKernelPlans(entries, options());

    // Assess
    expect(again).toEqual(first);
    expect(linesWhenCurrent).toEqual([]);
    expect(redone).toEqual(first);
    expect(existsSync(join(models(), 'dense/1/model.feed-forward.bin'))).toBe(true);
  });

  it('keeps an excluded model on onnxruntime-web with the finding, and removes its plan file', async () => {
    // Prepare
    await attachKernelPlans(entries, options());

    // Act
    const [excluded] = await attachKernelPlans(entries, options({ dense: 'bench:feed-forward: warm b1 1.5x onnxruntime-web' }));

    // Assess
    expect(excluded!.kernel).toBeUndefined();
    expect(excluded!.kernelRefused).toMatch(/^bench:feed-forward: warm b1 1\.5x onnxruntime-web \(the feed-forward plan passed parity: parity with onnxruntime-node/);
    expect(existsSync(join(models(), 'dense/1/model.feed-forward.bin'))).toBe(false);
  });
});
