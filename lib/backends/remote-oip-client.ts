import { randomUUID } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { gunzipSync, inflateSync } from 'node:zlib';
import { DeadlineExceededError, HotpathError, RequestAbortedError } from '../errors/hotpath-error';
import { COMPRESS_ABOVE_BYTES, compressBody } from '../http/content-encoding';
import { encodeInferRequest } from '../protocol/infer-request-encoder';
import { decodeInferResponse, MalformedInferResponseError, type DecodedInferResponse } from '../protocol/infer-response-decoder';
import type { HostTensor } from '../protocol/tensor';
import type { BackendRunOptions } from './inference-backend';

/**
 * What went wrong with a remote call, as the router needs to tell it apart:
 * `unreachable` (no connection: refused, no route, DNS), `timeout` (the call's own time bound
 * passed), `reset` (the connection closed before the whole answer arrived), `status` (an HTTP
 * status other than 200), `malformed` (a 200 whose body is not a valid infer response).
 */
export type RemoteFailureKind = 'unreachable' | 'timeout' | 'reset' | 'status' | 'malformed';

/** A remote Open Inference Protocol server did not answer with outputs. 502 (504 for `timeout`); the router decides what the caller sees. */
export class RemoteInferenceError extends HotpathError {
  readonly kind: RemoteFailureKind;
  /** The remote's HTTP status (`status` failures only). */
  readonly remoteStatus: number | undefined;
  /** The remote's Retry-After, in seconds, when it sent one. */
  readonly retryAfterSeconds: number | undefined;

  constructor(kind: RemoteFailureKind, message: string, details: { remoteStatus?: number; retryAfterSeconds?: number; cause?: unknown } = {}) {
    super(message, { status: kind === 'timeout' ? 504 : 502, expose: true, cause: details.cause });
    this.kind = kind;
    this.remoteStatus = details.remoteStatus;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }
}

export interface RemoteOipClientOptions {
  /** Base URL, e.g. `http://gpu-task.internal:8000` (a trailing slash is dropped). */
  readonly url: string;
  /** `binary` (default): every tensor in Triton's binary data extension, both ways; `json`: plain JSON. */
  readonly encoding?: 'binary' | 'json';
  /** gzip request bodies of COMPRESS_ABOVE_BYTES and more, and accept gzip answers (Triton and our server speak both). */
  readonly gzip?: boolean;
  /** Sent as `x-api-key`. */
  readonly apiKey?: string;
  /** Longest one call may take, in ms, when the deadline is later or absent (default 5,000). */
  readonly timeoutMs?: number;
  /** Largest answer body accepted, after inflation (default 256 MiB). */
  readonly maxResponseBytes?: number;
  /** Connections kept per host (default 64). */
  readonly maxSockets?: number;
}

/** One inference for the remote server: tensors as the core holds them. */
export interface RemoteInferCall {
  readonly model: string;
  /** Pinned so the remote runs the same model the local route would (omit to let the server choose). */
  readonly version?: string;
  readonly inputs: readonly HostTensor[];
  /** Outputs to compute, in answer order; undefined: every output, in the server's order. */
  readonly outputNames?: readonly string[];
}

/** The decoded answer, outputs in the order asked for, and how long the round trip took. */
export interface RemoteInferAnswer extends DecodedInferResponse {
  readonly roundTripMs: number;
}

/** What a readiness probe found (RemoteOipClient.readiness). */
export type RemoteReadiness =
  | { readonly state: 'ready' }
  | { readonly state: 'not-ready'; readonly status: number; readonly reason: string }
  | { readonly state: 'unreachable'; readonly reason: string };

interface RawAnswer {
  readonly status: number;
  readonly headers: Record<string, string | undefined>;
  readonly body: Buffer;
}

/** A call's time bound: `ms` from now, set by the request's deadline or by the client's own timeout. */
interface CallBound {
  readonly ms: number;
  readonly byDeadline: boolean;
}

const DEFAULT_TIMEOUT_MS = 5_000;
const DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024;
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNABORTED']);

/**
 * A plain Open Inference Protocol (KServe v2 REST) client, so the remote route can be our GPU
 * task or a Triton server with the same model names: `POST /v2/models/{m}/versions/{v}/infer`
 * with JSON or Triton's binary data extension (binary by default: no per-number JSON either
 * way), optional gzip, one keep-alive agent per client. Every call is bounded by the earlier of
 * the request's deadline and the client's own timeout, is aborted by the caller's signal, and
 * sends the time it has left as `parameters.timeout` (µs) so the server can drop it from its
 * queue instead of computing an answer nobody waits for. A failure is a RemoteInferenceError
 * saying which kind it was; the deadline passing is a DeadlineExceededError, the caller going
 * away a RequestAbortedError.
 *
 * @example
 * const client = new RemoteOipClient({ url: 'http://127.0.0.1:8000' });
 * const answer = await client.infer({ model: 'mlp-large', inputs }, { deadline: performance.now() + 2_000 });
 * answer.outputs[0].data; // Float32Array
 * client.close();
 */
export class RemoteOipClient {
  readonly url: string;
  private readonly agent: HttpAgent;
  private readonly send: typeof httpRequest;
  private readonly binary: boolean;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;

  constructor(private readonly options: RemoteOipClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    const https = this.url.startsWith('https:');
    // LIFO reuses the warmest connection and lets the others idle out before the server closes them.
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 64, scheduling: 'lifo' as const };
    this.agent = https ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    this.send = https ? (httpsRequest as typeof httpRequest) : httpRequest;
    this.binary = (options.encoding ?? 'binary') === 'binary';
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  }

  /** Runs one inference on the remote server. */
  async infer(call: RemoteInferCall, options: BackendRunOptions = {}): Promise<RemoteInferAnswer> {
    const started = performance.now();
    const bound = this.boundOf(options.deadline, call.model);
    const id = randomUUID();
    const encoded = encodeInferRequest(call.inputs, {
      id,
      parameters: {
        timeout: Math.max(1, Math.floor(bound.ms * 1000)),
        // No outputs named: the extension's request-level switch asks for all of them in binary.
        ...(call.outputNames === undefined && this.binary ? { binary_data_output: true } : {}),
      },
      outputs: call.outputNames?.map((name) => ({ name, binary: this.binary })),
      binary: this.binary,
    });
    let body: Buffer = encoded.body;
    const headers: Record<string, string> = { ...encoded.headers };
    if (this.options.gzip) {
      headers['accept-encoding'] = 'gzip';
      if (body.byteLength >= COMPRESS_ABOVE_BYTES) {
        body = compressBody(body, 'gzip');
        headers['content-encoding'] = 'gzip';
      }
    }
    if (this.options.apiKey !== undefined) headers['x-api-key'] = this.options.apiKey;
    const path = `${modelPath(call.model, call.version)}/infer`;
    const raw = await this.exchange('POST', path, body, headers, bound, started, options.signal);
    if (raw.status !== 200) throw statusFailure(this.url, raw);
    const answer = this.decode(raw);
    if (answer.modelName !== call.model) throw this.malformed(`it is for model '${answer.modelName}', the request was for '${call.model}'`);
    if (answer.id !== id) throw this.malformed(`its id ${JSON.stringify(answer.id)} is not the request's ${JSON.stringify(id)}`);
    return { ...answer, outputs: inAskedOrder(answer.outputs, call.outputNames, (m) => this.malformed(m)), roundTripMs: performance.now() - started };
  }

  /**
   * `GET /v2/health/ready`, or with a model `GET /v2/models/{m}[/versions/{v}]/ready`: `ready` on
   * 200 (Triton answers with an empty body, our server with `{"ready": true}`), `not-ready` on any
   * other status (400 not ready, 404 unknown model: `status` and the server's `reason` say which),
   * `unreachable` when no answer came. Never throws for the server's state.
   */
  async readiness(model?: { readonly name: string; readonly version?: string }, options: BackendRunOptions = {}): Promise<RemoteReadiness> {
    const started = performance.now();
    const path = model === undefined ? '/v2/health/ready' : `${modelPath(model.name, model.version)}/ready`;
    try {
      const raw = await this.exchange('GET', path, undefined, this.options.apiKey === undefined ? {} : { 'x-api-key': this.options.apiKey }, this.boundOf(options.deadline, model?.name ?? 'health'), started, options.signal);
      if (raw.status === 200) return { state: 'ready' };
      return { state: 'not-ready', status: raw.status, reason: statusFailure(this.url, raw).message };
    } catch (error) {
      if (error instanceof RemoteInferenceError) return { state: 'unreachable', reason: error.message };
      throw error;
    }
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  private boundOf(deadline: number | undefined, what: string): CallBound {
    if (deadline === undefined) return { ms: this.timeoutMs, byDeadline: false };
    const left = deadline - performance.now();
    if (left <= 0) throw new DeadlineExceededError(`model '${what}': the request's deadline passed before the remote call to ${this.url}; raise parameters.timeout (µs) or send a smaller batch`);
    return left < this.timeoutMs ? { ms: left, byDeadline: true } : { ms: this.timeoutMs, byDeadline: false };
  }

  /**
   * One request/answer. A connection the agent kept alive may have been closed by the server
   * just as it was reused: that error (before any answer byte) is retried once on a fresh
   * connection within the same bound, as Node's documentation advises (`request.reusedSocket`).
   */
  private async exchange(method: string, path: string, body: Buffer | undefined, headers: Record<string, string>, bound: CallBound, started: number, signal: AbortSignal | undefined): Promise<RawAnswer> {
    try {
      return await this.exchangeOnce(method, path, body, headers, bound, signal);
    } catch (error) {
      if (!(error instanceof StaleConnectionError)) throw error;
      const left = bound.ms - (performance.now() - started);
      if (left <= 0) throw this.timedOut(bound);
      return this.exchangeOnce(method, path, body, headers, { ms: left, byDeadline: bound.byDeadline }, signal, false);
    }
  }

  private exchangeOnce(method: string, path: string, body: Buffer | undefined, headers: Record<string, string>, bound: CallBound, signal: AbortSignal | undefined, mayRetry = true): Promise<RawAnswer> {
    return new Promise<RawAnswer>((resolve, reject) => {
      if (signal?.aborted) {
        reject(new RequestAbortedError());
        return;
      }
      let settled = false;
      let answered = false;
      const finish = (error: Error | undefined, answer?: RawAnswer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (error) {
          req.destroy();
          reject(error);
        } else resolve(answer!);
      };
      const onAbort = () => finish(new RequestAbortedError());
      const requestOptions: RequestOptions = { method, agent: this.agent, headers: { ...headers, 'content-length': String(body?.byteLength ?? 0) } };
      const req = this.send(`${this.url}${path}`, requestOptions, (res: IncomingMessage) => {
        answered = true;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.byteLength;
          if (size > this.maxResponseBytes) finish(this.malformed(`the body is over ${this.maxResponseBytes} bytes`));
          else chunks.push(chunk);
        });
        res.on('end', () => finish(undefined, { status: res.statusCode ?? 0, headers: flatHeaders(res.headers), body: Buffer.concat(chunks, size) }));
        res.on('error', () => undefined); // reported by 'close' below
        res.on('close', () => {
          if (!res.complete) finish(new RemoteInferenceError('reset', `the connection to ${this.url} closed after ${size} bytes of the answer (HTTP ${res.statusCode}), before its end`));
        });
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (answered) return; // the response's 'close' says what happened
        if (mayRetry && req.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE')) finish(new StaleConnectionError(error));
        else finish(connectionFailure(this.url, error));
      });
      const timer = setTimeout(() => finish(this.timedOut(bound)), bound.ms);
      signal?.addEventListener('abort', onAbort, { once: true });
      req.end(body);
    });
  }

  private decode(raw: RawAnswer): DecodedInferResponse {
    let body: Uint8Array = raw.body;
    const encoding = raw.headers['content-encoding']?.trim().toLowerCase();
    if (encoding !== undefined && encoding !== '' && encoding !== 'identity') {
      try {
        if (encoding === 'gzip' || encoding === 'x-gzip') body = gunzipSync(body, { maxOutputLength: this.maxResponseBytes });
        else if (encoding === 'deflate') body = inflateSync(body, { maxOutputLength: this.maxResponseBytes });
        else throw new Error(`content encoding '${encoding}' was not asked for`);
      } catch (error) {
        throw this.malformed(`the ${encoding} body does not inflate: ${(error as Error).message}`, error);
      }
    }
    const { 'content-encoding': _encoding, ...headers } = raw.headers;
    try {
      return decodeInferResponse(body, headers);
    } catch (error) {
      if (error instanceof MalformedInferResponseError) throw this.malformed(error.message.replace(/^the inference server's answer is malformed: /, ''), error);
      throw error;
    }
  }

  private malformed(reason: string, cause?: unknown): RemoteInferenceError {
    return new RemoteInferenceError('malformed', `the answer of ${this.url} is malformed: ${reason}`, { cause });
  }

  private timedOut(bound: CallBound): Error {
    const ms = Math.round(bound.ms);
    if (bound.byDeadline) return new DeadlineExceededError(`the request's deadline passed after ${ms} ms waiting for ${this.url}; raise parameters.timeout (µs) or send a smaller batch`);
    return new RemoteInferenceError('timeout', `${this.url} did not answer within ${ms} ms (HOTPATH_REMOTE_TIMEOUT_MS)`);
  }
}

/** A kept-alive connection that turned out closed before any answer byte: safe to retry once. */
class StaleConnectionError extends Error {
  constructor(readonly original: NodeJS.ErrnoException) {
    super(original.message);
  }
}

function modelPath(name: string, version: string | undefined): string {
  return `/v2/models/${encodeURIComponent(name)}${version === undefined ? '' : `/versions/${encodeURIComponent(version)}`}`;
}

function connectionFailure(url: string, error: NodeJS.ErrnoException): RemoteInferenceError {
  const code = error.code ?? 'unknown';
  if (UNREACHABLE_CODES.has(code)) return new RemoteInferenceError('unreachable', `cannot connect to ${url} (${code})`, { cause: error });
  return new RemoteInferenceError('reset', `the connection to ${url} failed before an answer (${code}: ${error.message})`, { cause: error });
}

function statusFailure(url: string, raw: RawAnswer): RemoteInferenceError {
  const text = raw.body.subarray(0, 2048).toString('utf8');
  let message = text.trim().slice(0, 300);
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    if (typeof parsed.error === 'string') message = parsed.error;
  } catch {
    // Not the protocol's {"error"}: quote the start of the body as it is.
  }
  return new RemoteInferenceError('status', `${url} answered HTTP ${raw.status}${message ? `: ${message}` : ''}`, {
    remoteStatus: raw.status,
    retryAfterSeconds: retryAfterOf(raw.headers['retry-after']),
  });
}

/** Retry-After as delay-seconds or an HTTP date (RFC 9110 §10.2.3), in whole seconds from now. */
function retryAfterOf(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value.trim());
  if (Number.isInteger(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

function inAskedOrder(outputs: HostTensor[], names: readonly string[] | undefined, malformed: (reason: string) => Error): HostTensor[] {
  if (names === undefined) return outputs;
  const byName = new Map(outputs.map((t) => [t.name, t]));
  return names.map((name) => {
    const tensor = byName.get(name);
    if (!tensor) throw malformed(`it lacks output '${name}', which was asked for (it has ${outputs.map((t) => `'${t.name}'`).join(', ') || 'none'})`);
    return tensor;
  });
}

function flatHeaders(headers: IncomingHttpHeaders): Record<string, string | undefined> {
  const flat: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  return flat;
}
