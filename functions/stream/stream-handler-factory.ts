import { Readable } from 'node:stream';
import middy from '@middy/core';
import type { MiddlewareObj } from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { fromApiGatewayEvent } from '../../lib/http/api-gateway-adapter';
import { errorToHttpResponse } from '../../lib/http/http-error-response';
import type { HttpResponse } from '../../lib/http/http-types';
import { checkApiKey } from '../../lib/http/oip-router';
import { serveOipRequest } from '../../lib/http/serve-oip-request';
import type { ServingRuntime } from '../../lib/serving/serving-runtime';
import { openDetectionStream } from '../../lib/streaming/detection-stream';
import { isDetectionStreamRequest } from '../../lib/streaming/detection-stream-node';
import type { Telemetry } from '../../lib/telemetry/lambda-telemetry';

/** A Function URL request (the HTTP API payload 2.0 shape). */
type UrlEvent = APIGatewayProxyEventV2;
/** What middy's streaming mode pipes to Lambda's response stream: the status and headers go in its prelude. */
export interface StreamedResult {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: Readable | string;
}

/** Audio is fed to the detector in slices this size, so events leave while the rest is processed. */
const SLICE_BYTES = 32 * 1024;
/** Kept back from the remaining time so the stream can say it stopped before the platform cuts it. */
const ANSWER_RESERVE_MS = 250;

/**
 * The response-streaming handler behind a Function URL (`invokeMode: RESPONSE_STREAM`): middy's
 * streaming mode (`awslambda.streamifyResponse`, `HttpResponseStream.from` for status and
 * headers) around the same core the OIP server's stream door calls (openDetectionStream).
 * `POST /v2/models/voice-detector/generate_stream` writes its events while the audio is processed
 * (Lambda hands the request body over whole: up to 6 MB, about 3 minutes of 16 kHz PCM16); every
 * other /v2 route is answered as the HTTP API handler answers it.
 */
export function createStreamHandler(runtime: ServingRuntime, telemetry: Pick<Telemetry, 'logger'>) {
  const { logger } = telemetry;
  const serveStreamRequest = async function serveStreamRequest(event: UrlEvent, context: Context): Promise<StreamedResult> {
    await runtime.ensureLoaded();
    const request = fromApiGatewayEvent(event, runtime.config.maxBodyBytes);
    const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : undefined;
    const deadline = remaining === undefined ? undefined : performance.now() + Math.max(0, remaining - ANSWER_RESERVE_MS);
    if (!isDetectionStreamRequest({ method: request.method.toUpperCase(), url: request.path })) {
      return streamed(await serveOipRequest(runtime, request, { deadline }));
    }
    checkApiKey(runtime.config.apiKey, request.headers['x-api-key']);
    const answer = await openDetectionStream(runtime, {
      headers: request.headers,
      query: new URLSearchParams(event.rawQueryString ?? ''),
      body: slices(request.body),
      deadline,
      logError: (error) => logger.error('stream failed', { error }),
    });
    return { statusCode: answer.status, headers: answer.headers, body: Readable.from(answer.events) };
  };
  return middy<UrlEvent, StreamedResult>(serveStreamRequest, { streamifyResponse: true })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(streamErrorAnswer(telemetry));
}

async function* slices(body: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < body.byteLength; at += SLICE_BYTES) yield body.subarray(at, at + SLICE_BYTES);
}

function streamed(response: HttpResponse): StreamedResult {
  const body = typeof response.body === 'string' ? response.body : Readable.from([response.body]);
  return { statusCode: response.status, headers: response.headers, body };
}

/** Errors before the first byte: the status and `{"error"}` (after it, openDetectionStream writes an error event). */
function streamErrorAnswer({ logger }: Pick<Telemetry, 'logger'>): MiddlewareObj<UrlEvent, StreamedResult> {
  return {
    onError: async function answerStreamError(request) {
      request.response = streamed(errorToHttpResponse(request.error, logger, request.context?.awsRequestId));
    },
  };
}
