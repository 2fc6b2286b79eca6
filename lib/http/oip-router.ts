import { timingSafeEqual } from 'node:crypto';
import { MethodNotAllowedError, NotFoundError, UnauthorizedError } from '../errors/hotpath-error';
import type { ExecutionProviderReport } from '../backends/inference-backend';
import type { RegisteredModel } from '../models/model-registry';
import type { InferAnswer } from '../serving/infer';
import { routeCostOf, type ModelRouteCost } from '../serving/remote-routing-router';
import { MODEL_REPOSITORY_EXTENSION, SERVER_EXTENSIONS, SERVER_NAME, SERVER_VERSION, type ServingRuntime } from '../serving/serving-runtime';
import { jsonResponse, type HttpRequest, type HttpResponse } from './http-types';
import { answerInferRequest, type OipRequestContext } from './infer-http-exchange';
import { answerRepositoryRequest, matchRepositoryRoute, type RepositoryRoute } from './model-repository-routes';
import { answerVoiceDetectorRequest, isVoiceDetectorModel } from '../streaming/voice-detector-routes';

/** What the router hands back: the answer, plus what was inferred for metrics (infer routes only). */
export interface RoutedResponse {
  readonly response: HttpResponse;
  readonly inference?: InferAnswer;
}

type Route =
  | { kind: 'server' | 'live' | 'ready' | 'models' }
  | { kind: 'model' | 'model-ready' | 'infer' | 'generate-stream'; model: string; version?: string }
  | RepositoryRoute;

/**
 * The Open Inference Protocol (KServe v2 REST) routes, transport-neutral: API Gateway,
 * a Function URL and the tests all call this. Errors are thrown as HotpathErrors; the error
 * middleware turns them into answers.
 */
export async function routeOipRequest(runtime: ServingRuntime, request: HttpRequest, context: OipRequestContext): Promise<RoutedResponse> {
  checkApiKey(runtime.config.apiKey, request.headers['x-api-key']);
  const route = matchRoute(request.path);
  if (route.kind === 'repository-index' || route.kind === 'repository-load' || route.kind === 'repository-unload') {
    return { response: await answerRepositoryRequest(runtime, route, request) };
  }
  const method = request.method.toUpperCase();
  const expected = route.kind === 'infer' || route.kind === 'generate-stream' ? 'POST' : 'GET';
  if (method !== expected && !(expected === 'GET' && method === 'HEAD')) {
    throw new MethodNotAllowedError(method, request.path, [expected]);
  }
  // The streaming voice detector (lib/streaming/): a model name the registry does not hold.
  if ((route.kind === 'model' || route.kind === 'model-ready' || route.kind === 'infer' || route.kind === 'generate-stream') && isVoiceDetectorModel(runtime, route.model)) return { response: await answerVoiceDetectorRequest(runtime, route, request) };
  const { registry } = runtime;
  switch (route.kind) {
    case 'server': {
      const providers = executionProviders(registry.entries);
      const extensions = runtime.repository ? [...SERVER_EXTENSIONS, MODEL_REPOSITORY_EXTENSION] : SERVER_EXTENSIONS;
      return { response: jsonResponse(200, { name: SERVER_NAME, version: SERVER_VERSION, extensions, ...(providers ? { parameters: providers } : {}) }) };
    }
    case 'live':
      return { response: jsonResponse(200, { live: true }) };
    case 'ready': {
      const notReady = registry.entries.filter((e) => e.selected && !e.state.ready).map((e) => `${e.manifest.name}@${e.manifest.version}`);
      return notReady.length === 0
        ? { response: jsonResponse(200, { ready: true }) }
        : { response: jsonResponse(400, { ready: false, error: `models not ready: ${notReady.join(', ')}` }) };
    }
    case 'models':
      return { response: jsonResponse(200, { models: registry.entries.map(modelIndexEntry) }) };
    case 'model': {
      const entry = registry.find(route.model, route.version);
      const cost = routeCostOf(runtime.router, entry.manifest.name, entry.manifest.version);
      return { response: jsonResponse(200, modelMetadata(entry, registry.versionsOf(route.model), cost)) };
    }
    case 'model-ready': {
      const entry = registry.find(route.model, route.version);
      const body = { name: entry.manifest.name, version: entry.manifest.version, ready: entry.state.ready };
      return entry.state.ready
        ? { response: jsonResponse(200, body) }
        : { response: jsonResponse(400, { ...body, error: entry.state.reason }) };
    }
    case 'generate-stream':
      throw new NotFoundError(`model '${route.model}' has no generate_stream route; POST /v2/models/voice-detector/generate_stream streams`);
    case 'infer': {
      const { response, answer } = await answerInferRequest(runtime, route, request, runtime.config, context);
      return { response, inference: answer };
    }
  }
}

function matchRoute(path: string): Route {
  const parts = path.replace(/\/+$/, '').split('/').filter((p) => p.length > 0).map(safeDecode);
  if (parts[0] === 'v2') {
    if (parts.length === 1) return { kind: 'server' };
    const repository = matchRepositoryRoute(parts);
    if (repository) return repository;
    if (parts.length === 3 && parts[1] === 'health' && (parts[2] === 'live' || parts[2] === 'ready')) return { kind: parts[2] };
    if (parts[1] === 'models') {
      if (parts.length === 2) return { kind: 'models' };
      const model = parts[2]!;
      let rest = parts.slice(3);
      let version: string | undefined;
      if (rest[0] === 'versions' && rest.length >= 2) {
        version = rest[1];
        rest = rest.slice(2);
      }
      if (rest.length === 0) return { kind: 'model', model, version };
      if (rest.length === 1 && rest[0] === 'ready') return { kind: 'model-ready', model, version };
      if (rest.length === 1 && rest[0] === 'infer') return { kind: 'infer', model, version };
      if (rest.length === 1 && rest[0] === 'generate_stream') return { kind: 'generate-stream', model, version };
    }
  }
  throw new NotFoundError(`no route ${path}; the API is the Open Inference Protocol under /v2 (GET /v2/models lists the models)`);
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export function checkApiKey(expected: string | undefined, given: string | undefined): void {
  if (expected === undefined) return;
  const a = Buffer.from(expected);
  const b = Buffer.from(given ?? '');
  if (a.byteLength !== b.byteLength || !timingSafeEqual(a, b)) {
    throw new UnauthorizedError(given === undefined ? 'this server requires an API key: send it in the x-api-key header' : 'the x-api-key header does not match this server\'s API key');
  }
}

function modelIndexEntry(entry: RegisteredModel) {
  return {
    name: entry.manifest.name,
    version: entry.manifest.version,
    platform: entry.manifest.platform,
    state: entry.state.ready ? 'READY' : 'UNAVAILABLE',
    ...(entry.state.ready ? {} : { reason: entry.state.reason }),
  };
}

function modelMetadata(entry: RegisteredModel, versions: string[], cost: ModelRouteCost | undefined) {
  const m = entry.manifest;
  return {
    name: m.name,
    versions,
    platform: m.platform,
    inputs: m.inputs,
    outputs: m.outputs,
    parameters: {
      version: m.version,
      max_batch_size: m.maxBatchSize,
      ...(m.labels ? { labels: m.labels } : {}),
      // What the shapes cannot say (allowed values, multiples, windows): checked before the runtime sees a request.
      ...(m.constraints ? { constraints: m.constraints } : {}),
      ...(m.description ? { description: m.description } : {}),
      // Triton's config as the manifest holds it: the batcher's settings and the model's own parameters.
      ...(m.dynamicBatching ? { dynamic_batching: m.dynamicBatching } : {}),
      ...(m.parameters ? { model_parameters: m.parameters } : {}),
      ...(entry.state.ready ? { route: entry.state.backend.route } : {}),
      ...(entry.state.ready && entry.state.session.executionProvider ? providerParameters(entry.state.session.executionProvider) : {}),
      // With a remote route: each route's USD per million rows by batch size, from the costs measured at start-up.
      ...(cost ? { route_cost: cost } : {}),
    },
  };
}

/** The execution provider a native session proved it runs on, what onnxruntime placed where, and the providers refused before it. */
function providerParameters(report: ExecutionProviderReport) {
  return { provider: report.provider, provider_nodes: report.nodesByProvider, ...(report.refused.length > 0 ? { providers_refused: report.refused } : {}) };
}

/** `GET /v2` parameters: the provider of each ready model that has one, and the refusals (the same for every model of a backend), or undefined when none has one. */
function executionProviders(entries: readonly RegisteredModel[]) {
  const providers: Record<string, string> = {};
  const refused = new Map<string, string>();
  for (const entry of entries) {
    const report = entry.state.ready ? entry.state.session.executionProvider : undefined;
    if (!report) continue;
    providers[`${entry.manifest.name}@${entry.manifest.version}`] = report.provider;
    for (const r of report.refused) refused.set(r.provider, r.reason);
  }
  if (Object.keys(providers).length === 0) return undefined;
  return { providers, ...(refused.size > 0 ? { providers_refused: [...refused].map(([provider, reason]) => ({ provider, reason })) } : {}) };
}
