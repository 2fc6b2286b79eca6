import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

const repoRoot = resolve(__dirname, '../..');
const OUTPUT_TAIL_CHARS = 20_000;

export interface OfflineServerOptions {
  /** Extra environment for the server (and so the handler), e.g. `{ HOTPATH_API_KEY: 'k' }`. */
  env?: Record<string, string>;
  /** HTTP port; a free one by default, so tests run beside a user's `npm start` and each other. */
  port?: number;
  /** How long to wait for `GET /v2/health/ready` to answer 200; default 120 s (INIT loads models). */
  readyTimeoutMs?: number;
}

export interface OfflineServer {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  baseUrl: string;
  /** serverless-offline's Lambda Invoke API endpoint, for `@aws-sdk/client-lambda` (`endpoint`, function `hotpath-dev-api`). */
  lambdaEndpoint: string;
  /** The launcher's pid (its process group's id). */
  pid: number;
  /** What the server printed so far (the last 20,000 characters). */
  output(): string;
  /** Stops the server and everything it started (its whole process group). */
  stop(): Promise<void>;
}

/**
 * Starts what `npm start` runs, without its build step (`npm test` builds first):
 * `scripts/start-offline.ts` under tsx, in its own process group, on free ports. Resolves
 * once `GET /v2/health/ready` answers 200, which means the function's INIT (model loading)
 * has run. Set HOTPATH_TEST_SERVER_LOG=1 to see the server's output.
 *
 * @example
 * const server = await startOfflineServer({ env: { HOTPATH_API_KEY: 'k' } });
 * try { await fetch(`${server.baseUrl}/v2`, { headers: { 'x-api-key': 'k' } }); }
 * finally { await server.stop(); }
 */
export async function startOfflineServer(options: OfflineServerOptions = {}): Promise<OfflineServer> {
  const port = options.port ?? (await freePort());
  const lambdaPort = await freePort([port]);
  return startScript('scripts/start-offline.ts', ['--port', String(port), '--lambda-port', String(lambdaPort)], port, lambdaPort, options);
}

/**
 * Starts what `npm start` runs, without its build step: the OIP server
 * (`scripts/start-server.ts`) under tsx, in its own process group, on a free port; resolves
 * once `GET /v2/health/ready` answers 200. `lambdaEndpoint` is empty (no Lambda emulation).
 */
export async function startServerProcess(options: OfflineServerOptions = {}): Promise<OfflineServer> {
  const port = options.port ?? (await freePort());
  return startScript('scripts/start-server.ts', ['--port', String(port)], port, undefined, options);
}

async function startScript(script: string, args: string[], port: number, lambdaPort: number | undefined, options: OfflineServerOptions): Promise<OfflineServer> {
  const env = { ...process.env, ...options.env };
  const child = spawn(
    process.execPath,
    [resolve(repoRoot, 'node_modules/tsx/dist/cli.mjs'), script, ...args],
    { cwd: repoRoot, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
    if (process.env.HOTPATH_TEST_SERVER_LOG === '1') process.stderr.write(chunk);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  // 'error' (e.g. spawn failure) rejects once(); stop() only needs to know it ended.
  const exited = once(child, 'exit').catch(() => undefined);

  const baseUrl = `http://127.0.0.1:${port}`;
  const server: OfflineServer = {
    baseUrl,
    lambdaEndpoint: lambdaPort === undefined ? '' : `http://127.0.0.1:${lambdaPort}`,
    pid: child.pid!,
    output: () => output,
    stop: () => stopGroup(child, exited),
  };
  try {
    await waitUntilReady(baseUrl, options.env?.HOTPATH_API_KEY, child, options.readyTimeoutMs ?? 120_000);
  } catch (error) {
    await server.stop();
    throw new Error(`${(error as Error).message}\n--- server output ---\n${output}`);
  }
  return server;
}

async function waitUntilReady(baseUrl: string, apiKey: string | undefined, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`server exited (${child.exitCode ?? child.signalCode}) before it was ready`);
    }
    try {
      const response = await fetch(`${baseUrl}/v2/health/ready`, { headers: apiKey ? { 'x-api-key': apiKey } : {} });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`server at ${baseUrl} was not ready within ${timeoutMs} ms`);
}

async function stopGroup(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  signalGroup(child.pid, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(child.pid as number, 'SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
  // The launcher may exit before its server does; make sure nothing of the group is left.
  signalGroup(child.pid, 'SIGKILL');
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is already gone
  }
}

/** A port that was free a moment ago, on 127.0.0.1, not in `avoid`. */
export async function freePort(avoid: readonly number[] = []): Promise<number> {
  for (;;) {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    server.close();
    await once(server, 'close');
    if (address !== null && typeof address === 'object' && !avoid.includes(address.port)) return address.port;
  }
}
