/** A transport-neutral HTTP request: what API Gateway, a Function URL or a test hands the router. */
export interface HttpRequest {
  readonly method: string;
  readonly path: string;
  /** Lower-cased names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Uint8Array;
  /**
   * The body as the transport delivered it when that was text (API Gateway without base64).
   * JSON readers parse it as it is instead of decoding `body` back into the same string.
   */
  readonly text?: string;
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
