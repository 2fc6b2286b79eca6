import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { PayloadTooLargeError } from '../../../lib/errors/hotpath-error';
import { errorToHttpResponse, type ErrorLogger } from '../../../lib/http/http-error-response';
import type { HttpResponse } from '../../../lib/http/http-types';
import type { ServingRuntime } from '../../../lib/serving/serving-runtime';
import { createOipAnswer, type DoorOptions, type OipDoor } from './oip-answer';

function toWebResponse(response: HttpResponse): Response {
  return new Response(response.body, { status: response.status, headers: response.headers });
}

/** The OIP routes on hono 4 served by @hono/node-server (Node request → Web Request → Web Response → Node response). */
export async function startHonoDoor(runtime: ServingRuntime, logger: ErrorLogger, options: DoorOptions): Promise<OipDoor> {
  const answer = createOipAnswer(runtime, logger);
  const limit = runtime.config.maxBodyBytes;
  const app = new Hono();
  app.use('*', bodyLimit({ maxSize: limit, onError: (c) => toWebResponse(errorToHttpResponse(new PayloadTooLargeError(Number(c.req.header('content-length') ?? NaN), limit), logger)) }));
  app.all('*', async function honoOipRoute(c) {
    const body = new Uint8Array(await c.req.arrayBuffer());
    return toWebResponse(await answer({ method: c.req.method, path: c.req.path, headers: c.req.header(), body }));
  });
  const server = serve({ fetch: app.fetch, hostname: options.host, port: options.port });
  if (!server.listening) await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
