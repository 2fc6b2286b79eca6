/**
 * `npm start` (after `npm run build`): serves the API from serverless.yml under
 * serverless-offline on http://127.0.0.1:3000, with the models and runtime read from the
 * built layer folders (serverless-offline mounts no layers without Docker), or from
 * HOTPATH_MODELS_DIR / HOTPATH_ORT_WEB_DIR when set. Other HOTPATH_* variables reach the
 * handler through serverless.yml's `${env:...}` defaults.
 *
 * Options (flags win over environment variables):
 *   --api-key KEY      require `x-api-key: KEY` on every request (env HOTPATH_API_KEY)
 *   --port N           HTTP port, default 3000 (env HOTPATH_PORT)
 *   --lambda-port N    serverless-offline's Lambda invoke port, default 3002 (env HOTPATH_LAMBDA_PORT)
 *
 * Nothing here contacts AWS: the credentials are fake values and no variable source in
 * serverless.yml reads from an account. SIGINT/SIGTERM are forwarded so the server exits
 * cleanly; the process exits with the server's exit code.
 *
 * @example
 * npm start -- --api-key s3cret --port 3100
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

const root = process.cwd();
const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 120_000;

interface LaunchOptions {
  readonly port: number;
  readonly lambdaPort: number;
  readonly apiKey: string | undefined;
}

function readOptions(argv: readonly string[], env: NodeJS.ProcessEnv): LaunchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      'api-key': { type: 'string' },
      port: { type: 'string' },
      'lambda-port': { type: 'string' },
    },
    strict: true,
  });
  const apiKey = values['api-key'] ?? env.HOTPATH_API_KEY;
  return {
    port: readPort('--port', values.port ?? env.HOTPATH_PORT, 3000),
    lambdaPort: readPort('--lambda-port', values['lambda-port'] ?? env.HOTPATH_LAMBDA_PORT, 3002),
    apiKey: apiKey !== undefined && apiKey.trim() !== '' ? apiKey : undefined,
  };
}

function readPort(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${name}: '${raw}' is not a port number (1-65535)`);
  }
  return port;
}

/** The serverless-offline command line and environment that serve serverless.yml locally. */
function offlineCommand(options: LaunchOptions): { args: string[]; env: NodeJS.ProcessEnv } {
  // The built layer folders stand in for /opt unless the environment names others.
  const modelsDir = resolve(root, process.env.HOTPATH_MODELS_DIR || 'layers/models/build/models');
  const ortWebDir = resolve(root, process.env.HOTPATH_ORT_WEB_DIR || 'layers/onnxruntime-web/build/nodejs/node_modules/onnxruntime-web');
  for (const [what, dir] of [['HOTPATH_MODELS_DIR (models layer)', modelsDir], ['HOTPATH_ORT_WEB_DIR (runtime layer)', ortWebDir]] as const) {
    if (!existsSync(dir)) throw new Error(`${what}: '${dir}' is missing; run npm run build`);
  }
  const args = [
    resolve(root, 'node_modules/serverless/bin/serverless.js'),
    'offline',
    'start',
    '--host', HOST,
    '--httpPort', String(options.port),
    '--lambdaPort', String(options.lambdaPort),
    '--noPrependStageInUrl',
    '--noSponsor',
    // serverless-offline can't check SigV4 (and mistakes the aws_iam route authorizer for a
    // JWT one); locally the optional API key, checked by the handler, takes its place.
    '--noAuth',
    // Keep the warm instance for an hour like a busy Lambda would, instead of
    // serverless-offline's 60 s, after which every request would pay a cold start again.
    '--terminateIdleLambdaTime', '3600',
    `--param=modelsDir=${modelsDir}`,
    `--param=ortWebDir=${ortWebDir}`,
    ...(options.apiKey !== undefined ? [`--param=apiKey=${options.apiKey}`] : []),
  ];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // serverless-offline copies AWS_* into the handler's environment. Lambda sets this
    // variable and Powertools reads it to report the cold start; serverless-offline doesn't.
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    // Fake credentials so no SDK goes looking for real ones.
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'offline',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'offline',
    AWS_REGION: process.env.AWS_REGION ?? 'eu-west-1',
    SLS_TELEMETRY_DISABLED: '1',
  };
  // The key travels as a --param only; keep it out of the server's own environment.
  delete env.HOTPATH_API_KEY;
  return { args, env };
}

/** Polls GET /v2/health/ready until it answers 200, which also runs the function's INIT. */
async function waitUntilReady(baseUrl: string, apiKey: string | undefined, isRunning: () => boolean): Promise<boolean> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline && isRunning()) {
    try {
      const response = await fetch(`${baseUrl}/v2/health/ready`, { headers: apiKey ? { 'x-api-key': apiKey } : {} });
      await response.arrayBuffer();
      if (response.status === 200) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

async function main(): Promise<void> {
  const options = readOptions(process.argv.slice(2), process.env);
  const { args, env } = offlineCommand(options);
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: 'inherit' });

  let exited = false;
  child.on('exit', (code, signal) => {
    exited = true;
    process.exit(code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : 1));
  });
  const forward = (signal: NodeJS.Signals): void => {
    if (!exited) child.kill(signal);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);

  const baseUrl = `http://${HOST}:${options.port}`;
  if (await waitUntilReady(baseUrl, options.apiKey, () => !exited)) {
    const header = options.apiKey ? ` -H 'x-api-key: ${options.apiKey}'` : '';
    console.log(`\nhotpath ready at ${baseUrl}\n  curl${header} ${baseUrl}/v2/models\n`);
  } else if (!exited) {
    console.error(`hotpath: ${baseUrl}/v2/health/ready did not answer 200 within ${READY_TIMEOUT_MS / 1000} s; still running`);
  }
}

main().catch((error: unknown) => {
  console.error(`start-offline: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
