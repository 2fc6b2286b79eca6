/**
 * `npm run start:gpu-task`: the GPU container task's process (gpu-task-server.ts): the Open
 * Inference Protocol server on onnxruntime-node with the execution-provider self-test and the
 * dynamic batcher. Every setting is a HOTPATH_* variable (README "Configuration", "GPU task");
 * the container image (gpu-task/Dockerfile) sets HOTPATH_HOST=0.0.0.0 and the models it serves.
 *
 * Options (flags win over the variables):
 *   --port N        listen port, default 3000 (HOTPATH_PORT); 0 picks a free one
 *   --host ADDR     listen address, default 127.0.0.1 (HOTPATH_HOST)
 *
 * SIGTERM or SIGINT (what ECS sends before it stops a task): stop accepting, let the requests
 * in flight finish within HOTPATH_DRAIN_MS, release the models, exit 0 (1 when some were cut off).
 *
 * @example
 * HOTPATH_MODELS=mlp-large,text-detector npm run start:gpu-task -- --port 8000
 */
import { parseArgs } from 'node:util';
import { createLogger } from '../lib/telemetry/powertools-telemetry';
import { startGpuTask } from './gpu-task-server';

function flags(argv: readonly string[]): { port?: number; host?: string } {
  const { values } = parseArgs({ args: [...argv], options: { port: { type: 'string' }, host: { type: 'string' } }, strict: true });
  if (values.port === undefined) return { host: values.host };
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: '${values.port}' is not a port number (0-65535)`);
  return { port, host: values.host };
}

async function main(): Promise<void> {
  const logger = createLogger();
  const task = await startGpuTask({ ...flags(process.argv.slice(2)), logger });
  const { runtime } = task;
  const served = runtime.registry.entries.filter((e) => e.selected && e.state.ready).map((e) => `${e.manifest.name} (${e.state.ready ? e.state.session.executionProvider?.provider ?? e.state.backend.route : ''})`);
  logger.info('GPU task ready', { url: task.url, initMs: Math.round(runtime.initMs), models: served });
  console.log(`\nhotpath GPU task ready at ${task.url} (${served.join(', ')})\n  curl ${task.url}/v2\n`);
  const stop = (signal: NodeJS.Signals): void => {
    logger.info('stopping', { signal, inflight: task.inflight(), drainMs: runtime.config.drainMs });
    void task.close().then((finished) => {
      if (!finished) logger.error(`requests still in flight after HOTPATH_DRAIN_MS (${runtime.config.drainMs} ms) were cut off`);
      process.exit(finished ? 0 : 1);
    });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error(`hotpath GPU task: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
