import { prepareHttpRequest } from '../serve/http-latency';
import { rowsCase, type ServeCase } from '../serve/serve-inputs';
import type { RequestEncoding } from '../serve/handler-overhead';

/** One load-tested request shape: a model, a batch and an encoding. */
export interface ServerWorkload {
  /** Used by `--only` and in result case names, e.g. `mlp-medium-b32-binary`. */
  readonly id: string;
  readonly serveCase: ServeCase;
  readonly encoding: RequestEncoding;
}

/** A request ready to send: built once, so the load generator only writes bytes. */
export interface PreparedLoadRequest {
  readonly method: 'POST';
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/** The models every server under test loads (HOTPATH_MODELS). */
export const SERVER_MODELS = 'iris-classifier,mlp-medium';

/** iris b1 JSON (HTTP-bound: session.run takes ~19 µs), mlp-medium b1 and b32 binary (model-bound at b32). */
export function serverWorkloads(): ServerWorkload[] {
  return [
    { id: 'iris-classifier-b1-json', serveCase: rowsCase('iris-classifier', 4, 1), encoding: 'json' },
    { id: 'mlp-medium-b1-binary', serveCase: rowsCase('mlp-medium', 784, 1), encoding: 'binary' },
    { id: 'mlp-medium-b32-binary', serveCase: rowsCase('mlp-medium', 784, 32), encoding: 'binary' },
  ];
}

export function workloadById(id: string): ServerWorkload {
  const workload = serverWorkloads().find((w) => w.id === id);
  if (!workload) throw new Error(`no workload '${id}'; known: ${serverWorkloads().map((w) => w.id).join(', ')}`);
  return workload;
}

/**
 * The request a client sends for a workload; binary requests also ask for binary outputs, as
 * Triton's client does. No content-length: the load generator and fetch set it from the body.
 */
export function prepareLoadRequest(workload: ServerWorkload): PreparedLoadRequest {
  const { path, body, headers } = prepareHttpRequest(workload.serveCase, workload.encoding);
  const { 'content-length': _length, ...rest } = headers;
  return { method: 'POST', path, body, headers: rest };
}
