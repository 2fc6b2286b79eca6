/**
 * `npm start` (after `npm run build`): the Open Inference Protocol server on
 * http://127.0.0.1:3000 with the default models on the wasm backend (what Lambda runs), one
 * process whose models and sessions every request shares. `npm run start:lambda` runs the
 * real Lambda handler under serverless-offline instead.
 *
 * Options (flags win over the HOTPATH_* variables; every other setting is a HOTPATH_* variable,
 * README "Configuration"):
 *   --port N        listen port, default 3000 (HOTPATH_PORT); 0 picks a free one
 *   --host ADDR     listen address, default 127.0.0.1 (HOTPATH_HOST)
 *   --api-key KEY   require `x-api-key: KEY` on every request (HOTPATH_API_KEY)
 *
 * SIGTERM or SIGINT: stop accepting, let the requests in flight finish within HOTPATH_DRAIN_MS,
 * exit 0 (1 when some had to be cut off).
 *
 * @example
 * npm start -- --port 3100 --api-key s3cret
 */
import { parseArgs } from 'node:util';
import { buildRepositoryAtStart } from '../layers/models/model-repository/build-repository-at-start';
import { loadServingConfig, type ServingConfig } from '../lib/config/serving-config';
import { startOipServer } from '../lib/server/oip-server';
import { createLogger } from '../lib/telemetry/powertools-telemetry';

function flagOverrides(argv: readonly string[]): Partial<ServingConfig> {
  const { values } = parseArgs({
    args: [...argv],
    options: { port: { type: 'string' }, host: { type: 'string' }, 'api-key': { type: 'string' } },
    strict: true,
  });
  const overrides: { -readonly [K in keyof ServingConfig]?: ServingConfig[K] } = {};
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: '${values.port}' is not a port number (0-65535)`);
    overrides.port = port;
  }
  if (values.host !== undefined) overrides.host = values.host;
  if (values['api-key'] !== undefined && values['api-key'].trim() !== '') overrides.apiKey = values['api-key'];
  return overrides;
}

async function main(): Promise<void> {
  const logger = createLogger();
  const overrides = flagOverrides(process.argv.slice(2));
  // HOTPATH_MODEL_REPOSITORY: build it into the models dir first (incremental), so an edited repository is served by a restart.
  await buildRepositoryAtStart(loadServingConfig(process.env, overrides), logger);
  const server = await startOipServer({ config: overrides, logger });
  const { runtime } = server;
  const { config } = runtime;
  const ready = runtime.registry.entries.filter((e) => e.selected && e.state.ready).map((e) => e.manifest.name);
  logger.info('server ready', { url: server.url, initMs: Math.round(runtime.initMs), models: ready });
  const header = config.apiKey ? ` -H 'x-api-key: ${config.apiKey}'` : '';
  console.log(`\nhotpath ready at ${server.url} (${ready.length} models: ${ready.join(', ')})\n  curl${header} ${server.url}/v2/models\n`);

  const stop = (signal: NodeJS.Signals): void => {
    logger.info('stopping', { signal, inflight: server.inflight(), drainMs: config.drainMs });
    void server.close().then((finished) => {
      if (!finished) logger.error(`requests still in flight after HOTPATH_DRAIN_MS (${config.drainMs} ms) were cut off`);
      process.exit(finished ? 0 : 1);
    });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error(`hotpath: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
