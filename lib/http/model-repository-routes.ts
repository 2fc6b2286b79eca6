import { InvalidRequestError, MethodNotAllowedError, NotFoundError } from '../errors/hotpath-error';
import type { ServingRuntime } from '../serving/serving-runtime';
import { inflateRequestBody } from './content-encoding';
import { jsonResponse, type HttpRequest, type HttpResponse } from './http-types';

/** Triton's model repository extension routes: `POST /v2/repository/index`, `POST /v2/repository/models/{m}/load` and `.../unload`. */
export type RepositoryRoute = { kind: 'repository-index' } | { kind: 'repository-load' | 'repository-unload'; model: string };

/** The route under `/v2/repository/...` (`parts`: the decoded path segments, `v2` first), or undefined when it is none of the three. */
export function matchRepositoryRoute(parts: readonly string[]): RepositoryRoute | undefined {
  if (parts[0] !== 'v2' || parts[1] !== 'repository') return undefined;
  if (parts.length === 3 && parts[2] === 'index') return { kind: 'repository-index' };
  if (parts.length === 5 && parts[2] === 'models' && (parts[4] === 'load' || parts[4] === 'unload')) {
    return { kind: parts[4] === 'load' ? 'repository-load' : 'repository-unload', model: parts[3]! };
  }
  return undefined;
}

/**
 * One repository extension request. Only a runtime with a repository (the OIP server started
 * with HOTPATH_MODEL_REPOSITORY) serves them; elsewhere, Lambda included, they are a 404 that
 * says so, whatever the method. Load and unload answer 200 with an empty body, as Triton does;
 * a failed load is a 400 naming the model, the reason and what still serves.
 */
export async function answerRepositoryRequest(runtime: ServingRuntime, route: RepositoryRoute, request: HttpRequest): Promise<HttpResponse> {
  const method = request.method.toUpperCase();
  const control = runtime.repository;
  if (control === undefined) {
    throw new NotFoundError(
      `${method} ${request.path}: Triton's model repository extension (index, load, unload) is a feature of the long-running OIP server started with HOTPATH_MODEL_REPOSITORY (npm start); this instance serves the models it loaded at start (on Lambda, the models layer's): GET /v2/models lists them`,
    );
  }
  if (method !== 'POST') throw new MethodNotAllowedError(method, request.path, ['POST']);
  const body = readBody(request, runtime.config.maxDecompressedBytes);
  switch (route.kind) {
    case 'repository-index': {
      onlyFields(body, ['ready'], 'POST /v2/repository/index');
      if (body.ready !== undefined && typeof body.ready !== 'boolean') throw new InvalidRequestError(`POST /v2/repository/index: 'ready' must be a boolean, got ${JSON.stringify(body.ready)}`);
      const rows = control.index();
      return jsonResponse(200, body.ready === true ? rows.filter((r) => r.state === 'READY') : rows);
    }
    case 'repository-load':
      checkLoadParameters(parametersOf(body, `load of '${route.model}'`), route.model);
      await control.load(route.model);
      return { status: 200, headers: {}, body: '' };
    case 'repository-unload': {
      const parameters = parametersOf(body, `unload of '${route.model}'`);
      for (const [key, value] of Object.entries(parameters)) {
        if (key !== 'unload_dependents') throw new InvalidRequestError(`unload of '${route.model}': parameter '${key}' is not supported; the unload takes only 'unload_dependents' (boolean)`);
        // hotpath has no ensembles: a model has no dependents, so true and false unload the same.
        if (typeof value !== 'boolean') throw new InvalidRequestError(`unload of '${route.model}': parameter 'unload_dependents' must be a boolean, got ${JSON.stringify(value)}`);
      }
      await control.unload(route.model);
      return { status: 200, headers: {}, body: '' };
    }
  }
}

/** The JSON object of the body; an empty body is `{}` (Triton's clients send none for load and unload). */
function readBody(request: HttpRequest, maxInflatedBytes: number): Record<string, unknown> {
  const bytes = inflateRequestBody(request.body, request.headers['content-encoding'], maxInflatedBytes);
  const text = bytes === request.body && request.text !== undefined ? request.text : Buffer.from(bytes).toString('utf8');
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidRequestError(`${request.path}: the body is not JSON (${(error as Error).message}); send a JSON object or no body`, error);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidRequestError(`${request.path}: the body must be a JSON object, got ${JSON.stringify(value)}`);
  return value as Record<string, unknown>;
}

function onlyFields(body: Record<string, unknown>, allowed: readonly string[], what: string): void {
  const unknown = Object.keys(body).find((key) => !allowed.includes(key));
  if (unknown !== undefined) throw new InvalidRequestError(`${what}: field '${unknown}' is not part of the request; it takes ${allowed.map((f) => `'${f}'`).join(', ')}`);
}

function parametersOf(body: Record<string, unknown>, what: string): Record<string, unknown> {
  onlyFields(body, ['parameters'], what);
  const { parameters } = body;
  if (parameters === undefined) return {};
  if (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters)) {
    throw new InvalidRequestError(`${what}: 'parameters' must be a JSON object, got ${JSON.stringify(parameters)}`);
  }
  return parameters as Record<string, unknown>;
}

/** Triton's load takes a config override (`config`) and model files (`file:<path>`) in the request; hotpath loads what the repository holds. */
function checkLoadParameters(parameters: Record<string, unknown>, model: string): void {
  for (const key of Object.keys(parameters)) {
    if (key === 'config') {
      throw new InvalidRequestError(`load of '${model}': parameter 'config' (a model configuration sent with the request) is not supported; edit ${model}/config.pbtxt in the model repository and load again`);
    }
    if (key.startsWith('file:')) {
      throw new InvalidRequestError(`load of '${model}': parameter '${key}' (a model file sent with the request) is not supported; put the file at ${model}/${key.slice('file:'.length)} in the model repository and load again`);
    }
    throw new InvalidRequestError(`load of '${model}': parameter '${key}' is not supported; the load takes no parameters (it loads the model as the repository holds it)`);
  }
}
