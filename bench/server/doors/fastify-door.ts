import Fastify, { type FastifyError } from 'fastify';
import type { ErrorLogger } from '../../../lib/http/http-error-response';
import { errorToHttpResponse } from '../../../lib/http/http-error-response';
import type { ServingRuntime } from '../../../lib/serving/serving-runtime';
import { createOipAnswer, flattenHeaders, pathOf, type DoorOptions, type OipDoor } from './oip-answer';

/**
 * The OIP routes on fastify 5: one catch-all route, every body taken as raw bytes (the OIP
 * codecs parse JSON and the binary extension themselves), fastify's own logger off.
 */
export async function startFastifyDoor(runtime: ServingRuntime, logger: ErrorLogger, options: DoorOptions): Promise<OipDoor> {
  const answer = createOipAnswer(runtime, logger);
  const app = Fastify({ logger: false, bodyLimit: runtime.config.maxBodyBytes, keepAliveTimeout: 65_000 });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.setErrorHandler((error: FastifyError, _request, reply) => {
    // Fastify's own refusals (body over bodyLimit, malformed framing) keep their status.
    const status = typeof error.statusCode === 'number' ? error.statusCode : 500;
    const response = status < 500 ? { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: error.message }) } : errorToHttpResponse(error, logger);
    void reply.code(response.status).headers(response.headers).send(response.body);
  });
  app.route({
    method: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'],
    url: '/*',
    handler: async function fastifyOipRoute(request, reply) {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const response = await answer({ method: request.method, path: pathOf(request.url), headers: flattenHeaders(request.headers), body });
      return reply.code(response.status).headers(response.headers).send(response.body);
    },
  });
  const address = await app.listen({ host: options.host, port: options.port });
  return { url: address.replace('localhost', options.host), close: () => app.close() };
}
