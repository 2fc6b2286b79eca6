/**
 * Where the model repository extension is not served: the Lambda door (the real handler chain,
 * in-process) and a server started without HOTPATH_MODEL_REPOSITORY. Both answer its routes
 * with a 404 that says where it is served, whatever the method, and do not list it in GET /v2.
 */
import { startOipServer } from '../../../lib/server/oip-server';
import { createInProcessApi, type InProcessApi } from '../../support/in-process-api';

const ELSEWHERE = /^(POST|GET) \/v2\/repository\/[^:]+: Triton's model repository extension \(index, load, unload\) is a feature of the long-running OIP server started with HOTPATH_MODEL_REPOSITORY \(npm start\); this instance serves the models it loaded at start \(on Lambda, the models layer's\): GET \/v2\/models lists them$/;

describe('model repository extension where it is not served', () => {
  let api: InProcessApi;

  beforeAll(async () => {
    api = await createInProcessApi({ models: ['iris-classifier'] });
  }, 60_000);

  it.each([
    ['POST', '/v2/repository/index'],
    ['POST', '/v2/repository/models/iris-classifier/load'],
    ['POST', '/v2/repository/models/iris-classifier/unload'],
    ['GET', '/v2/repository/index'],
  ])('answers %s %s on the Lambda door with a 404 that says it is a server feature', async (method, path) => {
    const result = await api.call(method, path, { body: method === 'POST' ? '{}' : undefined });

    expect(result.statusCode).toBe(404);
    expect(JSON.parse(result.body ?? '{}').error).toMatch(ELSEWHERE);
  });

  it('leaves the model served and model_repository out of GET /v2 on the Lambda door', async () => {
    await api.call('POST', '/v2/repository/models/iris-classifier/unload');

    const metadata = JSON.parse((await api.call('GET', '/v2')).body ?? '{}') as { extensions: string[] };
    const ready = await api.call('GET', '/v2/models/iris-classifier/ready');

    expect(metadata.extensions).toEqual(['binary_tensor_data', 'model_repository_index']);
    expect(ready.statusCode).toBe(200);
  });

  it('answers the same 404 on a server started without HOTPATH_MODEL_REPOSITORY', async () => {
    const server = await startOipServer({ port: 0, config: { wasmThreads: 1, models: ['iris-classifier'], modelRepository: undefined } });
    try {
      const index = await fetch(`${server.url}/v2/repository/index`, { method: 'POST', body: '{}' });
      const metadata = (await (await fetch(`${server.url}/v2`)).json()) as { extensions: string[] };

      expect(index.status).toBe(404);
      expect(((await index.json()) as { error: string }).error).toMatch(ELSEWHERE);
      expect(metadata.extensions).not.toContain('model_repository');
      expect(server.runtime.repository).toBeUndefined();
    } finally {
      await server.close(0);
    }
  });
});
