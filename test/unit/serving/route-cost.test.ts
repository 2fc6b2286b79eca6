import fc from 'fast-check';
import type { RouteCostSettings } from '../../../lib/config/serving-config';
import { crossoverRows, type LinearCost } from '../../../lib/serving/route-calibration';
import {
  cheapestRouteThreshold, chooseRoute, DEFAULT_TASK_PRICE, LAMBDA_PRICES, lambdaUsdPerSecond, localRequest, remoteRequest, routeCostReport, usdPerMillionRows,
} from '../../../lib/serving/route-cost';

/** A line of `fixedMs + perRowMs·rows`, measured on rows of `width` elements. */
const line = (fixedMs: number, perRowMs: number, width = 4): LinearCost => ({ fixedMs, perElementMs: perRowMs / width, elementsPerRow: width });

const settings = (overrides: Partial<RouteCostSettings> = {}): RouteCostSettings => ({
  memoryMb: 1024, architecture: 'arm64', taskUsdPerHour: DEFAULT_TASK_PRICE.usdPerHour, latencyBudgetMs: undefined, ...overrides,
});

describe('Lambda and task prices', () => {
  it('prices a second of Lambda by GB of memory and architecture, arm64 below x86_64', () => {
    expect(lambdaUsdPerSecond(1024, 'arm64')).toBeCloseTo(0.0000133334, 12);
    expect(lambdaUsdPerSecond(1024, 'x86_64')).toBeCloseTo(0.0000166667, 12);
    expect(lambdaUsdPerSecond(1769, 'arm64')).toBeCloseTo((1769 / 1024) * 0.0000133334, 12);
    expect(LAMBDA_PRICES.usdPerRequest * 1_000_000).toBeCloseTo(0.2, 12);
  });

  it('names where each default price comes from and when', () => {
    expect(LAMBDA_PRICES.source).toMatch(/aws\.amazon\.com\/lambda\/pricing.*2026-11-26/);
    expect(DEFAULT_TASK_PRICE).toMatchObject({ usdPerHour: 1.006 });
    expect(DEFAULT_TASK_PRICE.source).toMatch(/g5\.xlarge on-demand.*June 2026.*configurable default/);
  });
});

describe('localRequest / remoteRequest', () => {
  it('costs a local request its request price plus the GB-seconds of the local run', () => {
    // 1 ms + 0.5 ms/row at 10 rows = 6 ms on 1 GB arm64.
    const estimate = localRequest(line(1, 0.5), 10, settings());
    expect(estimate.ms).toBeCloseTo(6, 12);
    expect(estimate.usd).toBeCloseTo(0.2e-6 + 0.0000133334 * 0.006, 15);
  });

  it('costs a remote request the function waiting for it and the task for the round trip at its hourly price', () => {
    // 3.6 USD an hour is 0.001 USD a second: 10 ms of task is 1e-5 USD.
    const estimate = remoteRequest(line(4, 0.6), 10, settings({ taskUsdPerHour: 3.6 }));
    expect(estimate.ms).toBeCloseTo(10, 12);
    expect(estimate.usd).toBeCloseTo(0.2e-6 + 0.0000133334 * 0.01 + 0.001 * 0.01, 15);
  });

  it('prices the architecture it is asked for, else the configured one', () => {
    const cost = settings({ architecture: 'x86_64' });
    expect(localRequest(line(1, 1), 1, cost).usd).toBe(localRequest(line(1, 1), 1, cost, 'x86_64').usd);
    expect(localRequest(line(1, 1), 1, cost, 'arm64').usd).toBeLessThan(localRequest(line(1, 1), 1, cost).usd);
  });

  it('spreads a request over its rows', () => {
    expect(usdPerMillionRows(2e-6, 4)).toBeCloseTo(0.5, 12);
  });
});

describe('chooseRoute', () => {
  const fast = { ms: 5, usd: 3 };
  const slowCheap = { ms: 50, usd: 1 };

  it('takes the cheaper route when both meet the budget', () => {
    expect(chooseRoute(slowCheap, fast, 100)).toBe('local');
    expect(chooseRoute(fast, slowCheap, 100)).toBe('remote');
  });

  it('takes the one route that meets the budget, however dear', () => {
    expect(chooseRoute(slowCheap, fast, 10)).toBe('remote');
    expect(chooseRoute(fast, slowCheap, 10)).toBe('local');
  });

  it('takes the faster route when neither meets the budget, or there is none', () => {
    expect(chooseRoute(slowCheap, fast, 1)).toBe('remote');
    expect(chooseRoute(slowCheap, fast, undefined)).toBe('remote');
    expect(chooseRoute(fast, slowCheap, undefined)).toBe('local');
  });

  it('keeps a tie local', () => {
    expect(chooseRoute(fast, fast, 100)).toBe('local');
    expect(chooseRoute(fast, fast, undefined)).toBe('local');
  });
});

/** The threshold by evaluating every batch size: the largest local one when the largest batch goes remote. */
function thresholdByScan(local: LinearCost, remote: LinearCost, maxBatch: number, cost: RouteCostSettings): number {
  const routeAt = (rows: number) => chooseRoute(localRequest(local, rows, cost), remoteRequest(remote, rows, cost), cost.latencyBudgetMs);
  if (routeAt(maxBatch) === 'local') return Infinity;
  for (let rows = maxBatch - 1; rows >= 1; rows--) if (routeAt(rows) === 'local') return rows;
  return 0;
}

describe('cheapestRouteThreshold', () => {
  it('is the latency crossover without a budget', () => {
    const local = line(1, 1);
    const remote = line(10, 0.1);
    expect(cheapestRouteThreshold(local, remote, 1024, settings())).toBe(crossoverRows(local, remote));
    expect(cheapestRouteThreshold(local, remote, 1024, settings())).toBe(10);
  });

  it('keeps everything local when the local route meets the budget at every batch size and the remote costs more per row', () => {
    // Remote is 10x faster per row, but a second of the task (1.006 USD/h) costs ~21x a second of a 1 GB arm64 function.
    expect(cheapestRouteThreshold(line(1, 0.1), line(5, 0.01), 1024, settings({ latencyBudgetMs: 1_000 }))).toBe(Infinity);
  });

  it('sends remote the batches whose local time would miss the budget', () => {
    // Local 1 + 0.1·n misses 50 ms above n = 490; the remote meets it at every size up to 1024.
    expect(cheapestRouteThreshold(line(1, 0.1), line(5, 0.01), 1024, settings({ latencyBudgetMs: 50 }))).toBe(490);
  });

  it('sends remote the batches it serves cheaper when both meet the budget', () => {
    // A free task: remote costs the function's wait only, cheaper per row from 20/0.09 ≈ 222 rows (the latency crossover too).
    const cost = settings({ taskUsdPerHour: 0, latencyBudgetMs: 10_000 });
    expect(cheapestRouteThreshold(line(1, 0.1), line(21, 0.01), 1024, cost)).toBe(222);
  });

  it('follows the last switch when the choice goes remote, local, remote', () => {
    // Budget 100.05 ms; the task costs what the function does per second. Remote (1 + 0.11·n) is
    // cheaper below 150 rows, local (20 + 0.1·n) from there while it meets the budget (800 rows);
    // then only the remote does (to 900), then neither and the faster (remote) serves.
    const cost = settings({ taskUsdPerHour: 0.0000133334 * 3600, latencyBudgetMs: 100.05 });
    const local = line(20, 0.1, 1);
    const remote = line(1, 0.11, 1);
    const routeAt = (rows: number) => chooseRoute(localRequest(local, rows, cost), remoteRequest(remote, rows, cost), cost.latencyBudgetMs);
    expect([100, 200, 800, 801, 901, 1024].map(routeAt)).toEqual(['remote', 'local', 'local', 'remote', 'remote', 'remote']);
    expect(cheapestRouteThreshold(local, remote, 1024, cost)).toBe(800);
    expect(thresholdByScan(local, remote, 1024, cost)).toBe(800);
  });

  it('is 0 when the remote is chosen from one row, and never past the max batch', () => {
    expect(cheapestRouteThreshold(line(100, 1), line(1, 0.1), 64, settings({ latencyBudgetMs: 50 }))).toBe(0);
    expect(cheapestRouteThreshold(line(1, 0.1), line(5, 0.01), 256, settings({ latencyBudgetMs: 50 }))).toBe(Infinity);
  });

  it('agrees with evaluating every batch size, for any two lines, budget and price', () => {
    const positive = (max: number) => fc.double({ min: 0, max, noNaN: true, noDefaultInfinity: true });
    fc.assert(
      fc.property(
        positive(50), positive(2), positive(50), positive(2), fc.integer({ min: 1, max: 400 }), fc.integer({ min: 2, max: 1500 }), positive(20), fc.constantFrom<'arm64' | 'x86_64'>('arm64', 'x86_64'),
        (fl, sl, fr, sr, budget, maxBatch, taskUsdPerHour, architecture) => {
          const cost = settings({ latencyBudgetMs: budget, taskUsdPerHour, architecture });
          const local = line(fl, sl);
          const remote = line(fr, sr, 8);
          expect(cheapestRouteThreshold(local, remote, maxBatch, cost)).toBe(thresholdByScan(local, remote, maxBatch, cost));
        },
      ),
      { numRuns: 300 },
    );
  });
});

/** The report rounds USD to 4 significant digits. */
function expectWithin4Digits(reported: number, exact: number): void {
  expect(Math.abs(reported / exact - 1)).toBeLessThan(5e-4);
}

describe('routeCostReport', () => {
  it('prices both routes on both architectures at the table batch sizes up to the max batch', () => {
    // Prepare
    const cost = settings({ memoryMb: 1769, latencyBudgetMs: 20 });
    const local = line(0.5, 0.05);
    const remote = line(3, 0.002);

    // Act
    const report = routeCostReport(local, remote, 256, cost);

    // Assess
    expect(report.batches.map((b) => b.batch_size)).toEqual([1, 8, 64, 256]);
    const at64 = report.batches[2]!;
    expect(at64.local_ms).toBeCloseTo(3.7, 9);
    expect(at64.remote_ms).toBeCloseTo(3.128, 9);
    expectWithin4Digits(at64.usd_per_million_rows.local.arm64, usdPerMillionRows(localRequest(local, 64, cost, 'arm64').usd, 64));
    expectWithin4Digits(at64.usd_per_million_rows.remote!.x86_64, usdPerMillionRows(remoteRequest(remote, 64, cost, 'x86_64').usd, 64));
    for (const row of report.batches) {
      expect(row.usd_per_million_rows.local.x86_64).toBeGreaterThan(row.usd_per_million_rows.local.arm64);
      expect(row.cheapest_within_budget).toBe(chooseRoute(localRequest(local, row.batch_size, cost), remoteRequest(remote, row.batch_size, cost), 20));
    }
    // 256 rows locally take 13.3 ms (within 20) and cost less: local; the report says so.
    expect(report.batches[3]!.cheapest_within_budget).toBe('local');
    expect(report).toMatchObject({
      memory_mb: 1769, architecture: 'arm64', latency_budget_ms: 20, task_usd_per_hour: 1.006,
      task_price_source: DEFAULT_TASK_PRICE.source, lambda_price_source: LAMBDA_PRICES.source,
    });
  });

  it('shows the local route alone when the remote was not measured, and a configured task price as configured', () => {
    const report = routeCostReport(line(1, 1), undefined, 1000, settings({ taskUsdPerHour: 0.526 }));

    expect(report.batches.map((b) => b.batch_size)).toEqual([1, 8, 64, 256, 1000]);
    for (const row of report.batches) {
      expect(row).not.toHaveProperty('remote_ms');
      expect(row.usd_per_million_rows).not.toHaveProperty('remote');
      expect(row).not.toHaveProperty('cheapest_within_budget');
    }
    expect(report).not.toHaveProperty('latency_budget_ms');
    expect(report.task_price_source).toBe('HOTPATH_REMOTE_TASK_USD_PER_HOUR');
  });

  it('is plain JSON (no Infinity or NaN) for model metadata', () => {
    const report = routeCostReport(line(0, 0), line(0, 0), 2, settings());
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });
});
