import middy from '@middy/core';
import type { MiddlewareObj } from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { fromApiGatewayEvent, toApiGatewayResult } from '../../lib/http/api-gateway-adapter';
import { errorToHttpResponse } from '../../lib/http/http-error-response';
import { serveOipRequest } from '../../lib/http/serve-oip-request';
import type { ServingRuntime } from '../../lib/serving/serving-runtime';
import { tracerStageSpans, type Telemetry } from '../../lib/telemetry/lambda-telemetry';
import { invocationMetricsSink, publishInitMetrics } from '../../lib/telemetry/powertools-telemetry';

type ApiEvent = APIGatewayProxyEventV2;
type ApiResult = APIGatewayProxyStructuredResultV2;

/**
 * Time kept back from Lambda's remaining time for encoding the answer and returning it:
 * a request whose inference would end later is abandoned with a 504 while the function can
 * still say so, instead of being killed by the platform's timeout mid-answer.
 */
const ANSWER_RESERVE_MS = 250;

/**
 * The HTTP API handler: a middy chain (Powertools logger context, EMF metrics with the
 * ColdStart metric, X-Ray tracing, the error answer) around the transport-neutral OIP routes.
 * Every stage's duration goes out in `Server-Timing` and as metrics with model and route.
 */
export function createApiHandler(runtime: ServingRuntime, telemetry: Telemetry) {
  const { metrics, tracer } = telemetry;
  let initMetricsPublished = false;
  const sink = invocationMetricsSink(metrics);
  const openSpan = tracerStageSpans(tracer);

  const serveApiRequest = async function serveApiRequest(event: ApiEvent, context: Context): Promise<ApiResult> {
    await runtime.ensureLoaded();
    if (!initMetricsPublished) {
      initMetricsPublished = true;
      publishInitMetrics(metrics, runtime);
    }
    const request = fromApiGatewayEvent(event, runtime.config.maxBodyBytes);
    const remaining = typeof context.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : undefined;
    const deadline = remaining === undefined ? undefined : performance.now() + Math.max(0, remaining - ANSWER_RESERVE_MS);
    const response = await serveOipRequest(runtime, request, { deadline, openSpan, metrics: sink });
    return toApiGatewayResult(response);
  };

  return middy<ApiEvent, ApiResult>(serveApiRequest)
    .use(injectLambdaContext(telemetry.logger, { resetKeys: true }))
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
