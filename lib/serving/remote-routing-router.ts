import { BrokenCircuitError, CircuitBreakerPolicy, CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhen } from 'cockatiel';
import { RemoteInferenceError, RemoteOipClient } from '../backends/remote-oip-client';
import type { RemoteRoutingConfig, RouteCostSettings } from '../config/serving-config';
import { ConfigError, DeadlineExceededError, RequestAbortedError, ServerBusyError } from '../errors/hotpath-error';
import type { ModelRegistry } from '../models/model-registry';
import type { HostTensor } from '../protocol/tensor';
import { elementCount } from '../protocol/tensor';
import type { StructuredLogger } from '../telemetry/structured-logger';
import { localRouter, type InferenceRouter, type ReadyModel, type RoutedResult, type RoutedRun } from './inference-router';
import { calibrationRows, estimateMs, measureCost, type LinearCost } from './route-calibration';
import { cheapestRouteThreshold, DEFAULT_TASK_PRICE, routeCostReport, type RouteCostReport } from './route-cost';

/** The route name of answers the remote server computed. */
export const REMOTE_ROUTE = 'gpu-task';

/**
 * The route of an answer computed locally because the remote route was unavailable, e.g.
 * `local-wasm (fallback: gpu-task unreachable)`. The reasons are a small fixed set (so the route
 * is a usable metric dimension): `circuit open`, `circuit half-open`, `unreachable`, `timeout`,
 * `connection reset`, `malformed answer`, `HTTP <status>`.
 */
export function fallbackRoute(localRoute: string, reason: string): string {
  return `${localRoute} (fallback: ${REMOTE_ROUTE} ${reason})`;
}

/**
 * 503 with Retry-After: the request's batch belongs on the remote route, the remote route is
 * unavailable, and the request does not fit what this instance may run locally instead.
 */
export class RemoteUnavailableError extends ServerBusyError {}

/** Where a model's requests go, and what that was decided from. */
export interface ModelRoutePlan {
  /** Requests with more rows than this go remote; Infinity: never. */
  readonly threshold: number;
  /**
   * `manifest`: routing.preferRemoteAboveBatch; `measured`: from the costs measured at start-up
   * (the cheapest route within the latency budget, or without one the faster: route-cost.ts);
   * `pending`: to be measured once the remote answers (it did not at start-up); `local-only`: the
   * remote cannot serve it (or calibration is off and the manifest has no threshold).
   */
  readonly source: 'manifest' | 'measured' | 'pending' | 'local-only';
  /** The local route's measured cost: what a fallback would take, checked against the deadline. */
  readonly local?: LinearCost;
  readonly remote?: LinearCost;
}

/** What the router has done since start-up, by outcome (the fallbacks by reason). */
export interface RoutingCounts {
  local: number;
  remote: number;
  fallback: Record<string, number>;
  refused: number;
}

export type RouterLogger = Pick<StructuredLogger, 'info' | 'error'> & Partial<Pick<StructuredLogger, 'warn'>>;

/** A fallback may use the local route when its estimated time, times this margin, fits before the deadline. */
const FALLBACK_MARGIN = 1.5;
/** What a remote call keeps in reserve beyond that: the timer firing late, the event loop, the answer's copy. */
const RESERVE_SLACK_MS = 10;
/** Longest the start-up health probe waits for the remote server. */
const STARTUP_PROBE_MS = 2_000;
/** Without settings from the config module: the default task price, no latency budget (the faster route serves). */
const DEFAULT_ROUTE_COST: RouteCostSettings = { memoryMb: 1769, architecture: 'arm64', taskUsdPerHour: DEFAULT_TASK_PRICE.usdPerHour, latencyBudgetMs: undefined };

/**
 * The router of a Lambda instance (or any door) that has a remote route: a request whose batch
 * is above its model's threshold runs on the remote Open Inference Protocol server (the GPU
 * task, or Triton); the others run on the instance's own session. Each model's remote route sits
 * behind its own cockatiel circuit breaker (the remote's queues, readiness and self-test are per
 * model): `breakerFailures` consecutive remote failures open it, and after
 * `breakerHalfOpenMs` the next remote-bound request probes it (half-open): success closes it,
 * failure opens it again. While the remote is unavailable (circuit open, a probe in flight, or
 * this call failed), a request that fits the local limits (at most `fallbackMaxBatch` rows, and
 * an estimated local time that fits before its deadline) runs locally with a fallback route,
 * logged; the others get 503 with Retry-After (until the probe). Every remote call is bounded by
 * the request's deadline (which the Lambda door sets from the remaining time) and the remote
 * timeout; a request that could fall back keeps the time of a local run in reserve.
 *
 * What counts against the breaker: no connection, a connection reset, the remote timeout, 5xx
 * and 429 answers, malformed answers. What does not: other 4xx (the server is up and judged
 * this request; the request still falls back, so the local runtime judges it too), the
 * request's own deadline, the caller going away (except during the half-open probe, which must
 * not close the circuit without an answer).
 *
 * Thresholds (`prepare`, at start-up): the manifest's `routing.preferRemoteAboveBatch`, or, when
 * `calibrate` is on, from two straight lines measured at 1 and min(maxBatch, 64) rows on each
 * route: with a latency budget (`cost.latencyBudgetMs`), the cheapest route that meets it at each
 * batch size, priced by Lambda's formula and the task's hourly price (route-cost.ts); without one,
 * the faster route, their crossover (route-calibration.ts: `n > (fR − fL) / (cL − cR)`). Where
 * the remote, or the model there, is not ready at start-up, a model with a manifest threshold starts with its
 * circuit open, and a model to calibrate stays local (plain route) until it is measured: tried
 * again by its requests, at most once per half-open period. A model the remote does not have
 * (404) stays local.
 */
export class RemoteRoutingRouter implements InferenceRouter {
  readonly counts: RoutingCounts = { local: 0, remote: 0, fallback: {}, refused: 0 };
  private readonly routes = new Map<string, ModelRoute>();
  private readonly logger: Required<RouterLogger>;
  private registry: ModelRegistry | undefined;
  private calibration: Promise<void> | undefined;
  private lastCalibration = 0;

  constructor(readonly client: RemoteOipClient, private readonly settings: RemoteRoutingConfig, logger: RouterLogger, private readonly cost: RouteCostSettings = DEFAULT_ROUTE_COST) {
    this.logger = { info: logger.info.bind(logger), error: logger.error.bind(logger), warn: (logger.warn ?? logger.error).bind(logger) };
  }

  /** The plan for one model version (undefined: not prepared, runs locally). */
  planOf(name: string, version: string): ModelRoutePlan | undefined {
    return this.routes.get(`${name}@${version}`)?.plan;
  }

  /**
   * What each route costs one model version, per batch size (undefined: not measured): USD per
   * million rows on arm64 and x86_64 from the costs measured at start-up; model metadata shows it.
   */
  costOf(name: string, version: string): ModelRouteCost | undefined {
    const route = this.routes.get(`${name}@${version}`);
    if (route?.plan.local === undefined) return undefined;
    const { threshold, source, local, remote } = route.plan;
    return { remote_above_batch: Number.isFinite(threshold) ? threshold : 'never', threshold_source: source, ...routeCostReport(local, remote, route.maxBatch, this.cost) };
  }

  /** The state of one model version's circuit (undefined: the model has no remote route). */
  circuitOf(name: string, version: string): CircuitState | undefined {
    return this.routes.get(`${name}@${version}`)?.breaker.state;
  }

  /**
   * Start-up: probes the remote, measures the local cost of every selected model that batches,
   * and sets each one's threshold. Call it once the models are loaded (INIT).
   */
  async prepare(registry: ModelRegistry): Promise<void> {
    this.registry = registry;
    const started = performance.now();
    const server = await this.client.readiness(undefined, { deadline: this.probeDeadline() });
    for (const entry of registry.entries) {
      if (!entry.selected || !entry.state.ready || calibrationRows(entry.manifest) < 2) continue;
      const model = entry as ReadyModel;
      const { name, version } = model.manifest;
      const hint = manifestThreshold(model);
      if (hint === undefined && !this.settings.calibrate) continue;
      const local = await measureCost(model.manifest, (inputs) => model.state.session.run(inputs));
      const readiness = server.state === 'unreachable' ? server : await this.client.readiness({ name, version }, { deadline: this.probeDeadline() });
      if (readiness.state === 'not-ready' && readiness.status === 404) {
        this.logger.warn('remote route: the remote server does not serve this model, it stays local', { model: name, version, reason: readiness.reason });
        this.setPlan(model, { threshold: Infinity, source: 'local-only', local });
      } else if (hint !== undefined) {
        this.setPlan(model, { threshold: hint, source: 'manifest', local });
        if (readiness.state !== 'ready') await this.openAtStartup(this.routes.get(routeKey(model))!, readiness.reason);
      } else if (readiness.state === 'ready') {
        await this.calibrateRemote(model, local);
      } else {
        this.logger.warn('remote route: the model is not ready on the remote server, it stays local until it is measured', { model: name, version, reason: readiness.reason });
        this.setPlan(model, { threshold: Infinity, source: 'pending', local });
      }
    }
    this.lastCalibration = Date.now();
    this.logger.info('remote route prepared', { url: this.client.url, server: server.state, ms: Math.round(performance.now() - started) });
  }

  async run(request: RoutedRun): Promise<RoutedResult> {
    const { model, batchSize } = request;
    const route = this.routes.get(routeKey(model));
    if (route?.plan.source === 'pending') this.calibratePendingSoon();
    if (route === undefined || !(batchSize > route.plan.threshold)) {
      this.counts.local++;
      return localRouter.run(request);
    }
    const { plan, breaker } = route;
    // Another request is probing the remote: do not queue behind it (cockatiel would wait for the probe).
    if (breaker.state === CircuitState.HalfOpen) return this.fallback(request, plan, 'circuit half-open', this.retryAfterSeconds(route), lastFailureOf(breaker));
    const deadline = this.remoteDeadline(request, plan);
    try {
      const outputs = await breaker.execute(() => this.runRemote(request, deadline));
      this.counts.remote++;
      return { outputs, route: REMOTE_ROUTE };
    } catch (error) {
      if (error instanceof BrokenCircuitError) return this.fallback(request, plan, 'circuit open', this.retryAfterSeconds(route), lastFailureOf(breaker));
      if (error instanceof RequestAbortedError) throw error;
      if (error instanceof DeadlineExceededError) {
        // The remote call stopped early to leave a local run time before the deadline: use it.
        if (deadline !== request.options.deadline) return this.fallback(request, plan, 'timeout', 1, error);
        throw error;
      }
      if (error instanceof RemoteInferenceError) return this.fallback(request, plan, reasonOf(error), Math.max(error.retryAfterSeconds ?? 1, this.retryAfterSeconds(route)), error);
      throw error;
    }
  }

  /** Closes the remote client's connections. */
  close(): void {
    this.client.close();
  }

  /** Resolves when no background calibration is running (tests, benchmarks). */
  async settled(): Promise<void> {
    await this.calibration;
  }

  private async runRemote(request: RoutedRun, deadline: number | undefined): Promise<HostTensor[]> {
    const { model, inputs, outputNames, options } = request;
    const answer = await this.client.infer({ model: model.manifest.name, version: model.manifest.version, inputs, outputNames }, { deadline, signal: options.signal });
    checkOutputs(model, request.batchSize, answer.outputs, this.client.url);
    return answer.outputs;
  }

  /**
   * The request's deadline, less the time a local run would take when the request could fall
   * back: a remote call that is still unanswered by then gives way to the local route. Without
   * room for both, the remote call gets the whole deadline.
   */
  private remoteDeadline(request: RoutedRun, plan: ModelRoutePlan): number | undefined {
    const { deadline } = request.options;
    if (deadline === undefined || plan.local === undefined || request.batchSize > this.fallbackLimit(request.model)) return deadline;
    const reserve = localEstimateMs(plan.local, request) + RESERVE_SLACK_MS;
    return deadline - performance.now() > 2 * reserve ? deadline - reserve : deadline;
  }

  private fallbackLimit(model: ReadyModel): number {
    return this.settings.fallbackMaxBatch ?? model.manifest.maxBatchSize;
  }

  /** Runs the request locally when it fits, else refuses it (503). `cause`: what made the remote unavailable, for the log and the refusal. */
  private async fallback(request: RoutedRun, plan: ModelRoutePlan, reason: string, retryAfterSeconds: number, cause: Error | undefined): Promise<RoutedResult> {
    const { model, batchSize, options } = request;
    const name = model.manifest.name;
    const limit = this.fallbackLimit(model);
    const left = options.deadline === undefined ? Infinity : options.deadline - performance.now();
    const estimate = plan.local === undefined ? 0 : localEstimateMs(plan.local, request);
    let refusal: string | undefined;
    if (batchSize > limit) refusal = `it is over the ${limit} rows this instance may run locally (HOTPATH_REMOTE_FALLBACK_MAX_BATCH); retry after ${retryAfterSeconds} s or send at most ${limit} rows`;
    else if (estimate > left) refusal = `a local run would take about ${Math.ceil(estimate)} ms and the deadline is ${Math.max(0, Math.floor(left))} ms away; retry after ${retryAfterSeconds} s, raise parameters.timeout or send fewer rows`;
    if (refusal !== undefined) {
      this.counts.refused++;
      this.logger.warn('remote route unavailable, request refused', { model: name, rows: batchSize, reason, retryAfterSeconds, error: cause?.message });
      const why = cause === undefined ? reason : `${reason}: ${cause.message}`;
      throw new RemoteUnavailableError(`model '${name}': a batch of ${batchSize} rows goes to the remote route ${REMOTE_ROUTE} (above ${plan.threshold} rows), which is unavailable (${why}); ${refusal}`, retryAfterSeconds);
    }
    const route = fallbackRoute(model.state.backend.route, reason);
    this.counts.fallback[reason] = (this.counts.fallback[reason] ?? 0) + 1;
    this.logger.warn('remote route unavailable, running locally', { model: name, rows: batchSize, reason, route, error: cause?.message });
    const { outputs } = await localRouter.run(request);
    return { outputs, route };
  }

  /** Whole seconds until the open circuit lets a probe through (at least 1). */
  private retryAfterSeconds(route: ModelRoute): number {
    if (route.breaker.state !== CircuitState.Open) return 1;
    return Math.max(1, Math.ceil((route.openedAt + this.settings.breakerHalfOpenMs - Date.now()) / 1000));
  }

  /**
   * One circuit per model version: the remote's queues, readiness and provider self-test are
   * per model (Triton's too), so one model refused there must not cut the others off.
   */
  private createCircuit(model: ReadyModel): ModelRoute['breaker'] {
    const { name, version } = model.manifest;
    const breaker: CircuitBreakerPolicy = circuitBreaker(handleWhen((error) => countsAsFailure(error, breaker.state)), {
      halfOpenAfter: this.settings.breakerHalfOpenMs,
      breaker: new ConsecutiveBreaker(this.settings.breakerFailures),
    });
    const url = this.client.url;
    breaker.onBreak((reason) => {
      const route = this.routes.get(routeKey(model));
      if (route) route.openedAt = Date.now();
      const error = 'error' in reason ? (reason.error as Error).message : undefined;
      this.logger.warn('remote route: circuit opened', { model: name, version, url, failures: this.settings.breakerFailures, halfOpenMs: this.settings.breakerHalfOpenMs, error });
    });
    breaker.onHalfOpen(() => this.logger.info('remote route: circuit half-open, probing', { model: name, version, url }));
    breaker.onReset(() => this.logger.info('remote route: circuit closed', { model: name, version, url }));
    return breaker;
  }

  /** The remote (or the model there) was not ready at start-up: the circuit starts open, so requests do not each wait for it to fail. */
  private async openAtStartup(route: ModelRoute, reason: string): Promise<void> {
    const down = new RemoteInferenceError('unreachable', `not ready at start-up: ${reason}`);
    for (let i = 0; i < this.settings.breakerFailures && route.breaker.state === CircuitState.Closed; i++) {
      await route.breaker.execute(() => Promise.reject(down)).catch(() => undefined);
    }
  }

  private async calibrateRemote(model: ReadyModel, local: LinearCost): Promise<void> {
    const { name, version } = model.manifest;
    try {
      const remote = await measureCost(model.manifest, (inputs) => this.client.infer({ model: name, version, inputs }, {}));
      this.setPlan(model, { threshold: cheapestRouteThreshold(local, remote, model.manifest.maxBatchSize, this.cost), source: 'measured', local, remote });
    } catch (error) {
      if (error instanceof RemoteInferenceError && error.kind === 'status' && error.remoteStatus !== undefined && error.remoteStatus < 500) {
        this.logger.warn('remote route: the remote server cannot run this model, it stays local', { model: name, version, error: error.message });
        this.setPlan(model, { threshold: Infinity, source: 'local-only', local });
      } else {
        this.logger.warn('remote route: calibration failed, the model stays local until it is measured', { model: name, version, error: (error as Error).message });
        this.setPlan(model, { threshold: Infinity, source: 'pending', local });
      }
    }
  }

  /**
   * Measures, in the background, the models whose remote cost is still unknown (the remote or
   * the model there was not ready): at most once per half-open period, each after its own
   * readiness probe.
   */
  private calibratePendingSoon(): void {
    if (this.calibration !== undefined || this.registry === undefined || Date.now() - this.lastCalibration < this.settings.breakerHalfOpenMs) return;
    const pending = this.registry.entries.filter((e) => e.state.ready && this.planOf(e.manifest.name, e.manifest.version)?.source === 'pending') as ReadyModel[];
    if (pending.length === 0) return;
    this.lastCalibration = Date.now();
    this.calibration = (async () => {
      try {
        for (const model of pending) {
          const { name, version } = model.manifest;
          const readiness = await this.client.readiness({ name, version }, { deadline: this.probeDeadline() });
          if (readiness.state === 'ready') await this.calibrateRemote(model, this.planOf(name, version)!.local!);
          else this.logger.info('remote route: the model is still not ready there, calibration postponed', { model: name, version, reason: readiness.reason });
        }
      } finally {
        this.lastCalibration = Date.now();
        this.calibration = undefined;
      }
    })();
  }

  private probeDeadline(): number {
    return performance.now() + Math.min(STARTUP_PROBE_MS, this.settings.timeoutMs);
  }

  private setPlan(model: ReadyModel, plan: ModelRoutePlan): void {
    const { name, version } = model.manifest;
    const existing = this.routes.get(routeKey(model));
    if (existing) {
      existing.plan = plan;
      existing.maxBatch = model.manifest.maxBatchSize;
    } else this.routes.set(routeKey(model), { plan, breaker: this.createCircuit(model), openedAt: 0, maxBatch: model.manifest.maxBatchSize });
    const perRow = (cost: LinearCost | undefined) => (cost === undefined ? undefined : round(cost.perElementMs * cost.elementsPerRow));
    this.logger.info('remote route threshold', {
      model: name, version, threshold: Number.isFinite(plan.threshold) ? plan.threshold : 'never', source: plan.source,
      localFixedMs: plan.local && round(plan.local.fixedMs), localPerRowMs: perRow(plan.local),
      remoteFixedMs: plan.remote && round(plan.remote.fixedMs), remotePerRowMs: perRow(plan.remote),
      ...(plan.source === 'measured' ? { latencyBudgetMs: this.cost.latencyBudgetMs ?? 'none (the faster route)', taskUsdPerHour: this.cost.taskUsdPerHour } : {}),
    });
  }
}

/**
 * Creates the router for a config with a remote route.
 *
 * @example
 * const router = createRemoteRoutingRouter(config.remote, logger, config.routeCost);
 * await router.prepare(registry); // at INIT, once the models are loaded
 */
export function createRemoteRoutingRouter(settings: RemoteRoutingConfig, logger: RouterLogger, cost?: RouteCostSettings): RemoteRoutingRouter {
  const client = new RemoteOipClient({ url: settings.url, encoding: settings.encoding, gzip: settings.gzip, apiKey: settings.apiKey, timeoutMs: settings.timeoutMs });
  return new RemoteRoutingRouter(client, settings, logger, cost);
}

interface ModelRoute {
  plan: ModelRoutePlan;
  readonly breaker: CircuitBreakerPolicy;
  /** Date.now() when the circuit last opened (Retry-After counts down from it). */
  openedAt: number;
  /** The model's max batch size: the largest batch the cost table shows. */
  maxBatch: number;
}

/** A model's cost table with the threshold the router uses and where it came from (model metadata `parameters.route_cost`). */
export interface ModelRouteCost extends RouteCostReport {
  /** Batches of more rows go to the remote route; `never`: none does. */
  readonly remote_above_batch: number | 'never';
  readonly threshold_source: ModelRoutePlan['source'];
}

/**
 * The cost table of one model version where the router has one (a RemoteRoutingRouter that
 * measured it), for model metadata.
 */
export function routeCostOf(router: InferenceRouter, name: string, version: string): ModelRouteCost | undefined {
  return router instanceof RemoteRoutingRouter ? router.costOf(name, version) : undefined;
}

function routeKey(model: ReadyModel): string {
  return `${model.manifest.name}@${model.manifest.version}`;
}

/**
 * What counts against the breaker: no connection, a reset, the remote timeout, 5xx and 429,
 * a malformed answer. During the half-open probe, a call that ended without an answer (the
 * request's deadline, the caller gone) counts too: it proves nothing, so the circuit stays open.
 */
function countsAsFailure(error: Error, state: CircuitState): boolean {
  if (error instanceof RemoteInferenceError) {
    return error.kind !== 'status' || error.remoteStatus === undefined || error.remoteStatus >= 500 || error.remoteStatus === 429;
  }
  return state === CircuitState.HalfOpen && (error instanceof DeadlineExceededError || error instanceof RequestAbortedError);
}

/** The manifest's routing.preferRemoteAboveBatch: a non-negative integer, or absent. */
function manifestThreshold(model: ReadyModel): number | undefined {
  const hint = model.manifest.routing?.preferRemoteAboveBatch;
  if (hint === undefined) return undefined;
  if (!Number.isInteger(hint) || hint < 0) {
    throw new ConfigError(`model '${model.manifest.name}@${model.manifest.version}': manifest routing.preferRemoteAboveBatch must be a non-negative integer (rows), got ${JSON.stringify(hint)}`);
  }
  return hint;
}

/** The error of the call that last failed on this circuit (what opened it). */
function lastFailureOf(breaker: CircuitBreakerPolicy): Error | undefined {
  const last = breaker.lastFailure;
  return last !== undefined && 'error' in last && last.error instanceof Error ? last.error : undefined;
}

function reasonOf(error: RemoteInferenceError): string {
  switch (error.kind) {
    case 'unreachable': return 'unreachable';
    case 'timeout': return 'timeout';
    case 'reset': return 'connection reset';
    case 'malformed': return 'malformed answer';
    case 'status': return `HTTP ${error.remoteStatus}`;
  }
}

/** The time a local run of this request is expected to take, with margin. */
function localEstimateMs(local: LinearCost, request: RoutedRun): number {
  return estimateMs(local, firstInputElements(request)) * FALLBACK_MARGIN;
}

function firstInputElements(request: RoutedRun): number {
  const first = request.model.manifest.inputs[0];
  const tensor = request.inputs.find((t) => t.name === first?.name) ?? request.inputs[0];
  return tensor === undefined ? 0 : elementCount(tensor.shape);
}

/**
 * The remote's outputs must be what the local route would have produced: the manifest's
 * datatype and rank, its fixed dims, and the request's batch in a batched first dim. Anything
 * else (another model behind the same name, a server bug) is a malformed answer.
 */
function checkOutputs(model: ReadyModel, batchSize: number, outputs: readonly HostTensor[], url: string): void {
  for (const tensor of outputs) {
    const signature = model.manifest.outputs.find((s) => s.name === tensor.name);
    if (signature === undefined) continue;
    const fits = tensor.datatype === signature.datatype && tensor.shape.length === signature.shape.length
      && signature.shape.every((d, i) => (d === -1 ? !(i === 0 && model.manifest.maxBatchSize > 0) || tensor.shape[0] === batchSize : tensor.shape[i] === d));
    if (!fits) {
      throw new RemoteInferenceError('malformed', `the answer of ${url} is malformed: output '${tensor.name}' is ${tensor.datatype} ${JSON.stringify(tensor.shape)}, model '${model.manifest.name}' gives ${signature.datatype} ${JSON.stringify(signature.shape)} for ${batchSize} rows`);
    }
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
