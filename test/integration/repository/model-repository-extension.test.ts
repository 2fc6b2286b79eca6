/**
 * Triton's model repository extension on the long-running OIP server, over real HTTP, on a real
 * repository in a temp dir and the real onnxruntime-web: a repository changed on disk is served
 * after a load without a restart, a broken load leaves what serves serving, unload stops a
 * model, and a reload never disposes a session under a request that found it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRepositoryAtStart } from '../../../layers/models/model-repository/build-repository-at-start';
import { writeOnnxGraph } from '../../../layers/models/onnx-graph-writer';
import { loadServingConfig } from '../../../lib/config/serving-config';
import { startOipServer, type RunningOipServer } from '../../../lib/server/oip-server';

/** input [batch, 2] → output = input + `c`. */
function addConstant(c: number): Uint8Array {
  return writeOnnxGraph({
    name: `add-${c}`,
    inputs: [{ name: 'input', type: 'FP32', shape: ['batch', 2] }],
    outputs: [{ name: 'output', type: 'FP32', shape: ['batch', 2] }],
    initializers: [{ name: 'c', dims: [1], data: Float32Array.from([c]) }],
    nodes: [{ op: 'Add', inputs: ['input', 'c'], outputs: ['output'] }],
  });
}

const NOT_ONNX = new Uint8Array([1, 2, 3]);

describe('model repository extension on the OIP server', () => {
  let root: string;
  let server: RunningOipServer;
  const logged: string[] = [];
  const logger = { info: (m: string) => logged.push(m), warn: (m: string) => logged.push(m), error: (m: string) => logged.push(m) };

  function put(path: string, content: string | Uint8Array): void {
    mkdirSync(join(root, 'repo', path, '..'), { recursive: true });
    writeFileSync(join(root, 'repo', path), content);
  }

  /** Builds the repository as `npm start` does, then starts the server over it. */
  async function start(): Promise<void> {
    const overrides = { modelRepository: join(root, 'repo'), modelsDir: join(root, 'models'), wasmThreads: 1 };
    await buildRepositoryAtStart(loadServingConfig({}, overrides), logger);
    server = await startOipServer({ config: overrides, logger, port: 0 });
  }

  async function post(path: string, body?: unknown): Promise<{ status: number; text: string }> {
    const response = await fetch(`${server.url}${path}`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return { status: response.status, text: await response.text() };
  }

  async function infer(model: string, data = [1, 2]): Promise<{ status: number; body: { model_version?: string; outputs?: { data: number[] }[]; error?: string } }> {
    const { status, text } = await post(`/v2/models/${model}/infer`, { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 2], data }] });
    return { status, body: JSON.parse(text) };
  }

  async function index(body: unknown = {}): Promise<unknown> {
    const { status, text } = await post('/v2/repository/index', body);
    expect(status).toBe(200);
    return JSON.parse(text);
  }

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'hotpath-repository-extension-'));
    logged.length = 0;
  });
  afterEach(async () => {
    await server?.close(0);
    rmSync(root, { recursive: true, force: true });
  });

  it('lists model_repository in GET /v2 and indexes the repository as Triton does', async () => {
    put('plus-one/1/model.onnx', addConstant(1));
    put('plus-ten/1/model.onnx', addConstant(10));
    await start();
    put('added-later/1/model.onnx', addConstant(5));

    const metadata = (await (await fetch(`${server.url}/v2`)).json()) as { extensions: string[] };
    const rows = await index();

    expect(metadata.extensions).toEqual(['binary_tensor_data', 'model_repository_index', 'model_repository']);
    expect(rows).toEqual([
      { name: 'added-later', state: 'UNAVAILABLE', reason: 'not loaded; POST /v2/repository/models/added-later/load serves it' },
      { name: 'plus-one', version: '1', state: 'READY', reason: '' },
      { name: 'plus-ten', version: '1', state: 'READY', reason: '' },
    ]);
    expect(await index({ ready: true })).toEqual([
      { name: 'plus-one', version: '1', state: 'READY', reason: '' },
      { name: 'plus-ten', version: '1', state: 'READY', reason: '' },
    ]);
  });

  it('serves a version added on disk once it is loaded, and a model added on disk', async () => {
    put('plus-one/1/model.onnx', addConstant(1));
    await start();
    put('plus-one/2/model.onnx', addConstant(100));
    put('plus-five/1/model.onnx', addConstant(5));

    const before = await infer('plus-one');
    const loaded = await post('/v2/repository/models/plus-one/load');
    const after = await infer('plus-one');
    const added = await post('/v2/repository/models/plus-five/load', { parameters: {} });

    expect(before.body).toMatchObject({ model_version: '1', outputs: [{ data: [2, 3] }] });
    expect(loaded).toEqual({ status: 200, text: '' });
    expect(after.body).toMatchObject({ model_version: '2', outputs: [{ data: [101, 102] }] });
    expect(added.status).toBe(200);
    expect((await infer('plus-five')).body).toMatchObject({ outputs: [{ data: [6, 7] }] });
    expect(await index()).toEqual([
      { name: 'plus-five', version: '1', state: 'READY', reason: '' },
      { name: 'plus-one', version: '2', state: 'READY', reason: '' },
    ]);
  });

  it('keeps serving what served when a reload fails, and reports the failure with its reason', async () => {
    put('plus-one/1/model.onnx', addConstant(1));
    put('plus-ten/1/model.onnx', addConstant(10));
    await start();
    put('plus-one/2/model.onnx', NOT_ONNX);

    const failed = await post('/v2/repository/models/plus-one/load');

    expect(failed.status).toBe(400);
    expect(JSON.parse(failed.text).error).toMatch(/^failed to load model 'plus-one': model 'plus-one': plus-one\/2\/model\.onnx is not an ONNX model.*; version 1 loaded before still serves$/);
    expect((await infer('plus-one')).body).toMatchObject({ model_version: '1', outputs: [{ data: [2, 3] }] });
    expect((await infer('plus-ten')).body).toMatchObject({ outputs: [{ data: [11, 12] }] });
    expect(await index()).toEqual([
      { name: 'plus-one', version: '1', state: 'READY', reason: '' },
      { name: 'plus-one', state: 'UNAVAILABLE', reason: expect.stringMatching(/^the last load failed: model 'plus-one': plus-one\/2\/model\.onnx is not an ONNX model/) },
      { name: 'plus-ten', version: '1', state: 'READY', reason: '' },
    ]);
    expect(logged).toContain("model repository: 'plus-one' failed to load");

    // Fixed on disk: the next load serves it and the failure is gone from the index.
    put('plus-one/2/model.onnx', addConstant(2));
    expect((await post('/v2/repository/models/plus-one/load')).status).toBe(200);
    expect((await infer('plus-one')).body).toMatchObject({ model_version: '2', outputs: [{ data: [3, 4] }] });
    expect(await index({ ready: false })).toEqual([
      { name: 'plus-one', version: '2', state: 'READY', reason: '' },
      { name: 'plus-ten', version: '1', state: 'READY', reason: '' },
    ]);
  });

  it('reports a new model that fails to load as UNAVAILABLE, and its requests get a 404 saying why', async () => {
    put('plus-one/1/model.onnx', addConstant(1));
    await start();
    put('broken/1/model.onnx', NOT_ONNX);
    put('bad-config/1/model.onnx', addConstant(3));
    put('bad-config/config.pbtxt', 'max_batch_size: 8\ninstance_group [{ kind: KIND_GPU }]\n');

    const broken = await post('/v2/repository/models/broken/load');
    const badConfig = await post('/v2/repository/models/bad-config/load');
    const request = await infer('broken');

    expect(broken.status).toBe(400);
    expect(JSON.parse(broken.text).error).toMatch(/^failed to load model 'broken': model 'broken': broken\/1\/model\.onnx is not an ONNX model/);
    expect(badConfig.status).toBe(400);
    expect(JSON.parse(badConfig.text).error).toMatch(/^failed to load model 'bad-config': .*bad-config\/config\.pbtxt.*instance_group/);
    expect(request.status).toBe(404);
    expect(request.body.error).toMatch(/^model 'broken' failed to load from the model repository: .*; fix it there and POST \/v2\/repository\/models\/broken\/load$/);
    expect((await infer('plus-one')).status).toBe(200);
    expect(await index()).toEqual([
      { name: 'bad-config', state: 'UNAVAILABLE', reason: expect.stringContaining('the last load failed: ') },
      { name: 'broken', state: 'UNAVAILABLE', reason: expect.stringContaining('broken/1/model.onnx is not an ONNX model') },
      { name: 'plus-one', version: '1', state: 'READY', reason: '' },
    ]);
    expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(200);
  });

  it('unloads a model: 404 for its requests, UNAVAILABLE "unloaded" in the index, the others serve, load brings it back', async () => {
    put('plus-one/1/model.onnx', addConstant(1));
    put('plus-ten/1/model.onnx', addConstant(10));
    await start();

    const unloaded = await post('/v2/repository/models/plus-one/unload', { parameters: { unload_dependents: false } });
    const request = await infer('plus-one');
    const metadata = await fetch(`${server.url}/v2/models/plus-one`);
    const rows = await index();
    const models = (await (await fetch(`${server.url}/v2/models`)).json()) as { models: { name: string }[] };

    expect(unloaded).toEqual({ status: 200, text: '' });
    expect(request.status).toBe(404);
    expect(request.body.error).toBe("model 'plus-one' was unloaded (POST /v2/repository/models/plus-one/unload); POST /v2/repository/models/plus-one/load serves it again");
    expect(metadata.status).toBe(404);
    expect(rows).toEqual([
      { name: 'plus-one', state: 'UNAVAILABLE', reason: 'unloaded' },
      { name: 'plus-ten', version: '1', state: 'READY', reason: '' },
    ]);
    expect(models.models.map((m) => m.name)).toEqual(['plus-ten']);
    expect((await infer('plus-ten')).status).toBe(200);
    expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(200);

    expect((await post('/v2/repository/models/plus-one/load')).status).toBe(200);
    expect((await infer('plus-one')).body).toMatchObject({ outputs: [{ data: [2, 3] }] });
  });

  it('refuses what it cannot do, naming the fix', async () => {
    put('plus-one/1/model.onnx', addConstant(1));
    await start();

    const cases = await Promise.all([
      fetch(`${server.url}/v2/repository/index`).then(async (r) => [r.status, r.headers.get('allow'), await r.text()]),
      post('/v2/repository/models/plus-one/load', { parameters: { config: '{"max_batch_size": 4}' } }).then((r) => [r.status, JSON.parse(r.text).error]),
      post('/v2/repository/models/plus-one/load', { parameters: { 'file:1/model.onnx': 'AAAA' } }).then((r) => [r.status, JSON.parse(r.text).error]),
      post('/v2/repository/models/plus-one/unload', { parameters: { unload_dependents: 'yes' } }).then((r) => [r.status, JSON.parse(r.text).error]),
      post('/v2/repository/models/nowhere/load').then((r) => [r.status, JSON.parse(r.text).error]),
      post('/v2/repository/models/nowhere/unload').then((r) => [r.status, JSON.parse(r.text).error]),
      post('/v2/repository/models/..%2F..%2Fetc/load').then((r) => [r.status]),
      post('/v2/repository/index', { ready: 'yes' }).then((r) => [r.status, JSON.parse(r.text).error]),
      post('/v2/repository/index', { repository_name: 'x' }).then((r) => [r.status, JSON.parse(r.text).error]),
      post('/v2/repository/index', '{not json').then((r) => [r.status, JSON.parse(r.text).error]),
    ]);

    expect(cases).toEqual([
      [405, 'POST', JSON.stringify({ error: 'method GET is not allowed on /v2/repository/index; use POST' })],
      [400, "load of 'plus-one': parameter 'config' (a model configuration sent with the request) is not supported; edit plus-one/config.pbtxt in the model repository and load again"],
      [400, "load of 'plus-one': parameter 'file:1/model.onnx' (a model file sent with the request) is not supported; put the file at plus-one/1/model.onnx in the model repository and load again"],
      [400, "unload of 'plus-one': parameter 'unload_dependents' must be a boolean, got \"yes\""],
      [404, "model 'nowhere' is not in the model repository; put it at nowhere/1/model.onnx there and load it again (POST /v2/repository/index lists the repository)"],
      [404, "model 'nowhere' is neither served here nor in the model repository (POST /v2/repository/index lists them)"],
      [404],
      [400, "POST /v2/repository/index: 'ready' must be a boolean, got \"yes\""],
      [400, "POST /v2/repository/index: field 'repository_name' is not part of the request; it takes 'ready'"],
      [400, expect.stringMatching(/^\/v2\/repository\/index: the body is not JSON/)],
    ]);
    expect((await infer('plus-one')).status).toBe(200);
  });

  it('never disposes a session under a request that found it before a reload, and disposes it once that request is done', async () => {
    put('plus-one/1/model.onnx', addConstant(1));
    await start();
    const { runtime } = server;
    const finish = runtime.beginRequest();
    const before = runtime.registry.findReady('plus-one');
    const dispose = jest.spyOn(before.state.session, 'dispose');
    put('plus-one/2/model.onnx', addConstant(2));

    expect((await post('/v2/repository/models/plus-one/load')).status).toBe(200);
    const stillRuns = await before.state.session.run([{ name: 'input', datatype: 'FP32', shape: [1, 2], data: Float32Array.from([1, 2]) }]);
    const disposedWhileHeld = dispose.mock.calls.length;
    finish();
    await new Promise((resolve) => setImmediate(resolve));

    expect(Array.from(stillRuns[0]!.data as Float32Array)).toEqual([2, 3]);
    expect(disposedWhileHeld).toBe(0);
    expect(dispose).toHaveBeenCalledTimes(1);
    expect(runtime.registry.findReady('plus-one').manifest.version).toBe('2');
  });

  it('answers every request during repeated reloads with the old or the new version, never an error', async () => {
    put('plus-one/1/model.onnx', addConstant(1));
    await start();
    put('plus-one/2/model.onnx', addConstant(2));
    const sessions = [server.runtime.registry.findReady('plus-one').state.session];
    const disposals = sessions.map((s) => jest.spyOn(s, 'dispose'));

    const requests = Array.from({ length: 60 }, (_, i) => new Promise((r) => setTimeout(r, i)).then(() => infer('plus-one', [i, 0])));
    const loads: { status: number }[] = [];
    for (let i = 0; i < 3; i++) {
      loads.push(await post('/v2/repository/models/plus-one/load'));
      const current = server.runtime.registry.findReady('plus-one').state.session;
      sessions.push(current);
      disposals.push(jest.spyOn(current, 'dispose'));
    }
    const answers = await Promise.all(requests);
    await new Promise((resolve) => setImmediate(resolve));

    expect(loads.map((l) => l.status)).toEqual([200, 200, 200]);
    for (const [i, answer] of answers.entries()) {
      expect(answer.status).toBe(200);
      const added = answer.body.model_version === '1' ? 1 : 2;
      expect(answer.body.outputs![0]!.data).toEqual([i + added, added]);
    }
    // Every replaced session disposed exactly once, the serving one not at all.
    expect(disposals.map((d) => d.mock.calls.length)).toEqual([1, 1, 1, 0]);
  });
});
