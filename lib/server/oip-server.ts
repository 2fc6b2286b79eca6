import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadServingConfig, type ServingConfig } from '../config/serving-config';
import { InvalidRequestError, PayloadTooLargeError, ServerBusyError } from '../errors/hotpath-error';
import { errorToHttpResponse } from '../http/http-error-response';
import type { HttpRequest, HttpResponse } from '../http/http-types';
import { serveOipRequest } from '../http/serve-oip-request';
import { createEventLoopTurns } from './event-loop-turns';
import { isDetectionStreamRequest, serveDetectionStream } from '../streaming/detection-stream-node';
import { createModelRepositoryControl } from '../models/model-repository-control';
import { createServingRuntime, type ModelRepositoryControlFactory, type ServingRuntime } from '../serving/serving-runtime';
import type { Logger } from '@aws-lambda-powertools/logger';
import { aggregatingMetricsSink, createLogger } from '../telemetry/powertools-telemetry';

export interface OipServerOptions {
  /** Overrides on top of the HOTPATH_* environment (ignored when `runtime` is given). */
  readonly config?: Partial<ServingConfig>;
  /** An already created runtime (tests, the GPU task), left to its owner at close; by default one is created from the config and released at close. */
  readonly runtime?: ServingRuntime;
  /** The server's logger (a Powertools Logger by default). The server does not trace: see powertools-telemetry.ts. */
  readonly logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Default: the config's (HOTPATH_HOST, 127.0.0.1: nothing outside this machine reaches it unless asked). */
  readonly host?: string;
  /** Default: the config's (HOTPATH_PORT, 3000); 0 picks a free port. */
  readonly port?: number;
  /**
   * One request's work per event-loop turn (default true): right when runs block the loop (the
   * wasm and kernel backends run synchronously), so new connections and sockets are served
   * between them (see event-loop-turns.ts). A server whose runs leave the loop free (native
   * sessions behind the dynamic batcher: the GPU task) passes false, so requests reach the
   * batcher's queue at once and batches form there.
   */
  readonly requestTurns?: boolean;
}

export interface RunningOipServer {
  /** `http://<host>:<port>`, no trailing slash. */
  readonly url: string;
  readonly port: number;
  readonly runtime: ServingRuntime;
  readonly server: Server;
  /** Requests admitted and not yet answered. */
  inflight(): number;
  /**
   * Stops accepting, lets the requests in flight finish within `drainMs` (HOTPATH_DRAIN_MS by
   * default), closes every connection and releases the models (when the server created them). Resolves `true` when all
   * requests finished in time, `false` when some were cut off at the bound.
   */
  close(drainMs?: number): Promise<boolean>;
}

/**
 * Node's http server, not a framework: the request path is ours end to end (body limit,
 * admission, routing in routeOipRequest), and on this workload node:http answered as fast as
 * fastify and hono did (BENCHMARKS.md, Server: framework choice, `npm run bench:server`).
 */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/**
 * The Open Inference Protocol server for everything that is not Lambda: `npm start`, the GPU
 * container task, streaming. The same routes, codecs, errors, config and telemetry as the
 * Lambda handler (both call serveOipRequest), but one long-lived process: concurrent requests
 * share one model set and its sessions, admission is bounded (503 with Retry-After past
 * HOTPATH_MAX_INFLIGHT), and bodies are refused at HOTPATH_MAX_BODY_BYTES before they are read.
 *
 * @example
 * const server = await startOipServer({ port: 0 });
 * await fetch(`${server.url}/v2/health/ready`);
 * await server.close();
 */
export async function startOipServer(options: OipServerOptions = {}): Promise<RunningOipServer> {
  const logger = options.logger ?? createLogger();
  const ownsRuntime = options.runtime === undefined;
  const runtime = options.runtime ?? (await createOwnRuntime(loadServingConfig(process.env, options.config ?? {}), logger));
  const { config } = runtime;
  const metrics = aggregatingMetricsSink('hotpath', 'hotpath');
  const nextTurn = options.requestTurns === false ? undefined : createEventLoopTurns();
  let inflight = 0;
  let draining = false;
  let drained: (() => void) | undefined;

  const handle = async function handleOipHttpRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const signal = connectionSignal(req);
    if (draining) {
      res.setHeader('connection', 'close');
      send(res, errorToHttpResponse(new ServerBusyError('the server is shutting down; retry on another instance', 1), logger));
      return;
    }
    if (inflight >= config.maxInflight) {
      const busy = new ServerBusyError(`server busy: ${inflight} requests in flight, the limit is ${config.maxInflight} (HOTPATH_MAX_INFLIGHT); retry after 1 s`, 1);
      send(res, errorToHttpResponse(busy, logger));
      return;
    }
    inflight++;
    const finished = runtime.beginRequest();
    try {
      // The voice detector's stream reads its body as it arrives and answers while it does (lib/streaming/).
      if (isDetectionStreamRequest(req)) return await serveDetectionStream(runtime, req, res, signal, logger);
      const body = await readBody(req, res, config.maxBodyBytes);
      if (nextTurn) await nextTurn();
      const request: HttpRequest = { method: req.method ?? 'GET', path: pathOf(req.url), headers: flatHeaders(req), body };
      const response = await serveOipRequest(runtime, request, {
        deadline: performance.now() + config.requestTimeoutMs,
        signal,
        metrics,
      });
      send(res, response);
    } catch (error) {
      // A caller that went away mid-body or mid-inference gets no answer, and it is not the server's error.
      if (res.destroyed || signal.aborted) logger.info('request abandoned: the client closed the connection');
      else send(res, errorToHttpResponse(error, logger));
    } finally {
      finished();
      inflight--;
      if (draining && inflight === 0) drained?.();
    }
  };

  const server = createServer({ keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS }, (req, res) => void handle(req, res));
  // Node's default of 5 s would close idle keep-alive connections a load balancer still holds.
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;
  // A client that half-closes after sending its request (FIN, as `nc` and some HTTP/1.0 clients
  // do) still gets its answer: by default Node aborts the requests of such a connection and ends
  // it at once, so any request whose answer takes another event-loop turn (a queued turn, a
  // remote route, a batch) was lost. With this set, Node finishes the answer, then ends.
  (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  // Bytes that are not HTTP/1.1 (Node's parser refused them) get the protocol's {"error"} too, not a bare 400.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || error.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const body = JSON.stringify({ error: `malformed HTTP request (${error.code ?? 'parse error'}); send HTTP/1.1 with a Content-Length or chunked body` });
    socket.end(`HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
  const host = options.host ?? config.host;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? config.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  let closing: Promise<boolean> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    runtime,
    server,
    inflight: () => inflight,
    close(drainMs = config.drainMs) {
      closing ??= (async function drainAndClose() {
        draining = true;
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        let finished = inflight === 0;
        if (!finished) {
          finished = await new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => resolve(false), drainMs);
            drained = () => {
              clearTimeout(timer);
              resolve(true);
            };
          });
        }
        server.closeAllConnections();
        await stopped;
        metrics.close();
        if (ownsRuntime) {
          await runtime.repository?.close();
          await runtime.registry.dispose();
        }
        return finished;
      })();
      return closing;
    },
  };
}

/** The server's own runtime; with HOTPATH_MODEL_REPOSITORY it serves Triton's model repository extension over that folder. */
function createOwnRuntime(config: ServingConfig, logger: Pick<Logger, 'info' | 'error'>): Promise<ServingRuntime> {
  const repository = config.modelRepository;
  const control: ModelRepositoryControlFactory | undefined = repository === undefined
    ? undefined
    : (models) => createModelRepositoryControl({ repository, models, ortWebDir: config.ortWebDir, wasmThreads: config.wasmThreads, logger });
  return createServingRuntime(config, logger, {}, control);
}

/**
 * Reads the body into one buffer, refusing it (413) as soon as it is known to be over the
 * limit: from Content-Length before a byte is read, or while a chunked body streams in.
 */
async function readBody(req: IncomingMessage, res: ServerResponse, limit: number): Promise<Uint8Array> {
  const declaredRaw = req.headers['content-length'];
  const declared = declaredRaw === undefined ? undefined : Number(declaredRaw);
  if (declared !== undefined && declared > limit) {
    // The rest of the body is never read: close the connection after the answer.
    res.setHeader('connection', 'close');
    throw new PayloadTooLargeError(declared, limit);
  }
  if (declared === 0) return new Uint8Array(0);
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    received += chunk.byteLength;
    if (received > limit) {
      res.setHeader('connection', 'close');
      throw new PayloadTooLargeError(`request body is over the limit of ${limit} bytes; send larger batches to batch scoring or split the request`);
    }
    chunks.push(chunk);
  }
  if (declared !== undefined && received !== declared) throw new InvalidRequestError(`request body has ${received} bytes, Content-Length says ${declared}`);
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received);
}

const connectionSignals = new WeakMap<object, AbortSignal>();

/**
 * An AbortSignal that fires when the request's connection closes: the caller is gone and
 * nothing it asked for may still run. One per keep-alive connection, not one per request:
 * creating an AbortController and its signal cost ~16 µs per request in a CPU profile of
 * iris-classifier at 32 connections, as much as decoding the request.
 */
function connectionSignal(req: IncomingMessage): AbortSignal {
  const { socket } = req;
  let signal = connectionSignals.get(socket);
  if (signal === undefined) {
    const controller = new AbortController();
    socket.once('close', () => controller.abort());
    signal = controller.signal;
    connectionSignals.set(socket, signal);
  }
  return signal;
}

function pathOf(url: string | undefined): string {
  if (!url) return '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

function flatHeaders(req: IncomingMessage): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  return headers;
}

function send(res: ServerResponse, response: HttpResponse): void {
  if (res.headersSent || res.destroyed) return;
  const body = typeof response.body === 'string' ? Buffer.from(response.body, 'utf8') : response.body;
  res.writeHead(response.status, { ...response.headers, 'content-length': String(body.byteLength) });
  res.end(body);
}
