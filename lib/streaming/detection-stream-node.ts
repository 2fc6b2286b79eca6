import type { IncomingMessage, ServerResponse } from 'node:http';
import { once } from 'node:events';
import { errorToHttpResponse, type ErrorLogger } from '../http/http-error-response';
import { checkApiKey } from '../http/oip-router';
import type { ServingRuntime } from '../serving/serving-runtime';
import { openDetectionStream, VOICE_DETECTOR_MODEL, VOICE_DETECTOR_VERSION } from './detection-stream';

const STREAM_PATH = new RegExp(`^/v2/models/${VOICE_DETECTOR_MODEL}(?:/versions/${VOICE_DETECTOR_VERSION})?/generate_stream/?$`);

/** Whether a request is the detector's streaming route (POST, any query): the OIP server hands it here before reading the body. */
export function isDetectionStreamRequest(req: Pick<IncomingMessage, 'method' | 'url'>): boolean {
  const path = (req.url ?? '/').split('?')[0]!;
  return req.method === 'POST' && STREAM_PATH.test(path);
}

/**
 * The streaming route on node:http (the OIP server, `npm start`): the request body is read as it
 * arrives and each event is written (and flushed: chunked transfer, no buffering) as soon as it
 * is decided, so `curl -N --data-binary @long.wav` prints events while the upload is running.
 * Writes wait for the socket to drain; a closed connection stops the reading and the model.
 */
export async function serveDetectionStream(
  runtime: ServingRuntime, req: IncomingMessage, res: ServerResponse, signal: AbortSignal, logger: ErrorLogger,
): Promise<void> {
  let answer;
  try {
    checkApiKey(runtime.config.apiKey, flat(req.headers['x-api-key']));
    const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
    answer = await openDetectionStream(runtime, { headers: flatHeaders(req), query, body: req, signal, logError: (error) => logger.error('stream failed', { error }) });
  } catch (error) {
    if (signal.aborted || res.destroyed) return;
    const response = errorToHttpResponse(error, logger);
    // The rest of the body is not read: the connection closes after the answer.
    res.writeHead(response.status, { ...response.headers, connection: 'close' });
    res.end(response.body);
    return;
  }
  res.writeHead(answer.status, answer.headers);
  res.flushHeaders();
  for await (const text of answer.events) {
    if (res.destroyed) break;
    if (!res.write(text)) {
      await Promise.race([once(res, 'drain'), once(res, 'close')]);
    }
  }
  if (!res.destroyed) res.end();
}

function flat(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

function flatHeaders(req: IncomingMessage): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) headers[name] = flat(value);
  return headers;
}
