import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PayloadTooLargeError } from '../../../lib/errors/hotpath-error';
import { errorToHttpResponse, type ErrorLogger } from '../../../lib/http/http-error-response';
import type { HttpResponse } from '../../../lib/http/http-types';
import type { ServingRuntime } from '../../../lib/serving/serving-runtime';
import { createOipAnswer, flattenHeaders, pathOf, type DoorOptions, type OipDoor } from './oip-answer';

/** Collects a request body up to `limit` bytes; a declared or actual size past it is refused before more is read. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new PayloadTooLargeError(declared, limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new PayloadTooLargeError(size, limit));
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
}

function writeAnswer(res: ServerResponse, response: HttpResponse): void {
  res.writeHead(response.status, response.headers);
  res.end(response.body);
}

/** The OIP routes on plain node:http: the framework comparison's baseline door. */
export async function startNodeHttpDoor(runtime: ServingRuntime, logger: ErrorLogger, options: DoorOptions): Promise<OipDoor> {
  const answer = createOipAnswer(runtime, logger);
  const limit = runtime.config.maxBodyBytes;
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    readBody(req, limit)
      .then((body) => answer({ method: req.method ?? 'GET', path: pathOf(req.url), headers: flattenHeaders(req.headers), body }))
      .catch((error: unknown) => errorToHttpResponse(error, logger))
      .then((response) => writeAnswer(res, response));
  });
  server.listen(options.port, options.host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host}:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
