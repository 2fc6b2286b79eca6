/**
 * A server under test, started by bench-server.ts: `--door node-http|fastify|hono` serves the
 * OIP routes through that framework on one serving runtime; `--door oip` is the real server
 * (startOipServer from lib/server/oip-server.ts, what `npm start` runs). Models from HOTPATH_MODELS. Listens on a
 * free port on 127.0.0.1 and reports its URL over IPC; exits when the bench goes away.
 */
import { parseArgs } from 'node:util';
import { loadServingConfig } from '../../lib/config/serving-config';
import { createServingRuntime } from '../../lib/serving/serving-runtime';
import { startOipServer } from '../../lib/server/oip-server';
import { createLogger } from '../../lib/telemetry/powertools-telemetry';
import { exitWithParent, reportReady } from './bench-children';
import { startFastifyDoor } from './doors/fastify-door';
import { startHonoDoor } from './doors/hono-door';
import { startNodeHttpDoor } from './doors/node-http-door';
import type { OipDoor } from './doors/oip-answer';

const DOORS = ['node-http', 'fastify', 'hono', 'oip'] as const;
type DoorName = (typeof DOORS)[number];

const HOST = '127.0.0.1';

async function startDoor(door: DoorName): Promise<OipDoor> {
  if (door === 'oip') {
    const server = await startOipServer({ host: HOST, port: 0 });
    return { url: server.url, close: async () => void (await server.close()) };
  }
  const telemetry = { logger: createLogger() };
  const runtime = await createServingRuntime(loadServingConfig(process.env), telemetry.logger);
  const start = { 'node-http': startNodeHttpDoor, fastify: startFastifyDoor, hono: startHonoDoor }[door];
  return start(runtime, telemetry.logger, { host: HOST, port: 0 });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { door: { type: 'string' } }, strict: true });
  const door = values.door as DoorName;
  if (!DOORS.includes(door)) throw new Error(`--door must be one of ${DOORS.join(', ')}, not '${values.door}'`);
  const server = await startDoor(door);
  exitWithParent(() => server.close());
  reportReady(server.url);
}

main().catch((error: unknown) => {
  console.error(`server-child: ${error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
});
