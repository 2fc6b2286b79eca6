import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { InvalidRequestError, PayloadTooLargeError } from '../errors/hotpath-error';
import { isContentEncoded } from './content-encoding';
import type { HttpRequest, HttpResponse } from './http-types';

const EMPTY = new Uint8Array(0);

/**
 * API Gateway HTTP API (payload 2.0) event → HttpRequest. The body size is checked against
 * `maxBodyBytes` before the body is decoded, so an oversized request costs no allocation.
 * A text body is kept as `text` and turned into bytes only if someone reads `body`: for a
 * JSON infer request of mlp-medium at batch 32 (483 KB) the UTF-8 round trip (encode here,
 * decode again before JSON.parse) cost 0.5 ms of the 3.4 ms the handler added to a 4.7 ms
 * session.run (`npm run bench:serve`, 2-core AMD EPYC).
 */
export function fromApiGatewayEvent(event: APIGatewayProxyEventV2, maxBodyBytes: number): HttpRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
  const raw = event.body;
  const method = event.requestContext?.http?.method ?? 'GET';
  const path = event.rawPath ?? event.requestContext?.http?.path ?? '/';
  let body: Uint8Array = EMPTY;
  if (raw !== undefined && raw !== null && raw.length > 0) {
    // base64 of n bytes is 4*ceil(n/3) characters; a UTF-8 string is at most 3 bytes per UTF-16 unit.
    const upperBound = event.isBase64Encoded ? Math.floor((raw.length * 3) / 4) : raw.length * 3;
    const declared = Number(headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBodyBytes) throw new PayloadTooLargeError(declared, maxBodyBytes);
    if (upperBound > maxBodyBytes) {
      const exact = event.isBase64Encoded ? Buffer.byteLength(raw, 'base64') : Buffer.byteLength(raw, 'utf8');
      if (exact > maxBodyBytes) throw new PayloadTooLargeError(exact, maxBodyBytes);
    }
    if (!event.isBase64Encoded) {
      if (!mustBeBytes(headers)) return textRequest(method, path, headers, raw);
      body = textThatCarriedBytes(raw, headers);
      return { method, path, headers, body };
    }
    body = Buffer.from(raw, 'base64');
    if (body.byteLength > maxBodyBytes) throw new PayloadTooLargeError(body.byteLength, maxBodyBytes);
  }
  return { method, path, headers, body };
}

/** Binary tensors (Triton's extension) and compressed bodies are bytes, whatever the transport did with them. */
function mustBeBytes(headers: Readonly<Record<string, string | undefined>>): boolean {
  return headers['inference-header-content-length'] !== undefined || isContentEncoded(headers['content-encoding']);
}

/**
 * API Gateway HTTP APIs deliver a body as text (isBase64Encoded false) when its Content-Type
 * is a text type such as application/json, having decoded the bytes as UTF-8: bytes that are
 * not valid UTF-8 (most float tensors, every gzip stream) were replaced by U+FFFD and cannot
 * be recovered. Valid UTF-8 survives and is encoded back; anything else gets a 400 that says
 * what to send instead.
 */
function textThatCarriedBytes(text: string, headers: Readonly<Record<string, string | undefined>>): Uint8Array {
  const bytes = Buffer.from(text, 'utf8');
  const declared = Number(headers['content-length']);
  const altered = Number.isFinite(declared) && headers['content-length'] !== undefined ? declared !== bytes.byteLength : text.includes('\uFFFD');
  if (altered) {
    const what = headers['inference-header-content-length'] !== undefined ? 'binary tensor data (Inference-Header-Content-Length)' : `a ${headers['content-encoding']}-compressed body`;
    throw new InvalidRequestError(
      `the body carries ${what} but arrived as text (Content-Type '${headers['content-type'] ?? ''}'), which API Gateway decodes as UTF-8 and cannot give back intact; `
      + 'send it with Content-Type: application/octet-stream (or no Content-Type)',
    );
  }
  return bytes;
}

/** A request whose body arrived as text (already checked against the limit): bytes on first read of `body`. */
function textRequest(method: string, path: string, headers: Record<string, string | undefined>, text: string): HttpRequest {
  let bytes: Uint8Array | undefined;
  return {
    method,
    path,
    headers,
    text,
    get body() {
      bytes ??= Buffer.from(text, 'utf8');
      return bytes;
    },
  };
}

/** HttpResponse → API Gateway result; binary bodies travel base64-encoded. */
export function toApiGatewayResult(response: HttpResponse): APIGatewayProxyStructuredResultV2 {
  if (typeof response.body === 'string') {
    return { statusCode: response.status, headers: response.headers, body: response.body, isBase64Encoded: false };
  }
  return { statusCode: response.status, headers: response.headers, body: response.body.toString('base64'), isBase64Encoded: true };
}
