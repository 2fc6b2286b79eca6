import middy from '@middy/core';
import type { MiddlewareObj } from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { fromApiGatewayEvent, toApiGatewayResult } from '../../lib/http/api-gateway-adapter';
import { errorToHttpResponse } from '../../lib/http/http-error-response';
import { routeOipRequest } from '../../lib/http/oip-router';
import type { ServingRuntime } from '../../lib/serving/serving-runtime';
import { publishInitMetrics, tracerStageSpans, type Telemetry } from '../../lib/telemetry/powertools-telemetry';
import { StageTimings } from '../../lib/telemetry/stage-timings';

type ApiEvent = APIGatewayProxyEventV2;
type ApiResult = APIGatewayProxyStructuredResultV2;

/**
 * The HTTP API handler: a middy chain (Powertools logger context, EMF metrics with the
 * ColdStart metric, X-Ray tracing, the error answer) around the transport-neutral OIP router.
 * Every stage's duration goes out in `Server-Timing` and as metrics with model and route.
 */
export function createApiHandler(runtime: ServingRuntime, telemetry: Telemetry) {
  const { logger, metrics, tracer } = telemetry;
  let initMetricsPublished = false;

  const serveApiRequest = async function serveApiRequest(event: ApiEvent, context: Context): Promise<ApiResult> {
    const started = performance.now();
    // A no-op unless HOTPATH_INIT=lazy, where the instance's first request loads the models.
    await runtime.ensureLoaded();
    if (!initMetricsPublished) {
      initMetricsPublished = true;
      publishInitMetrics(metrics, runtime);
    }
    const timings = new StageTimings(tracerStageSpans(tracer));
    const request = fromApiGatewayEvent(event, runtime.config.maxBodyBytes);
    const { response, inference } = await routeOipRequest(runtime, request, timings);
    if (inference) {
      metrics.addDimensions({ model: inference.model.manifest.name, route: inference.route });
      for (const stage of timings.entries) metrics.addMetric(capitalize(stage.name), MetricUnit.Milliseconds, stage.ms);
      metrics.addMetric('BatchSize', MetricUnit.Count, inference.batchSize);
      logger.debug('inferred', { model: inference.model.manifest.name, route: inference.route, batchSize: inference.batchSize, requestId: context.awsRequestId });
    }
    const total = performance.now() - started;
    metrics.addMetric('Duration', MetricUnit.Milliseconds, total);
    response.headers['server-timing'] = [timings.toServerTiming(), `total;dur=${total.toFixed(3)}`].filter(Boolean).join(', ');
    return toApiGatewayResult(response);
  };

  return middy<ApiEvent, ApiResult>(serveApiRequest)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .use(oipErrorAnswer(telemetry));
}

/** The one middleware that turns errors into answers (`{"error": ...}` with the error's status). */
function oipErrorAnswer({ logger }: Telemetry): MiddlewareObj<ApiEvent, ApiResult> {
  return {
    onError: async function answerOipError(request) {
      const response = errorToHttpResponse(request.error, logger, request.context?.awsRequestId);
      request.response = toApiGatewayResult(response);
    },
  };
}

function capitalize(stage: string): string {
  return stage.charAt(0).toUpperCase() + stage.slice(1);
}
