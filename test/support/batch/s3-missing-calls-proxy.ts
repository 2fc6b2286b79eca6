/**
 * s3rver 3.7.1 (test/support/local-s3-server.ts) lacks three things batch scoring relies on:
 * it ignores `If-None-Match: *` on PutObject (S3's conditional write), answers UploadPartCopy
 * with 501 NotImplemented, and accepts parts under 5 MiB in a multipart upload. This proxy
 * sits between the SDK and s3rver on 127.0.0.1 and adds exactly those, as S3 documents them;
 * everything else goes to s3rver untouched:
 *
 * - PutObject with `If-None-Match: *`: one at a time per key; 412 PreconditionFailed when the
 *   key exists (a HeadObject on s3rver), else forwarded.
 * - UploadPartCopy (`PUT ?partNumber&uploadId` with `x-amz-copy-source[-range]`,
 *   `x-amz-copy-source-if-match`): a ranged GetObject of the source on s3rver, uploaded to
 *   s3rver as that part (so the bytes pass through this test process, which S3 does not
 *   need), answered with S3's `CopyPartResult` XML; 412 when the source's ETag differs.
 * - CompleteMultipartUpload: 400 EntityTooSmall when a part other than the last is under
 *   `minPartBytes` (S3: 5 MiB; tests lower it with the assembler's own option).
 *
 * Every request is counted by kind, so tests can say which calls were made.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface S3MissingCallsProxy {
  /** `http://127.0.0.1:<port>`: the endpoint for a path-style S3Client. */
  readonly endpoint: string;
  /** Requests seen, by kind: `put-if-none-match`, `upload-part-copy`, `upload-part`, `complete`, `get`, `put`, ... */
  readonly calls: Map<string, number>;
  close(): Promise<void>;
}

interface Upstream {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export async function startS3MissingCallsProxy(upstreamEndpoint: string, options: { minPartBytes?: number } = {}): Promise<S3MissingCallsProxy> {
  const upstream = new URL(upstreamEndpoint);
  const minPartBytes = options.minPartBytes ?? 5 * 1024 * 1024;
  const calls = new Map<string, number>();
  const count = (kind: string): void => void calls.set(kind, (calls.get(kind) ?? 0) + 1);
  const keyLocks = new Map<string, Promise<unknown>>();
  /** uploadId -> partNumber -> bytes, for the EntityTooSmall check. */
  const partSizes = new Map<string, Map<number, number>>();
  const sockets = new Set<Socket>();

  const send = (method: string, path: string, headers: IncomingHttpHeaders, body?: Buffer): Promise<Upstream> =>
    new Promise((resolve, reject) => {
      const outgoing = httpRequest({ host: upstream.hostname, port: upstream.port, method, path, headers: { ...headers, host: upstream.host } }, (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => resolve({ status: answer.statusCode ?? 500, headers: answer.headers, body: Buffer.concat(chunks) }));
        answer.on('error', reject);
      });
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  const readBody = async (request: IncomingMessage): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  const answerXml = (response: ServerResponse, status: number, xml: string, headers: Record<string, string> = {}): void => {
    response.writeHead(status, { 'content-type': 'application/xml', ...headers });
    response.end(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`);
  };
  const answerError = (response: ServerResponse, status: number, code: string, message: string): void =>
    answerXml(response, status, `<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error>`);
  const pipeThrough = (request: IncomingMessage, response: ServerResponse): void => {
    const outgoing = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers: { ...request.headers, host: upstream.host } },
      (answer) => {
        response.writeHead(answer.statusCode ?? 500, answer.headers);
        answer.pipe(response);
      },
    );
    outgoing.on('error', (error) => response.destroy(error));
    request.pipe(outgoing);
  };
  const withKeyLock = async <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const previous = keyLocks.get(key) ?? Promise.resolve();
    const run = previous.then(work, work);
    keyLocks.set(key, run.catch(() => undefined));
    return run;
  };

  const stripHeaders = (headers: IncomingHttpHeaders, names: readonly string[]): IncomingHttpHeaders =>
    Object.fromEntries(Object.entries(headers).filter(([name]) => !names.includes(name)));

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://proxy');
    const method = request.method ?? 'GET';
    const headers = request.headers;
    const uploadId = url.searchParams.get('uploadId');
    const partNumber = url.searchParams.get('partNumber');

    if (method === 'PUT' && uploadId !== null && partNumber !== null && headers['x-amz-copy-source'] !== undefined) {
      count('upload-part-copy');
      const source = decodeURIComponent(String(headers['x-amz-copy-source']).replace(/^\//, '').split('?')[0]!);
      const range = headers['x-amz-copy-source-range'] as string | undefined;
      const sourcePath = '/' + source.split('/').map(encodeURIComponent).join('/');
      const got = await send('GET', sourcePath, range !== undefined ? { range } : {});
      if (got.status !== 200 && got.status !== 206) {
        response.writeHead(got.status, got.headers);
        response.end(got.body);
        return;
      }
      const ifMatch = headers['x-amz-copy-source-if-match'];
      if (ifMatch !== undefined && String(ifMatch).replace(/"/g, '') !== String(got.headers.etag ?? '').replace(/"/g, '')) {
        answerError(response, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
        return;
      }
      const put = await send('PUT', request.url ?? '/', { 'content-length': String(got.body.byteLength) }, got.body);
      if (put.status !== 200) {
        response.writeHead(put.status, put.headers);
        response.end(put.body);
        return;
      }
      recordPart(uploadId, Number(partNumber), got.body.byteLength);
      answerXml(response, 200, `<CopyPartResult><LastModified>${new Date().toISOString()}</LastModified><ETag>${put.headers.etag}</ETag></CopyPartResult>`);
      return;
    }
    if (method === 'PUT' && uploadId !== null && partNumber !== null) {
      count('upload-part');
      const body = await readBody(request);
      const put = await send('PUT', request.url ?? '/', stripHeaders(headers, ['host']), body);
      if (put.status === 200) recordPart(uploadId, Number(partNumber), decodedLength(headers, body));
      response.writeHead(put.status, put.headers);
      response.end(put.body);
      return;
    }
    if (method === 'POST' && uploadId !== null) {
      count('complete');
      const body = await readBody(request);
      const numbers = [...body.toString('utf8').matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((m) => Number(m[1]));
      const sizes = partSizes.get(uploadId) ?? new Map<number, number>();
      const tooSmall = numbers.slice(0, -1).find((n) => (sizes.get(n) ?? 0) < minPartBytes);
      if (tooSmall !== undefined) {
        answerError(response, 400, 'EntityTooSmall', `Your proposed upload is smaller than the minimum allowed object size (part ${tooSmall}: ${sizes.get(tooSmall) ?? 0} bytes < ${minPartBytes})`);
        return;
      }
      const done = await send('POST', request.url ?? '/', stripHeaders(headers, ['host']), body);
      partSizes.delete(uploadId);
      response.writeHead(done.status, done.headers);
      response.end(done.body);
      return;
    }
    if (method === 'PUT' && headers['if-none-match'] === '*') {
      count('put-if-none-match');
      const body = await readBody(request);
      await withKeyLock(url.pathname, async () => {
        const head = await send('HEAD', url.pathname, {});
        if (head.status === 200) {
          answerError(response, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
          return;
        }
        const put = await send('PUT', request.url ?? '/', stripHeaders(headers, ['host', 'if-none-match']), body);
        response.writeHead(put.status, put.headers);
        response.end(put.body);
      });
      return;
    }
    count(method.toLowerCase());
    pipeThrough(request, response);
  };

  const recordPart = (uploadId: string, partNumber: number, bytes: number): void => {
    const sizes = partSizes.get(uploadId) ?? new Map<number, number>();
    sizes.set(partNumber, bytes);
    partSizes.set(uploadId, sizes);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) answerError(response, 500, 'InternalError', String(error));
      else response.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A part's payload size: the decoded length when the SDK sent aws-chunked framing. */
function decodedLength(headers: IncomingHttpHeaders, body: Buffer): number {
  const decoded = headers['x-amz-decoded-content-length'];
  return decoded !== undefined ? Number(decoded) : body.byteLength;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
