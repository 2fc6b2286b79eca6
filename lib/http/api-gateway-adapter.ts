import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { PayloadTooLargeError } from '../errors/hotpath-error';
import type { HttpRequest, HttpResponse } from './http-types';

const EMPTY = new Uint8Array(0);

/**
 * API Gateway HTTP API (payload 2.0) event → HttpRequest. The body size is checked against
 * `maxBodyBytes` before the body is decoded, so an oversized request costs no allocation.
 */
export function fromApiGatewayEvent(event: APIGatewayProxyEventV2, maxBodyBytes: number): HttpRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
  const raw = event.body;
  let body = EMPTY;
  if (raw !== undefined && raw !== null && raw.length > 0) {
    // base64 of n bytes is 4*ceil(n/3) characters; a UTF-8 string is at most 3 bytes per UTF-16 unit.
    const upperBound = event.isBase64Encoded ? Math.floor((raw.length * 3) / 4) : raw.length * 3;
    const declared = Number(headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBodyBytes) throw new PayloadTooLargeError(declared, maxBodyBytes);
    if (upperBound > maxBodyBytes) {
      const exact = event.isBase64Encoded ? Buffer.byteLength(raw, 'base64') : Buffer.byteLength(raw, 'utf8');
      if (exact > maxBodyBytes) throw new PayloadTooLargeError(exact, maxBodyBytes);
    }
    body = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
    if (body.byteLength > maxBodyBytes) throw new PayloadTooLargeError(body.byteLength, maxBodyBytes);
  }
  return {
    method: event.requestContext?.http?.method ?? 'GET',
    path: event.rawPath ?? event.requestContext?.http?.path ?? '/',
    headers,
    body,
  };
}

/** HttpResponse → API Gateway result; binary bodies travel base64-encoded. */
export function toApiGatewayResult(response: HttpResponse): APIGatewayProxyStructuredResultV2 {
  if (typeof response.body === 'string') {
    return { statusCode: response.status, headers: response.headers, body: response.body, isBase64Encoded: false };
  }
  return { statusCode: response.status, headers: response.headers, body: response.body.toString('base64'), isBase64Encoded: true };
}
