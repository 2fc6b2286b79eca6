import {
  ConfigError,
  HotpathError,
  InvalidRequestError,
  MethodNotAllowedError,
  ModelNotReadyError,
  ModelVerificationError,
  NotFoundError,
  PayloadTooLargeError,
} from '../../../lib/errors/hotpath-error';
import { errorToHttpResponse, type ErrorLogger } from '../../../lib/http/http-error-response';

interface LogRecord {
  readonly level: 'warn' | 'error';
  readonly message: string;
  readonly extra: Record<string, unknown>[];
}

/** A logger that keeps what it was told. */
class RecordingLogger implements ErrorLogger {
  readonly records: LogRecord[] = [];
  warn(message: string, ...extra: Record<string, unknown>[]): void {
    this.records.push({ level: 'warn', message, extra });
  }
  error(message: string, ...extra: Record<string, unknown>[]): void {
    this.records.push({ level: 'error', message, extra });
  }
}

function bodyOf(body: string | Buffer): { error: string } {
  return JSON.parse(body.toString());
}

describe('http-error-response', () => {
  it.each([
    ['400', new InvalidRequestError("input 'x': expected shape [-1,4], got [2,5]"), 400],
    ['404', new NotFoundError("model 'nope' is not served here"), 404],
    ['413', new PayloadTooLargeError(7_000_000, 6_291_456), 413],
    ['503 (not ready)', new ModelNotReadyError("model 'm' version '1' is not ready: bad hash"), 503],
    ['503 (verification)', new ModelVerificationError("model 'm@1': sha256 of the file is x"), 503],
  ])('shows the message of an exposed %s error and logs it as a warning', (_, error, status) => {
    // Prepare
    const logger = new RecordingLogger();

    // Act
    const response = errorToHttpResponse(error, logger, 'req-1');

    // Assess
    expect(response.status).toBe(status);
    expect(response.headers).toEqual({ 'content-type': 'application/json' });
    expect(bodyOf(response.body)).toEqual({ error: error.message });
    expect(logger.records).toEqual([{ level: 'warn', message: 'request refused', extra: [{ status, error: error.message }] }]);
  });

  it('adds an allow header when the error is a 405', () => {
    // Prepare
    const error = new MethodNotAllowedError('DELETE', '/v2/models/iris/infer', ['POST']);

    // Act
    const response = errorToHttpResponse(error, new RecordingLogger());

    // Assess
    expect(response.status).toBe(405);
    expect(response.headers).toEqual({ 'content-type': 'application/json', allow: 'POST' });
    expect(bodyOf(response.body).error).toBe('method DELETE is not allowed on /v2/models/iris/infer; use POST');
  });

  it('joins several allowed methods when the route takes more than one', () => {
    // Act
    const response = errorToHttpResponse(new MethodNotAllowedError('PUT', '/v2', ['GET', 'HEAD']), new RecordingLogger());

    // Assess
    expect(response.headers.allow).toBe('GET, HEAD');
  });

  it('answers a generic 500 with the request id and logs the error when given a plain Error', () => {
    // Prepare
    const logger = new RecordingLogger();
    const error = new Error('ENOENT: /opt/models/secret/path.onnx');

    // Act
    const response = errorToHttpResponse(error, logger, 'req-42');

    // Assess
    expect(response.status).toBe(500);
    expect(bodyOf(response.body)).toEqual({ error: 'internal error; quote request id req-42 when reporting it' });
    expect(logger.records).toEqual([{ level: 'error', message: 'request failed', extra: [{ status: 500, error }] }]);
  });

  it('never puts the message or the stack in the body when given internal errors', () => {
    // Prepare
    const errors: unknown[] = [
      new TypeError('Cannot read properties of undefined (reading "session")'),
      new ConfigError('HOTPATH_API_KEY: s3cr3t is bad'),
      new HotpathError('onnxruntime exploded', { status: 500 }),
      'a thrown string with details',
      { message: 'an object with a message' },
      undefined,
    ];

    // Act
    const bodies = errors.map((error) => errorToHttpResponse(error, new RecordingLogger()).body.toString());

    // Assess
    for (const body of bodies) {
      expect(JSON.parse(body)).toEqual({ error: 'internal error' });
      expect(body).not.toMatch(/session|s3cr3t|exploded|details|message|at /);
    }
  });

  it('keeps the status of an unexposed HotpathError but not its message', () => {
    // Prepare
    const error = new HotpathError('backend tensor type float8 cannot be carried', { status: 503 });

    // Act
    const response = errorToHttpResponse(error, new RecordingLogger(), 'r');

    // Assess
    expect(error.expose).toBe(false);
    expect(response.status).toBe(503);
    expect(bodyOf(response.body)).toEqual({ error: 'internal error; quote request id r when reporting it' });
  });
});
