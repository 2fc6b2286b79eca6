import { GetFunctionConfigurationCommand, InvokeCommand, LambdaClient, ResourceNotFoundException, TooManyRequestsException, UpdateFunctionConfigurationCommand, type FunctionConfiguration } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { NONCE_VARIABLE, runAwsColdBench, type AwsColdBenchOptions } from '../../../bench/cold/aws-cold-bench';
import { costPerMillion } from '../../../bench/cold/lambda-pricing';
import { parseEmfMetrics, parseReportLine } from '../../../bench/cold/lambda-report';

// Recorded from a Node.js 22 arm64 function (request ids shortened).
const COLD_REPORT = 'REPORT RequestId: 3f1c-cold\tDuration: 41.87 ms\tBilled Duration: 412 ms\tMemory Size: 1769 MB\tMax Memory Used: 168 MB\tInit Duration: 369.52 ms\t';
const WARM_REPORT = 'REPORT RequestId: 3f1c-warm\tDuration: 3.21 ms\tBilled Duration: 4 ms\tMemory Size: 1769 MB\tMax Memory Used: 169 MB\t';
const EMF_INIT = '{"_aws":{"Timestamp":1795671608000,"CloudWatchMetrics":[{"Namespace":"hotpath","Dimensions":[["service"]],"Metrics":[{"Name":"InitDuration","Unit":"Milliseconds"}]}]},"service":"hotpath","InitDuration":301.5}';
const EMF_LOAD = '{"_aws":{"Timestamp":1795671608000,"CloudWatchMetrics":[{"Namespace":"hotpath","Dimensions":[["service","model","route"]],"Metrics":[{"Name":"ModelLoad","Unit":"Milliseconds"}]}]},"service":"hotpath","model":"iris-classifier","route":"local-wasm","ModelLoad":250.25}';

function tail(...lines: string[]): string {
  return Buffer.from([`START RequestId: x Version: $LATEST`, ...lines, ''].join('\n')).toString('base64');
}

const lambda = mockClient(LambdaClient);
const ORIGINAL: FunctionConfiguration = { FunctionName: 'hotpath-dev-api', MemorySize: 1769, Architectures: ['arm64'], Environment: { Variables: { HOTPATH_MODELS: 'default' } }, LastUpdateStatus: 'Successful' };

function options(overrides: Partial<AwsColdBenchOptions> = {}): AwsColdBenchOptions {
  return {
    functionName: 'hotpath-dev-api', memorySizes: [512, 1769], runs: 2, event: { rawPath: '/v2' },
    client: new LambdaClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }),
    report: jest.fn(), log: () => undefined, waiterDelayS: 1, ...overrides,
  };
}

describe('parseReportLine', () => {
  it('reads every figure when the invocation was a cold start', () => {
    expect(parseReportLine(`START\n${COLD_REPORT}\n`)).toEqual({ requestId: '3f1c-cold', durationMs: 41.87, billedDurationMs: 412, memorySizeMb: 1769, maxMemoryUsedMb: 168, initDurationMs: 369.52 });
  });

  it('has no initDurationMs when the instance was warm', () => {
    expect(parseReportLine(WARM_REPORT)?.initDurationMs).toBeUndefined();
    expect(parseReportLine(WARM_REPORT)?.durationMs).toBe(3.21);
  });

  it('returns undefined when the tail was cut before the REPORT line', () => {
    expect(parseReportLine('END RequestId: x\n')).toBeUndefined();
  });
});

describe('parseEmfMetrics', () => {
  it('reads metric values and dimensions when lines carry the runtime prefix or none', () => {
    const metrics = parseEmfMetrics(`2026-11-26T05:40:08.000Z\t3f1c\tINFO\t${EMF_INIT}\n${EMF_LOAD}\nnot json {\n`);
    expect(metrics).toEqual([
      { name: 'InitDuration', value: 301.5, dimensions: { service: 'hotpath' } },
      { name: 'ModelLoad', value: 250.25, dimensions: { service: 'hotpath', model: 'iris-classifier', route: 'local-wasm' } },
    ]);
  });
});

describe('costPerMillion', () => {
  it('applies the GB-second and request prices when given billed ms and memory', () => {
    expect(costPerMillion(4, 1769, 'arm64')).toBeCloseTo(1e6 * 0.004 * (1769 / 1024) * 0.0000133334 + 0.2, 6);
    expect(costPerMillion(4, 1769, 'x86_64')).toBeGreaterThan(costPerMillion(4, 1769, 'arm64'));
  });
});

describe('runAwsColdBench', () => {
  beforeEach(() => {
    lambda.reset();
    lambda.on(GetFunctionConfigurationCommand).resolves(ORIGINAL);
    lambda.on(UpdateFunctionConfigurationCommand).resolves({});
    let call = 0;
    lambda.on(InvokeCommand).callsFake(() => ({ StatusCode: 200, Payload: Buffer.from('{"statusCode":200}'), LogResult: (call++ % 2 === 0) ? tail(EMF_INIT, EMF_LOAD, COLD_REPORT) : tail(WARM_REPORT) }));
  });

  it('forces a new instance per sample and reports phases, memory and cost when every invoke succeeds', async () => {
    const report = jest.fn();

    const rows = await runAwsColdBench(options({ report }));

    const updates = lambda.commandCalls(UpdateFunctionConfigurationCommand).map((c) => c.args[0].input);
    expect(updates).toHaveLength(5);
    const nonces = updates.slice(0, 4).map((u) => u.Environment?.Variables?.[NONCE_VARIABLE]);
    expect(new Set(nonces).size).toBe(4);
    expect(updates.slice(0, 4).map((u) => u.MemorySize)).toEqual([512, 512, 1769, 1769]);
    expect(updates[0]!.Environment?.Variables?.HOTPATH_MODELS).toBe('default');
    expect(lambda.commandCalls(InvokeCommand).every((c) => c.args[0].input.LogType === 'Tail')).toBe(true);
    expect(rows.map((r) => r.id)).toEqual(['512 MB arm64', '1769 MB arm64']);
    expect(rows[1]!.medianMs).toBeCloseTo(369.52 + 41.87, 6);
    expect(rows[1]!.peakRssMb).toBe(168);
    expect(rows[1]!.phaseMedians).toEqual({ 'runtime + import': 369.52 - 301.5, 'runtime init': 301.5 - 250.25, 'model load': 250.25, 'first invoke': 41.87 });
    expect(rows[1]!.extra?.['$/1M warm']).toBeCloseTo(costPerMillion(4, 1769, 'arm64'), 9);
    expect(rows[1]!.extra?.['billed cold ms']).toBe(412);
    expect(report).toHaveBeenCalledTimes(1);
  });

  it('restores the memory size and environment it found when the benchmark ends', async () => {
    await runAwsColdBench(options());

    const last = lambda.commandCalls(UpdateFunctionConfigurationCommand).at(-1)!.args[0].input;
    expect(last).toEqual({ FunctionName: 'hotpath-dev-api', MemorySize: 1769, Environment: { Variables: { HOTPATH_MODELS: 'default' } } });
  });

  it('says the function was not found and changes nothing when it does not exist', async () => {
    lambda.on(GetFunctionConfigurationCommand).rejects(new ResourceNotFoundException({ message: 'Function not found: arn:aws:lambda:eu-west-1:1:function:nope', $metadata: {} }));

    await expect(runAwsColdBench(options({ functionName: 'nope' }))).rejects.toThrow(/function 'nope' was not found: check --function .* and the region/);
    expect(lambda.commandCalls(UpdateFunctionConfigurationCommand)).toHaveLength(0);
  });

  it('names the missing permissions when access is denied', async () => {
    const denied = Object.assign(new Error('User is not authorized to perform: lambda:UpdateFunctionConfiguration'), { name: 'AccessDeniedException' });
    lambda.on(UpdateFunctionConfigurationCommand).rejectsOnce(denied).resolves({});

    await expect(runAwsColdBench(options())).rejects.toThrow(/needs lambda:GetFunctionConfiguration, lambda:UpdateFunctionConfiguration and lambda:InvokeFunction/);
    const last = lambda.commandCalls(UpdateFunctionConfigurationCommand).at(-1)!.args[0].input;
    expect(last.MemorySize).toBe(1769);
  });

  it('explains throttling and restores the configuration when Lambda throttles the invoke', async () => {
    lambda.on(InvokeCommand).rejects(new TooManyRequestsException({ message: 'Rate exceeded', $metadata: {}, Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' }));

    await expect(runAwsColdBench(options())).rejects.toThrow(/throttled the benchmark \(TooManyRequestsException\)/);
    const last = lambda.commandCalls(UpdateFunctionConfigurationCommand).at(-1)!.args[0].input;
    expect(last).toEqual({ FunctionName: 'hotpath-dev-api', MemorySize: 1769, Environment: { Variables: { HOTPATH_MODELS: 'default' } } });
  });

  it('restores the configuration and exits 130 when interrupted with SIGINT', async () => {
    const exit = jest.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    let interrupted = false;
    lambda.on(InvokeCommand).callsFake(async () => {
      if (!interrupted) {
        interrupted = true;
        process.emit('SIGINT');
      }
      return new Promise(() => undefined);
    });

    void runAwsColdBench(options());
    await new Promise((r) => setTimeout(r, 200));

    const last = lambda.commandCalls(UpdateFunctionConfigurationCommand).at(-1)!.args[0].input;
    expect(last).toEqual({ FunctionName: 'hotpath-dev-api', MemorySize: 1769, Environment: { Variables: { HOTPATH_MODELS: 'default' } } });
    expect(exit).toHaveBeenCalledWith(130);
    exit.mockRestore();
  });
});
