import type { LambdaArchitecture, RouteCostSettings } from '../config/serving-config';
import { crossoverRows, type LinearCost } from './route-calibration';

const USD_PER_MILLION_REQUESTS = 0.2;

/**
 * AWS Lambda on-demand prices, first pricing tier (the first 6 billion GB-seconds a month on
 * x86_64, 7.5 billion on arm64), us-east-1, as published at https://aws.amazon.com/lambda/pricing/.
 * Recorded 2026-11-26 (bench:cold's cost per million uses these too); unchanged since arm64's
 * launch in 2021. Not fetched at run time: nothing here has network access.
 */
export const LAMBDA_PRICES = {
  source: 'https://aws.amazon.com/lambda/pricing/ (us-east-1, first tier), recorded 2026-11-26',
  usdPerGbSecond: { arm64: 0.0000133334, x86_64: 0.0000166667 },
  usdPerMillionRequests: USD_PER_MILLION_REQUESTS,
  usdPerRequest: USD_PER_MILLION_REQUESTS / 1_000_000,
} as const;

/**
 * The GPU task's default price: one g5.xlarge (1× NVIDIA A10G, 4 vCPU, 16 GiB), on-demand Linux,
 * us-east-1, USD 1.006 an hour as listed in June 2026 (https://aws.amazon.com/ec2/pricing/on-demand/).
 * A configurable default, not a measurement: other regions (eu-west-1, the stack's default, was
 * not checked), instance types, Savings Plans and Spot differ; set HOTPATH_REMOTE_TASK_USD_PER_HOUR.
 */
export const DEFAULT_TASK_PRICE = {
  usdPerHour: 1.006,
  source: 'g5.xlarge on-demand Linux, us-east-1, USD 1.006/h as listed June 2026 (https://aws.amazon.com/ec2/pricing/on-demand/); a configurable default',
} as const;

/** The batch sizes the cost table shows (those up to the model's max batch size, and the max itself). */
const TABLE_BATCH_SIZES = [1, 8, 64, 256, 1024] as const;

export type RouteName = 'local' | 'remote';

/** One route's time and price for one request of `rows` rows. */
export interface RouteEstimate {
  readonly ms: number;
  readonly usd: number;
}

/** Time of one run of `rows` rows (at the calibration's row width). */
export function routeMs(cost: LinearCost, rows: number): number {
  return cost.fixedMs + cost.perElementMs * cost.elementsPerRow * rows;
}

/** USD per second of a Lambda function of this memory size and architecture (Lambda's formula: GB × seconds × price). */
export function lambdaUsdPerSecond(memoryMb: number, architecture: LambdaArchitecture): number {
  return (memoryMb / 1024) * LAMBDA_PRICES.usdPerGbSecond[architecture];
}

/**
 * One request of `rows` rows on the local route: the request price and the GB-seconds of the
 * local run. The rest of the invocation (the door, the codecs) costs the same on both routes.
 */
export function localRequest(local: LinearCost, rows: number, settings: RouteCostSettings, architecture = settings.architecture): RouteEstimate {
  const ms = routeMs(local, rows);
  return { ms, usd: LAMBDA_PRICES.usdPerRequest + (lambdaUsdPerSecond(settings.memoryMb, architecture) * ms) / 1000 };
}

/**
 * One request of `rows` rows on the remote route: the request price, the function's GB-seconds
 * while it waits for the answer, and the task's time at its hourly price, counted as the whole
 * measured round trip: the throughput measured at start-up, one request at a time. A task kept
 * busy by concurrent, batched requests costs less per row; an idle one costs its hours anyway.
 */
export function remoteRequest(remote: LinearCost, rows: number, settings: RouteCostSettings, architecture = settings.architecture): RouteEstimate {
  const ms = routeMs(remote, rows);
  const usdPerSecond = lambdaUsdPerSecond(settings.memoryMb, architecture) + settings.taskUsdPerHour / 3600;
  return { ms, usd: LAMBDA_PRICES.usdPerRequest + (usdPerSecond * ms) / 1000 };
}

/** USD per million rows of requests of `rows` rows that each cost `requestUsd`. */
export function usdPerMillionRows(requestUsd: number, rows: number): number {
  return (requestUsd / rows) * 1_000_000;
}

/**
 * The route for one batch size: the cheaper of the routes whose time is within the latency
 * budget; when neither is (or there is no budget), the faster. Ties go local.
 */
export function chooseRoute(local: RouteEstimate, remote: RouteEstimate, latencyBudgetMs: number | undefined): RouteName {
  const localFits = latencyBudgetMs !== undefined && local.ms <= latencyBudgetMs;
  const remoteFits = latencyBudgetMs !== undefined && remote.ms <= latencyBudgetMs;
  if (localFits && remoteFits) return remote.usd < local.usd ? 'remote' : 'local';
  if (localFits !== remoteFits) return remoteFits ? 'remote' : 'local';
  return remote.ms < local.ms ? 'remote' : 'local';
}

/**
 * The router's threshold (requests of more rows go remote) from the two measured lines: with a
 * latency budget, the cheapest route that meets it (chooseRoute); without one, the faster route
 * (crossoverRows, the latency crossover). The router sends every batch above one threshold
 * remote, so this is the largest batch, up to `maxBatch`, for which chooseRoute says local; 0
 * when it never does, Infinity when it does at `maxBatch`.
 *
 * Every comparison in chooseRoute is between straight lines in the rows, so the choice changes
 * only next to where one of them crosses: the batch sizes next to those four crossings (and 1
 * and `maxBatch`) are the only ones to evaluate, whatever `maxBatch` is.
 *
 * @example
 * cheapestRouteThreshold(local, remote, 1024, { memoryMb: 1769, architecture: 'arm64', taskUsdPerHour: 1.006, latencyBudgetMs: 200 })
 */
export function cheapestRouteThreshold(local: LinearCost, remote: LinearCost, maxBatch: number, settings: RouteCostSettings): number {
  if (settings.latencyBudgetMs === undefined) return crossoverRows(local, remote);
  const budget = settings.latencyBudgetMs;
  const l = line(local);
  const r = line(remote);
  const lambda = lambdaUsdPerSecond(settings.memoryMb, settings.architecture);
  const both = lambda + settings.taskUsdPerHour / 3600;
  const crossings = [
    rootOf(l.fixed - budget, l.perRow),
    rootOf(r.fixed - budget, r.perRow),
    rootOf(both * r.fixed - lambda * l.fixed, both * r.perRow - lambda * l.perRow),
    rootOf(r.fixed - l.fixed, r.perRow - l.perRow),
  ];
  const candidates = new Set<number>([1, maxBatch]);
  for (const x of crossings) {
    if (!Number.isFinite(x)) continue;
    // The root's neighbours, one more each side: a root computed in floating point can be off by one.
    for (const n of [Math.floor(x) - 1, Math.floor(x), Math.floor(x) + 1, Math.floor(x) + 2]) {
      if (n >= 1 && n <= maxBatch) candidates.add(n);
    }
  }
  const sorted = [...candidates].sort((a, b) => a - b);
  const routeAt = (rows: number) => chooseRoute(localRequest(local, rows, settings), remoteRequest(remote, rows, settings), budget);
  if (routeAt(maxBatch) === 'local') return Infinity;
  // From the top down: the first local batch size is the threshold. Between two candidates the
  // choice is that of the lower one's successor (no line crosses in between).
  for (let i = sorted.length - 1; i >= 0; i--) {
    const n = sorted[i]!;
    if (routeAt(n) === 'local') return n;
    const below = sorted[i - 1];
    if (below !== undefined && n - below > 1 && routeAt(below + 1) === 'local') return n - 1;
  }
  return 0;
}

/** A row of the model's cost table: one batch size, both routes' times and USD per million rows on each architecture. */
export interface RouteCostRow {
  readonly batch_size: number;
  readonly local_ms: number;
  readonly remote_ms?: number;
  readonly usd_per_million_rows: {
    readonly local: Readonly<Record<LambdaArchitecture, number>>;
    readonly remote?: Readonly<Record<LambdaArchitecture, number>>;
  };
  /** What chooseRoute picks at this size, with this instance's architecture. */
  readonly cheapest_within_budget?: RouteName;
}

/** What model metadata `parameters.route_cost` says (lib/http/oip-router.ts). */
export interface RouteCostReport {
  readonly memory_mb: number;
  readonly architecture: LambdaArchitecture;
  readonly latency_budget_ms?: number;
  readonly task_usd_per_hour: number;
  readonly task_price_source: string;
  readonly lambda_price_source: string;
  readonly batches: readonly RouteCostRow[];
}

/**
 * The cost table of one model from its measured lines: for each batch size up to `maxBatch`,
 * each route's time and USD per million rows on arm64 and x86_64 at the configured memory.
 * Without a remote line (a manifest threshold, or not measured yet) only the local route.
 */
export function routeCostReport(local: LinearCost, remote: LinearCost | undefined, maxBatch: number, settings: RouteCostSettings): RouteCostReport {
  const sizes = [...new Set([...TABLE_BATCH_SIZES.filter((n) => n < maxBatch), maxBatch])];
  const perArchitecture = (estimate: (architecture: LambdaArchitecture) => RouteEstimate, rows: number) => ({
    arm64: roundUsd(usdPerMillionRows(estimate('arm64').usd, rows)),
    x86_64: roundUsd(usdPerMillionRows(estimate('x86_64').usd, rows)),
  });
  const batches = sizes.map((rows): RouteCostRow => {
    const here = localRequest(local, rows, settings);
    const there = remote && remoteRequest(remote, rows, settings);
    return {
      batch_size: rows,
      local_ms: roundMs(here.ms),
      ...(there ? { remote_ms: roundMs(there.ms) } : {}),
      usd_per_million_rows: {
        local: perArchitecture((architecture) => localRequest(local, rows, settings, architecture), rows),
        ...(remote ? { remote: perArchitecture((architecture) => remoteRequest(remote, rows, settings, architecture), rows) } : {}),
      },
      ...(there ? { cheapest_within_budget: chooseRoute(here, there, settings.latencyBudgetMs) } : {}),
    };
  });
  return {
    memory_mb: settings.memoryMb,
    architecture: settings.architecture,
    ...(settings.latencyBudgetMs !== undefined ? { latency_budget_ms: settings.latencyBudgetMs } : {}),
    task_usd_per_hour: settings.taskUsdPerHour,
    task_price_source: settings.taskUsdPerHour === DEFAULT_TASK_PRICE.usdPerHour ? DEFAULT_TASK_PRICE.source : 'HOTPATH_REMOTE_TASK_USD_PER_HOUR',
    lambda_price_source: LAMBDA_PRICES.source,
    batches,
  };
}

function line(cost: LinearCost): { fixed: number; perRow: number } {
  return { fixed: cost.fixedMs, perRow: cost.perElementMs * cost.elementsPerRow };
}

/** Where `constant + slope·n` is 0 (NaN when it never is, or always is). */
function rootOf(constant: number, slope: number): number {
  return slope === 0 ? NaN : -constant / slope;
}

/** Four significant digits: prices of 1e-4 and of 1e3 USD per million rows both stay readable. */
function roundUsd(usd: number): number {
  return Number(usd.toPrecision(4));
}

function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
