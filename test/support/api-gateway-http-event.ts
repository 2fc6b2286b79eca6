import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';

/** An HTTP request as a client put it on the wire: header names in any case, in the order sent. */
export interface WireRequest {
  readonly method: string;
  /** Path and query as in the request line, e.g. `/v2/models/m/infer?x=1`. */
  readonly target: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Uint8Array;
}

/** An HTTP answer as a client reads it: lower-cased header names, the body's bytes as sent. */
export interface WireResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

/**
 * Whether an API Gateway HTTP API (Lambda proxy, payload format 2.0) hands the body to the
 * function as text (`isBase64Encoded: false`) rather than base64.
 *
 * The rule: text only when the request's media type (Content-Type before any `;`, trimmed,
 * case-insensitive) is `text/*`, `application/json`, `application/xml` or
 * `application/javascript`; every other body is base64 with `isBase64Encoded: true` — a missing
 * Content-Type (what Triton's Python client sends, JSON or binary), `application/octet-stream`,
 * and also `application/x-www-form-urlencoded`. HTTP APIs have no binaryMediaTypes setting
 * to change this (that is REST APIs).
 *
 * Sources: the AWS guide states the mechanism only ("If the content type of the request is
 * binary, the body is base64-encoded"; docs.aws.amazon.com/apigateway/latest/developerguide/
 * http-api-develop-integrations-lambda.html, payload format 2.0) without listing the types;
 * the list was checked against real AWS (HTTP API, payload 2.0, AWS_PROXY) in
 * github.com/ministackorg/ministack pull request #766 ("delivered as a UTF-8 string only for
 * text/* and application/json / application/xml / application/javascript; everything else —
 * including a missing Content-Type ... — is base64-encoded"; `_v2_request_body_is_text` in
 * ministack/services/apigateway.py); the same split is shown for Lambda function URLs, which
 * deliver the same 2.0 payload (AWS slide deck "リクエストのContent-typeを application/json または
 * text/* に設定しないと、bodyがデフォルトでbase64でエンコードされる").
 *
 * Not documented and not verified anywhere we found: a compressed body (Content-Encoding gzip
 * or deflate) declared as one of the text types. HTTP APIs do not inflate request bodies (that
 * is REST APIs' content-encoding support), so the rule above still picks text and such a body
 * is modelled here as the worst case: its bytes decoded as UTF-8 with U+FFFD for invalid
 * sequences, which loses the body. Triton's client never sends that case (it sets no
 * Content-Type), but a server has to refuse it with a 400 rather than misread it.
 */
export function httpApiDeliversText(contentType: string | undefined): boolean {
  const media = (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
  return media.startsWith('text/') || media === 'application/json' || media === 'application/xml' || media === 'application/javascript';
}

export interface HttpApiEventOptions {
  /** Value of the `host` header API Gateway adds; default `abc123.execute-api.us-east-1.amazonaws.com`. */
  readonly domainName?: string;
  readonly sourceIp?: string;
  /** Fixed request time, for reproducible events (default: now). */
  readonly now?: Date;
}

/**
 * The payload 2.0 event an API Gateway HTTP API (`$default` route and stage) delivers to a
 * Lambda proxy integration for `request`, as the AWS guide's example shows it: header names
 * lower-cased, repeated headers joined with commas, `cookie` headers moved to `cookies`, the
 * gateway's own `host`/`x-forwarded-*`/`x-amzn-trace-id` headers, `queryStringParameters`
 * with repeated keys joined by commas (absent without a query), no `body` for an empty body,
 * and the body as text or base64 by {@link httpApiDeliversText}.
 */
export function buildHttpApiEvent(request: WireRequest, options: HttpApiEventOptions = {}): APIGatewayProxyEventV2 {
  const domainName = options.domainName ?? 'abc123.execute-api.us-east-1.amazonaws.com';
  const sourceIp = options.sourceIp ?? '203.0.113.7';
  const now = options.now ?? new Date();
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [rawName, value] of request.headers) {
    const name = rawName.toLowerCase();
    if (name === 'cookie') {
      cookies.push(...value.split(';').map((c) => c.trim()).filter((c) => c.length > 0));
      continue;
    }
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  headers.host = domainName;
  headers['x-amzn-trace-id'] = `Root=1-${Math.floor(now.getTime() / 1000).toString(16)}-${randomUUID().replace(/-/g, '').slice(0, 24)}`;
  headers['x-forwarded-for'] = sourceIp;
  headers['x-forwarded-port'] = '443';
  headers['x-forwarded-proto'] = 'https';

  const queryAt = request.target.indexOf('?');
  const rawPath = queryAt < 0 ? request.target : request.target.slice(0, queryAt);
  const rawQueryString = queryAt < 0 ? '' : request.target.slice(queryAt + 1);
  const text = httpApiDeliversText(headers['content-type']);
  const bodyBytes = Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength);
  const event = {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(rawQueryString.length > 0 ? { queryStringParameters: parseQuery(rawQueryString) } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: domainName.split('.')[0]!,
      domainName,
      domainPrefix: domainName.split('.')[0]!,
      http: { method: request.method.toUpperCase(), path: decodeURIComponentSafe(rawPath), protocol: 'HTTP/1.1', sourceIp, userAgent: headers['user-agent'] ?? '' },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: apiGatewayTime(now),
      timeEpoch: now.getTime(),
    },
    ...(request.body.byteLength > 0 ? { body: text ? bodyBytes.toString('utf8') : bodyBytes.toString('base64') } : {}),
    isBase64Encoded: request.body.byteLength > 0 && !text,
  };
  return event as APIGatewayProxyEventV2;
}

/**
 * What API Gateway sends back to the client for a function's result (payload 2.0): a
 * structured result's status, headers and body (base64-decoded when `isBase64Encoded`); a
 * result without `statusCode` is a 200 `application/json` answer whose body is the result
 * (a string as it is, anything else as JSON).
 */
export function httpApiResponseFromResult(result: APIGatewayProxyResultV2): WireResponse {
  if (typeof result === 'string' || result === null || typeof result !== 'object' || !('statusCode' in result)) {
    const body = typeof result === 'string' ? result : JSON.stringify(result);
    return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(body, 'utf8') };
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name.toLowerCase()] = String(value);
  const raw = result.body ?? '';
  const body = result.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  return { status: result.statusCode ?? 200, headers, body };
}

function parseQuery(query: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of query.split('&')) {
    if (pair.length === 0) continue;
    const eq = pair.indexOf('=');
    const key = decodeQueryPart(eq < 0 ? pair : pair.slice(0, eq));
    const value = decodeQueryPart(eq < 0 ? '' : pair.slice(eq + 1));
    out[key] = out[key] === undefined ? value : `${out[key]},${value}`;
  }
  return out;
}

function decodeQueryPart(part: string): string {
  return decodeURIComponentSafe(part.replace(/\+/g, ' '));
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `requestContext.time` as API Gateway writes it: `07/Aug/2026:01:37:53 +0000`. */
function apiGatewayTime(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}
