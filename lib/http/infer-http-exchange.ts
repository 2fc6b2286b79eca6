import { UnsupportedMediaTypeError } from '../errors/hotpath-error';
import { decodeInferRequest } from '../protocol/infer-request-decoder';
import { encodeInferResponse } from '../protocol/infer-response-encoder';
import { infer, type InferAnswer, type InferenceCore } from '../serving/infer';
import type { StageTimings } from '../telemetry/stage-timings';
import { chooseResponseEncoding, COMPRESS_ABOVE_BYTES, compressBody, inflateRequestBody, isContentEncoded } from './content-encoding';
import type { HttpRequest, HttpResponse } from './http-types';

/** What a door knows about one HTTP request beyond its bytes. */
export interface OipRequestContext {
  readonly timings: StageTimings;
  /** Absolute deadline on the `performance.now()` clock (ms): Lambda's remaining time, a server's request timeout. */
  readonly deadline?: number;
  readonly signal?: AbortSignal;
}

/** The body limits the transport enforces: raw bytes (checked by the transport) and inflated bytes (checked here). */
export interface InferBodyLimits {
  readonly maxDecompressedBytes: number;
}

const HEADER_LENGTH = 'inference-header-content-length';

/**
 * One `POST .../infer` over HTTP, the protocol's edge: the body is inflated (Content-Encoding),
 * decoded (JSON, or Triton's binary extension whenever Inference-Header-Content-Length is
 * present, whatever the Content-Type says), handed to the tensor-level core, and the answer
 * encoded (binary where asked, or for every output under `binary_data_output`) and compressed
 * when the caller accepts it and it is worth it.
 */
export async function answerInferRequest(
  core: InferenceCore,
  target: { readonly model: string; readonly version?: string },
  request: HttpRequest,
  limits: InferBodyLimits,
  context: OipRequestContext,
): Promise<{ response: HttpResponse; answer: InferAnswer }> {
  const { headers } = request;
  const { timings } = context;
  checkInferContentType(headers);
  const encoding = headers['content-encoding'];
  const compressed = isContentEncoded(encoding);
  const decoded = timings.timeSync('decode', () => {
    // Text is parsed as it is (no UTF-8 round trip) only when it is plain JSON.
    const body = compressed ? inflateRequestBody(request.body, encoding, limits.maxDecompressedBytes) : (request.text ?? request.body);
    return decodeInferRequest(body, headers);
  });
  const answer = await infer(core, {
    model: target.model,
    version: target.version,
    id: decoded.id,
    inputs: decoded.inputs,
    outputs: decoded.outputs,
    parameters: decoded.parameters,
    deadline: context.deadline,
    signal: context.signal,
    timings,
  });
  const binaryOutputs = new Set(
    decoded.outputs && decoded.outputs.length > 0
      ? decoded.outputs.filter((o) => o.binary).map((o) => o.name)
      : decoded.binaryOutputsByDefault ? answer.outputs.map((o) => o.name) : [],
  );
  const { manifest } = answer.model;
  const encoded = timings.timeSync('encode', () =>
    encodeInferResponse({
      modelName: manifest.name,
      modelVersion: manifest.version,
      id: answer.id,
      parameters: { route: answer.route },
      outputs: answer.outputs,
      binaryOutputs,
    }),
  );
  const responseHeaders: Record<string, string> = { 'content-type': encoded.contentType, 'x-hotpath-route': answer.route };
  const provider = answer.model.state.session.executionProvider?.provider;
  if (provider !== undefined) responseHeaders['x-hotpath-provider'] = provider;
  if (encoded.inferenceHeaderContentLength !== undefined) responseHeaders[HEADER_LENGTH] = String(encoded.inferenceHeaderContentLength);
  const responseEncoding = chooseResponseEncoding(headers['accept-encoding']);
  let body: string | Buffer = encoded.body;
  if (responseEncoding !== undefined) {
    responseHeaders.vary = 'accept-encoding';
    if (encoded.body.byteLength >= COMPRESS_ABOVE_BYTES) {
      body = timings.timeSync('compress', () => compressBody(encoded.body, responseEncoding));
      responseHeaders['content-encoding'] = responseEncoding;
    }
  }
  if (responseHeaders['content-encoding'] === undefined && encoded.contentType === 'application/json') body = encoded.body.toString('utf8');
  return { response: { status: 200, headers: responseHeaders, body }, answer };
}

/**
 * JSON, or Triton's binary extension: a body with Inference-Header-Content-Length is binary
 * whatever its Content-Type (Triton's Python client sends none; some clients say
 * application/json or application/octet-stream). Without that header only JSON is taken.
 */
function checkInferContentType(headers: HttpRequest['headers']): void {
  if (headers[HEADER_LENGTH] !== undefined) return;
  const contentType = headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (contentType === undefined || contentType === '' || contentType === 'application/json' || contentType.endsWith('+json')) return;
  throw new UnsupportedMediaTypeError(contentType);
}
