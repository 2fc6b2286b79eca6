import type { RouteCostSettings } from '../../../../lib/config/serving-config';
import { LAMBDA_PRICES } from '../../../../lib/serving/route-cost';
import { costRows, loadedTaskCost } from '../../../../bench/gpu-task/route-cost-table';

const settings: RouteCostSettings = { memoryMb: 1024, architecture: 'arm64', taskUsdPerHour: 3.6, latencyBudgetMs: undefined };

describe('costRows', () => {
  it('prices each measured time with Lambda\'s formula, and the remote one with the task\'s hour on top', () => {
    // 1 GB for 100 ms local; the remote waits 10 ms and the task costs USD 0.001 a second.
    const [row] = costRows([{ rows: 10, localMs: 100, remoteMs: 10 }], settings);
    const perRequest = LAMBDA_PRICES.usdPerRequest;
    const gbSecond = LAMBDA_PRICES.usdPerGbSecond;
    expect(row!.local.arm64).toBeCloseTo(((perRequest + gbSecond.arm64 * 0.1) / 10) * 1e6, 3);
    expect(row!.local.x86_64).toBeCloseTo(((perRequest + gbSecond.x86_64 * 0.1) / 10) * 1e6, 3);
    expect(row!.remote.arm64).toBeCloseTo(((perRequest + (gbSecond.arm64 + 0.001) * 0.01) / 10) * 1e6, 2);
    expect(row!.cheapestWithinBudget).toBe('remote');
    // Faster remote, but the task's second costs more than the 90 ms of function time it saves.
    expect(row!.cheaper).toBe('local');
  });

  it('chooses the cheaper route when both meet the latency budget', () => {
    const [row] = costRows([{ rows: 10, localMs: 100, remoteMs: 10 }], { ...settings, latencyBudgetMs: 200 });
    expect(row!.remote.arm64).toBeGreaterThan(row!.local.arm64);
    expect(row!.cheapestWithinBudget).toBe('local');
  });
});

describe('loadedTaskCost', () => {
  it('spreads the task\'s hour over the rows it answered per second, plus each request\'s Lambda side', () => {
    const cost = loadedTaskCost(1000, 1, 20, settings);
    // USD 3.6/h = 0.001/s over 1000 rows/s: USD 1 per million rows.
    expect(cost.taskUsdPerMillionRows).toBeCloseTo(1, 6);
    expect(cost.remote.arm64).toBeCloseTo(1 + (LAMBDA_PRICES.usdPerRequest + LAMBDA_PRICES.usdPerGbSecond.arm64 * 0.02) * 1e6, 2);
    expect(cost.remote.x86_64).toBeGreaterThan(cost.remote.arm64);
  });
});
