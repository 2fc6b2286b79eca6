import { LambdaClient } from '@aws-sdk/client-lambda';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { invokeWithTail } from '../../../bench/cold/aws-cold-bench';
import { inferEventFor } from '../../../bench/cold/local-cold-bench';

const repoRoot = join(__dirname, '../../..');

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/**
 * `npm start`'s launcher on free ports. test/support/offline-server.ts starts the same one but
 * does not say which Lambda invoke port it chose, which this test needs.
 */
async function startOffline(): Promise<{ lambdaEndpoint: string; stop: () => Promise<void> }> {
  const port = await freePort();
  let lambdaPort = await freePort();
  while (lambdaPort === port) lambdaPort = await freePort();
  const child: ChildProcess = spawn(process.execPath, [join(repoRoot, 'node_modules/tsx/dist/cli.mjs'), 'scripts/start-offline.ts', '--port', String(port), '--lambda-port', String(lambdaPort)], {
    cwd: repoRoot, env: { ...process.env, HOTPATH_WASM_THREADS: '1' }, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => { output += c.toString(); });
  child.stderr!.on('data', (c: Buffer) => { output += c.toString(); });
  const stop = async () => {
    try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ }
  };
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`offline server exited early:\n${output}`);
    const ok = await fetch(`http://127.0.0.1:${port}/v2/health/ready`).then((r) => r.status === 200, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`offline server not ready in 120 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { lambdaEndpoint: `http://127.0.0.1:${lambdaPort}`, stop };
}

describe('bench:cold --aws invoke path', () => {
  let server: Awaited<ReturnType<typeof startOffline>> | undefined;
  beforeAll(async () => {
    server = await startOffline();
  }, 150_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('invokes the function with LogType Tail and gets its answer when run against serverless-offline', async () => {
    const client = new LambdaClient({ region: 'eu-west-1', endpoint: server!.lambdaEndpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const event = inferEventFor(repoRoot, join(repoRoot, 'layers/models/build/models'), 'iris-classifier');

    const result = await invokeWithTail(client, 'hotpath-dev-api', event);

    expect(result.functionError).toBeUndefined();
    expect(result.statusCode).toBe(200);
    const answer = JSON.parse(result.payload) as { statusCode: number; body: string };
    expect(answer.statusCode).toBe(200);
    expect(JSON.parse(answer.body).model_name).toBe('iris-classifier');
    // serverless-offline returns no LogResult: no REPORT line to parse, and the code must say so rather than invent one.
    expect(result.report).toBeUndefined();
    expect(result.tail).toBe('');
  });
});
