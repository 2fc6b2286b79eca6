import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRepositoryAtStart } from '../../../layers/models/model-repository/build-repository-at-start';
import { writeOnnxGraph } from '../../../layers/models/onnx-graph-writer';
import { loadServingConfig } from '../../../lib/config/serving-config';
import { startOipServer } from '../../../lib/server/oip-server';

/** input [batch, 2] → output = input + 1. */
function plusOne(): Uint8Array {
  return writeOnnxGraph({
    name: 'plus-one',
    inputs: [{ name: 'input', type: 'FP32', shape: ['batch', 2] }],
    outputs: [{ name: 'output', type: 'FP32', shape: ['batch', 2] }],
    initializers: [{ name: 'one', dims: [1], data: Float32Array.from([1]) }],
    nodes: [{ op: 'Add', inputs: ['input', 'one'], outputs: ['output'] }],
  });
}

describe('HOTPATH_MODEL_REPOSITORY at server start', () => {
  let root: string;
  const logged: string[] = [];
  const logger = { info: (m: string) => logged.push(m), warn: (m: string) => logged.push(m), error: (m: string) => logged.push(m) };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'hotpath-repository-server-'));
    logged.length = 0;
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  function put(path: string, content: string | Uint8Array): void {
    mkdirSync(join(root, 'repo', path, '..'), { recursive: true });
    writeFileSync(join(root, 'repo', path), content);
  }

  it('builds the repository into the models dir, then the server serves it and logs what it refused', async () => {
    put('plus-one/1/model.onnx', plusOne());
    put('broken/1/model.onnx', new Uint8Array([1, 2, 3]));
    const config = loadServingConfig({ HOTPATH_MODEL_REPOSITORY: join(root, 'repo'), HOTPATH_MODELS_DIR: join(root, 'models') }, { wasmThreads: 1 });

    const built = await buildRepositoryAtStart(config, logger);
    const server = await startOipServer({ config: { modelsDir: config.modelsDir, wasmThreads: 1 }, logger, port: 0 });
    try {
      const response = await fetch(`${server.url}/v2/models/plus-one/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 2], data: [1, 2] }] }),
      });

      expect(response.status).toBe(200);
      expect(((await response.json()) as { outputs: { data: number[] }[] }).outputs[0]!.data).toEqual([2, 3]);
      expect(built!.manifest.models.map((m) => m.name)).toEqual(['plus-one']);
      expect(logged).toContainEqual(expect.stringMatching(/^model repository: refused: model 'broken': broken\/1\/model.onnx is not an ONNX model/));
    } finally {
      await server.close();
    }
  });

  it('stops the start when no model of the repository can be served', async () => {
    put('broken/1/model.onnx', new Uint8Array([1, 2, 3]));
    const config = loadServingConfig({ HOTPATH_MODEL_REPOSITORY: join(root, 'repo'), HOTPATH_MODELS_DIR: join(root, 'models') }, { wasmThreads: 1 });

    await expect(buildRepositoryAtStart(config, logger)).rejects.toThrow(`model repository '${join(root, 'repo')}' has no model that can be served (1 refused, see above)`);
  });

  it('does nothing without HOTPATH_MODEL_REPOSITORY', async () => {
    expect(await buildRepositoryAtStart(loadServingConfig({ HOTPATH_MODELS_DIR: join(root, 'models') }), logger)).toBeUndefined();
  });

  it.each([
    [{ HOTPATH_MODEL_REPOSITORY: '/nonexistent/models' }, "HOTPATH_MODEL_REPOSITORY: folder '/nonexistent/models' does not exist"],
    [{ HOTPATH_MODEL_REPOSITORY: '/tmp', AWS_LAMBDA_FUNCTION_NAME: 'api' }, 'HOTPATH_MODEL_REPOSITORY: on Lambda the models come from the models layer'],
  ])('refuses HOTPATH_MODEL_REPOSITORY %j in the config module', (env, message) => {
    expect(() => loadServingConfig(env)).toThrow(message);
  });
});
