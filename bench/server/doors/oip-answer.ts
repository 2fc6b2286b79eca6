import { errorToHttpResponse, type ErrorLogger } from '../../../lib/http/http-error-response';
import type { HttpRequest, HttpResponse } from '../../../lib/http/http-types';
import { serveOipRequest } from '../../../lib/http/serve-oip-request';
import type { ServingRuntime } from '../../../lib/serving/serving-runtime';

/** A framework door under test: where it listens and how to stop it. */
export interface OipDoor {
  readonly url: string;
  close(): Promise<void>;
}

export interface DoorOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
}

/**
 * What every door of the framework comparison runs per request, so the doors differ only in
 * how they read the request and write the answer: the core every HTTP door calls
 * (serveOipRequest: routes, stages, `Server-Timing`) and the one error mapper.
 */
export function createOipAnswer(runtime: ServingRuntime, logger: ErrorLogger) {
  return async function answerOipRequest(request: HttpRequest): Promise<HttpResponse> {
    try {
      return await serveOipRequest(runtime, request);
    } catch (error) {
      return errorToHttpResponse(error, logger);
    }
  };
}

/** Node's header record (arrays only for repeated headers) as the router's lower-cased string record. */
export function flattenHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): Record<string, string | undefined> {
  const flat: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  return flat;
}

/** The path of a request target without its query string. */
export function pathOf(target: string | undefined): string {
  const raw = target ?? '/';
  const query = raw.indexOf('?');
  return query < 0 ? raw : raw.slice(0, query);
}
