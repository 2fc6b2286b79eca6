/** A transport-neutral HTTP request: what API Gateway, a Function URL or a test hands the router. */
export interface HttpRequest {
  readonly method: string;
  readonly path: string;
  /** Lower-cased names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Uint8Array;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  /** A Buffer body is binary (base64 through API Gateway); a string is text. */
  readonly body: string | Buffer;
}

export function jsonResponse(status: number, value: unknown, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(value) };
}
