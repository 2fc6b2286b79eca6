import { loadServingConfig } from '../../../lib/config/serving-config';
import { ConfigError } from '../../../lib/errors/hotpath-error';
import { DEFAULT_TASK_PRICE } from '../../../lib/serving/route-cost';

describe('route cost configuration (routeCost)', () => {
  it('defaults to serverless.yml memory, this machine\'s architecture, the default task price and no latency budget', () => {
    expect(loadServingConfig({}).routeCost).toEqual({
      memoryMb: 1769, architecture: process.arch === 'arm64' ? 'arm64' : 'x86_64', taskUsdPerHour: DEFAULT_TASK_PRICE.usdPerHour, latencyBudgetMs: undefined,
    });
  });

  it('reads the function memory Lambda sets, and with a remote URL the task price and the latency budget', () => {
    const env = { AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '3008', HOTPATH_REMOTE_TASK_USD_PER_HOUR: '0.526', HOTPATH_REMOTE_LATENCY_BUDGET_MS: '250' };
    expect(loadServingConfig({ ...env, HOTPATH_REMOTE_URL: 'http://gpu-task:8000' }).routeCost).toMatchObject({ memoryMb: 3008, taskUsdPerHour: 0.526, latencyBudgetMs: 250 });
    expect(loadServingConfig(env).routeCost).toMatchObject({ memoryMb: 3008, taskUsdPerHour: DEFAULT_TASK_PRICE.usdPerHour, latencyBudgetMs: undefined });
    expect(loadServingConfig({ HOTPATH_REMOTE_TASK_USD_PER_HOUR: 'not read without a URL' }).routeCost.taskUsdPerHour).toBe(DEFAULT_TASK_PRICE.usdPerHour);
  });

  it.each([
    [{ HOTPATH_REMOTE_TASK_USD_PER_HOUR: '-1' }, /HOTPATH_REMOTE_TASK_USD_PER_HOUR: '-1' is not a number between 0 and 10000/],
    [{ HOTPATH_REMOTE_TASK_USD_PER_HOUR: 'one dollar' }, /HOTPATH_REMOTE_TASK_USD_PER_HOUR/],
    [{ HOTPATH_REMOTE_LATENCY_BUDGET_MS: '0' }, /HOTPATH_REMOTE_LATENCY_BUDGET_MS: '0' is not an integer between 1 and 900000/],
    [{ HOTPATH_REMOTE_LATENCY_BUDGET_MS: '1.5' }, /HOTPATH_REMOTE_LATENCY_BUDGET_MS/],
  ])('fails the start naming the variable for %j', (variables, message) => {
    const env = { HOTPATH_REMOTE_URL: 'http://gpu-task:8000', ...variables };
    expect(() => loadServingConfig(env)).toThrow(ConfigError);
    expect(() => loadServingConfig(env)).toThrow(message);
  });
});

describe('route cost configuration: the platform\'s memory variable', () => {
  it('prices an emulator\'s out-of-range memory size as Lambda\'s largest and ignores a non-number, instead of failing the start', () => {
    const remote = { HOTPATH_REMOTE_URL: 'http://gpu-task:8000' };
    expect(loadServingConfig({ ...remote, AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '20000' }).routeCost.memoryMb).toBe(10_240);
    expect(loadServingConfig({ ...remote, AWS_LAMBDA_FUNCTION_MEMORY_SIZE: 'abc' }).routeCost.memoryMb).toBe(1769);
  });
});
