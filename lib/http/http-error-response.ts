import { HotpathError, MethodNotAllowedError, ServerBusyError } from '../errors/hotpath-error';
import type { StructuredLogger } from '../telemetry/structured-logger';
import { jsonResponse, type HttpResponse } from './http-types';

export type ErrorLogger = Pick<StructuredLogger, 'warn' | 'error'>;

/**
 * The one place errors become HTTP answers: `{"error": message}` with the error's status.
 * A HotpathError's message is shown when `expose` is set; anything else is logged with its
 * stack and answered with a generic 500 that carries the request id, never the stack.
 */
export function errorToHttpResponse(error: unknown, logger: ErrorLogger, requestId?: string): HttpResponse {
  if (error instanceof HotpathError && error.expose) {
    logger.warn('request refused', { status: error.status, error: error.message });
    const headers: Record<string, string> = error instanceof MethodNotAllowedError
      ? { allow: error.allow.join(', ') }
      : error instanceof ServerBusyError ? { 'retry-after': String(error.retryAfterSeconds) } : {};
    return jsonResponse(error.status, { error: error.message }, headers);
  }
  const status = error instanceof HotpathError ? error.status : 500;
  logger.error('request failed', { status, error });
  const suffix = requestId ? `; quote request id ${requestId} when reporting it` : '';
  return jsonResponse(status, { error: `internal error${suffix}` });
}
