/**
 * The one error family. Every error a caller can act on is a HotpathError with an HTTP
 * `status` and `expose` (whether its message may be shown to the caller). The HTTP error
 * middleware is the only place that turns errors into answers; anything that is not a
 * HotpathError becomes a 500 with a generic message and is logged with its stack.
 */
export class HotpathError extends Error {
  readonly status: number;
  readonly expose: boolean;

  constructor(message: string, options: { status: number; expose?: boolean; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.status = options.status;
    this.expose = options.expose ?? options.status < 500;
  }
}

/** 400: the request is malformed or contradicts the model's signature. */
export class InvalidRequestError extends HotpathError {
  constructor(message: string, cause?: unknown) {
    super(message, { status: 400, cause });
  }
}

/** 401: an API key is required and missing or wrong. */
export class UnauthorizedError extends HotpathError {
  constructor(message: string) {
    super(message, { status: 401 });
  }
}

/** 404: unknown route, model or model version. */
export class NotFoundError extends HotpathError {
  constructor(message: string) {
    super(message, { status: 404 });
  }
}

/** 405: the route exists but not for this method. `allow` lists the methods it takes. */
export class MethodNotAllowedError extends HotpathError {
  readonly allow: readonly string[];
  constructor(method: string, path: string, allow: readonly string[]) {
    super(`method ${method} is not allowed on ${path}; use ${allow.join(' or ')}`, { status: 405 });
    this.allow = allow;
  }
}

/** 413: the body is larger than the configured limit; raised before any tensor is allocated. */
export class PayloadTooLargeError extends HotpathError {
  /** `(bytes, limit)` for a body over the limit, or the whole message for other size limits (an inflated body). */
  constructor(bytesOrMessage: number | string, limit?: number) {
    super(
      typeof bytesOrMessage === 'string'
        ? bytesOrMessage
        : `request body is ${bytesOrMessage} bytes, over the limit of ${limit} bytes; send larger batches to batch scoring or split the request`,
      { status: 413 },
    );
  }
}

/** 415: the content type is neither JSON nor Triton's binary tensor extension. */
export class UnsupportedMediaTypeError extends HotpathError {
  constructor(contentType: string) {
    super(
      `content type '${contentType}' is not supported; send application/json, or application/octet-stream with an Inference-Header-Content-Length header`,
      { status: 415 },
    );
  }
}

/** 503: the model exists but is not ready (failed to load, or refused at load). The reason is the caller's to see. */
export class ModelNotReadyError extends HotpathError {
  constructor(message: string) {
    super(message, { status: 503, expose: true });
  }
}

/** A model artifact contradicts its manifest entry (hash, size or signature). The model is refused; others serve. */
export class ModelVerificationError extends HotpathError {
  constructor(message: string, cause?: unknown) {
    super(message, { status: 503, expose: true, cause });
  }
}

/** A HOTPATH_* environment variable has a bad value: fails the cold start naming the variable. */
export class ConfigError extends HotpathError {
  constructor(message: string) {
    super(message, { status: 500, expose: false });
  }
}

/** 415: a Content-Encoding this server cannot decode. */
export class UnsupportedContentEncodingError extends HotpathError {
  constructor(encoding: string) {
    super(`content encoding '${encoding}' is not supported; send the body uncompressed, or with Content-Encoding gzip or deflate`, { status: 415 });
  }
}

/**
 * 504: the request's deadline (Triton's `parameters.timeout` in microseconds, or the time the
 * platform has left, e.g. Lambda's remaining time) passed before an answer was ready. What ran
 * is discarded: the caller never gets half an answer.
 */
export class DeadlineExceededError extends HotpathError {
  constructor(message: string) {
    super(message, { status: 504, expose: true });
  }
}

/** 499 (nginx's "client closed request"): the caller went away; the work was abandoned and nobody reads the answer. */
export class RequestAbortedError extends HotpathError {
  constructor(message = 'the client closed the request before it was answered') {
    super(message, { status: 499, expose: true });
  }
}

/** 503 with Retry-After: the server is at its admission bound (as Triton's "exceeds maximum queue size"). */
export class ServerBusyError extends HotpathError {
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds: number) {
    super(message, { status: 503, expose: true });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
