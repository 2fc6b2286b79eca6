import type { LambdaArchitecture, RouteCostSettings } from '../../lib/config/serving-config';
import type { LinearCost } from '../../lib/serving/route-calibration';
import { chooseRoute, lambdaUsdPerSecond, LAMBDA_PRICES, localRequest, remoteRequest, usdPerMillionRows, type RouteName } from '../../lib/serving/route-cost';
import type { RoutePoint } from './route-crossover';

/** What the GPU task's figures are, on a machine without a GPU. */
export const TASK_ON_CPU_LABEL = 'task on CPU here; GPU throughput not measured';

/** USD per million rows of one route at one batch size, per Lambda architecture. */
export type UsdByArchitecture = Readonly<Record<LambdaArchitecture, number>>;

export interface CostRow {
  readonly rows: number;
  readonly local: UsdByArchitecture;
  readonly remote: UsdByArchitecture;
  /** What the router's rule (route-cost.ts chooseRoute) picks from these measured times, on this instance's architecture. */
  readonly cheapestWithinBudget: RouteName;
  /** The cheaper route whatever its latency, on this instance's architecture. */
  readonly cheaper: RouteName;
}

/** A measured time as route-cost.ts's line: the same time whatever the rows, so its formulas price exactly that measurement. */
function measured(ms: number): LinearCost {
  return { fixedMs: ms, perElementMs: 0, elementsPerRow: 1 };
}

/**
 * USD per million rows on each route and batch size at the measured times, with route-cost.ts's
 * formulas (the ones model metadata shows): local, the request price and the function's
 * GB-seconds for the local run; remote, the request price, the function's GB-seconds while it
 * waits and the task's hourly price for the round trip (one request at a time).
 */
export function costRows(points: readonly RoutePoint[], settings: RouteCostSettings): CostRow[] {
  return points.map((p) => {
    const byArchitecture = (price: (architecture: LambdaArchitecture) => number): UsdByArchitecture => ({ arm64: round4(price('arm64')), x86_64: round4(price('x86_64')) });
    const local = localRequest(measured(p.localMs), p.rows, settings);
    const remote = remoteRequest(measured(p.remoteMs), p.rows, settings);
    return {
      rows: p.rows,
      local: byArchitecture((a) => usdPerMillionRows(localRequest(measured(p.localMs), p.rows, settings, a).usd, p.rows)),
      remote: byArchitecture((a) => usdPerMillionRows(remoteRequest(measured(p.remoteMs), p.rows, settings, a).usd, p.rows)),
      cheapestWithinBudget: chooseRoute(local, remote, settings.latencyBudgetMs),
      cheaper: remote.usd < local.usd ? 'remote' : 'local',
    };
  });
}

/** The remote route for batch-1 requests when the task is kept busy: its hour spread over the rows it answered per second under load. */
export interface LoadedTaskCost {
  readonly rowsPerSecond: number;
  /** The task's share: USD an hour over rows an hour. */
  readonly taskUsdPerMillionRows: number;
  /** With each request's Lambda side: the request price and the function's GB-seconds while it waits `latencyMs`. */
  readonly remote: UsdByArchitecture;
}

export function loadedTaskCost(rowsPerSecond: number, rowsPerRequest: number, latencyMs: number, settings: RouteCostSettings): LoadedTaskCost {
  const taskUsdPerMillionRows = (settings.taskUsdPerHour / 3600 / rowsPerSecond) * 1_000_000;
  const lambdaSide = (a: LambdaArchitecture) => usdPerMillionRows(LAMBDA_PRICES.usdPerRequest + (lambdaUsdPerSecond(settings.memoryMb, a) * latencyMs) / 1000, rowsPerRequest);
  return {
    rowsPerSecond,
    taskUsdPerMillionRows: round4(taskUsdPerMillionRows),
    remote: { arm64: round4(taskUsdPerMillionRows + lambdaSide('arm64')), x86_64: round4(taskUsdPerMillionRows + lambdaSide('x86_64')) },
  };
}

/** Four significant digits, as model metadata rounds. */
function round4(usd: number): number {
  return Number(usd.toPrecision(4));
}
