/**
 * The network between the Lambda router and a real remote OIP server, for fault tests: a
 * node:http proxy on 127.0.0.1 that forwards to the real server (keep-alive, bodies as they
 * are) or, per request, misbehaves as a network or a broken task does: delays, answers a status
 * itself, answers a malformed body, resets the connection before or in the middle of the
 * answer; `stop()`/`start()` take it down and bring it back on the same port (connection
 * refused in between). Every request is recorded (headers, body, the OIP `id`, the connection
 * it came on).
 *
 * @example
 * const proxy = await startFaultProxy(server.url);
 * proxy.setFault({ kind: 'status', status: 500 });
 * // ... calls through proxy.url get 500 ...
 * proxy.setFault({ kind: 'pass' });
 * await proxy.close();
 */
import { Agent, createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';

export type Fault =
  /** Forward to the real server. */
  | { readonly kind: 'pass' }
  /** Forward after `ms` (the answer arrives that much later). */
  | { readonly kind: 'delay'; readonly ms: number }
  /** Answer `status` without forwarding, with the protocol's `{"error"}` body unless `body` is given. */
  | { readonly kind: 'status'; readonly status: number; readonly body?: string; readonly headers?: Record<string, string> }
  /** Answer 200 with this body (and headers) without forwarding. */
  | { readonly kind: 'malformed'; readonly body: string | Buffer; readonly headers?: Record<string, string> }
  /** Forward, then send the real answer's head and half its body, and reset the connection (TCP RST). */
  | { readonly kind: 'reset-mid-response' }
  /** Reset the connection as soon as the request has arrived, before any answer byte. */
  | { readonly kind: 'reset-before-response' };

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
  /** The request's JSON (the whole body, or its Inference-Header-Content-Length prefix); undefined when not JSON. */
  readonly json: Record<string, unknown> | undefined;
  /** Which TCP connection it came on (1, 2, ... in order of arrival). */
  readonly connection: number;
  readonly fault: Fault['kind'];
}

export interface FaultProxy {
  readonly url: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  /** The fault for the next requests: one for all, or one chosen per request (`index` counts from 0 over the proxy's life). */
  setFault(fault: Fault | ((request: RecordedRequest, index: number) => Fault)): void;
  /** Connections accepted so far. */
  connections(): number;
  /** Stops listening and drops every connection: the task is down (connection refused). */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startFaultProxy(targetUrl: string): Promise<FaultProxy> {
  const target = new URL(targetUrl);
  const agent = new Agent({ keepAlive: true });
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const connectionIds = new WeakMap<Socket, number>();
  let connectionCount = 0;
  let choose: (request: RecordedRequest, index: number) => Fault = () => ({ kind: 'pass' });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    const partial = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body, json: jsonOf(req.headers, body), connection: connectionIds.get(req.socket) ?? 0 };
    const fault = choose({ ...partial, fault: 'pass' }, requests.length);
    requests.push({ ...partial, fault: fault.kind });
    switch (fault.kind) {
      case 'status': {
        const text = fault.body ?? JSON.stringify({ error: `fault proxy: HTTP ${fault.status}` });
        res.writeHead(fault.status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...fault.headers });
        res.end(text);
        return;
      }
      case 'malformed': {
        const bytes = Buffer.isBuffer(fault.body) ? fault.body : Buffer.from(fault.body);
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(bytes.byteLength), ...fault.headers });
        res.end(bytes);
        return;
      }
      case 'reset-before-response':
        req.socket.resetAndDestroy();
        return;
      case 'delay':
        // Over early when the caller hangs up: nothing is left waiting once the test is done.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, fault.ms);
          res.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
        });
        break;
      default:
        break;
    }
    if (res.destroyed) return;
    let upstream: { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer };
    try {
      upstream = await forward(agent, target, req, body);
    } catch {
      req.socket.destroy();
      return;
    }
    if (res.destroyed) return;
    const headers = { ...upstream.headers };
    delete headers.connection;
    delete headers['keep-alive'];
    delete headers['transfer-encoding'];
    if (fault.kind === 'reset-mid-response') {
      res.writeHead(upstream.status, { ...headers, 'content-length': String(upstream.body.byteLength) });
      res.write(upstream.body.subarray(0, Math.floor(upstream.body.byteLength / 2)), () => req.socket.resetAndDestroy());
      return;
    }
    res.writeHead(upstream.status, { ...headers, 'content-length': String(upstream.body.byteLength) });
    res.end(upstream.body);
  };

  const server: Server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => void handle(req, res));
  server.on('connection', (socket) => {
    connectionIds.set(socket, ++connectionCount);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const listen = (port: number) => new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  await listen(0);
  const { port } = server.address() as AddressInfo;
  const stop = () => new Promise<void>((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    for (const socket of sockets) socket.destroy();
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    setFault(fault) {
      choose = typeof fault === 'function' ? fault : () => fault;
    },
    connections: () => connectionCount,
    stop,
    start: () => listen(port),
    async close() {
      await stop();
      agent.destroy();
    },
  };
}

function forward(agent: Agent, target: URL, req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers = { ...req.headers, host: target.host, 'content-length': String(body.byteLength) };
    delete headers.connection;
    const upstream = httpRequest(new URL(req.url ?? '/', target), { method: req.method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    upstream.on('error', reject);
    upstream.end(body);
  });
}

/** The request's JSON (inflated first when it came gzip-encoded). */
function jsonOf(headers: IncomingMessage['headers'], raw: Buffer): Record<string, unknown> | undefined {
  try {
    const body = headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
    const length = headers['inference-header-content-length'];
    const parsed = JSON.parse((length === undefined ? body : body.subarray(0, Number(length))).toString('utf8')) as unknown;
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
