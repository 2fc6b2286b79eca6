import type { ServingRuntime } from '../serving/serving-runtime';
import type { InferAnswer } from '../serving/infer';
import { StageTimings, type OpenStageSpan } from '../telemetry/stage-timings';
import type { HttpRequest, HttpResponse } from './http-types';
import { routeOipRequest } from './oip-router';

/** Where a door records what one answered request cost (Powertools EMF on Lambda and in the server). */
export interface RequestMetricsSink {
  recordInference(answer: InferAnswer, totalMs: number): void;
  recordRequest(totalMs: number): void;
}

export interface ServeOipOptions {
  readonly deadline?: number;
  readonly signal?: AbortSignal;
  /** One tracer span per stage (Powertools Tracer on Lambda); none by default. */
  readonly openSpan?: OpenStageSpan;
  readonly metrics?: RequestMetricsSink;
}

/**
 * One HTTP request through the Open Inference Protocol routes, as every HTTP door (API Gateway,
 * the OIP server) serves it: models loaded (a no-op unless HOTPATH_INIT=lazy), routed, each
 * stage timed into `Server-Timing` and the metrics. Errors are thrown: the door's one error
 * answer (errorToHttpResponse) turns them into `{"error"}`.
 */
export async function serveOipRequest(runtime: ServingRuntime, request: HttpRequest, options: ServeOipOptions = {}): Promise<HttpResponse> {
  const started = performance.now();
  await runtime.ensureLoaded();
  const timings = new StageTimings(options.openSpan);
  const { response, inference } = await routeOipRequest(runtime, request, { timings, deadline: options.deadline, signal: options.signal });
  const total = performance.now() - started;
  if (inference) options.metrics?.recordInference(inference, total);
  else options.metrics?.recordRequest(total);
  response.headers['server-timing'] = [timings.toServerTiming(), `total;dur=${total.toFixed(3)}`].filter(Boolean).join(', ');
  return response;
}
