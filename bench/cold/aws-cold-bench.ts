import {
  GetFunctionConfigurationCommand, InvokeCommand, LambdaClient, UpdateFunctionConfigurationCommand, waitUntilFunctionUpdated,
  type FunctionConfiguration,
} from '@aws-sdk/client-lambda';
import type { BenchResult } from '../bench-results';
import { costPerMillion, LAMBDA_PRICES_US_EAST_1, type LambdaArchitecture } from './lambda-pricing';
import { parseEmfMetrics, parseReportLine, type EmfMetric, type LambdaReport } from './lambda-report';
import { summarize, type ColdSummary, type SampleOutcome } from './cold-stats';

/** The variable bumped on every sample: a changed configuration makes Lambda start a new instance. */
export const NONCE_VARIABLE = 'HOTPATH_COLD_BENCH_NONCE';
export const AWS_PHASES = ['runtime + import', 'runtime init', 'model load', 'first invoke'] as const;
const UPDATE_WAIT_S = 300;

export interface AwsColdBenchOptions {
  readonly functionName: string;
  readonly memorySizes: readonly number[];
  readonly runs: number;
  readonly region?: string;
  readonly endpoint?: string;
  /** Price as; default: the function's own architecture. */
  readonly architecture?: LambdaArchitecture;
  readonly event: unknown;
  /** Injected for tests; default a LambdaClient for region/endpoint. */
  readonly client?: LambdaClient;
  readonly report: (rows: ColdSummary[], phases: readonly string[], results: BenchResult[], subtitle: string) => void;
  readonly log?: (line: string) => void;
  /** Seconds between waiter polls (tests use small values). */
  readonly waiterDelayS?: number;
}

/** A message that says what to do, for the errors a user can act on; undefined for others. */
export function explainAwsError(error: unknown, functionName: string): string | undefined {
  const name = (error as { name?: string })?.name ?? '';
  const message = (error as { message?: string })?.message ?? String(error);
  if (name === 'ResourceNotFoundException') {
    return `function '${functionName}' was not found: check --function (the deployed name, e.g. hotpath-dev-api) and the region (--region or AWS_REGION). AWS said: ${message}`;
  }
  if (name === 'AccessDeniedException' || name === 'AccessDenied' || name === 'UnrecognizedClientException') {
    return `not allowed to benchmark '${functionName}': the caller needs lambda:GetFunctionConfiguration, lambda:UpdateFunctionConfiguration and lambda:InvokeFunction on it. AWS said: ${message}`;
  }
  if (name === 'TooManyRequestsException') {
    return `Lambda throttled the benchmark (TooManyRequestsException): the account's or the function's concurrency, or the API request rate, is exhausted; wait and retry, or raise the limit. AWS said: ${message}`;
  }
  return undefined;
}

export class AwsBenchError extends Error {}

/** Invokes once with LogType 'Tail' and parses the REPORT line and EMF metrics; the tail is base64 in LogResult. */
export async function invokeWithTail(client: LambdaClient, functionName: string, event: unknown): Promise<{ statusCode?: number; functionError?: string; payload: string; tail: string; report?: LambdaReport; metrics: EmfMetric[]; clientMs: number }> {
  const started = performance.now();
  const output = await client.send(new InvokeCommand({ FunctionName: functionName, LogType: 'Tail', Payload: Buffer.from(JSON.stringify(event)) }));
  const clientMs = performance.now() - started;
  const tail = output.LogResult ? Buffer.from(output.LogResult, 'base64').toString('utf8') : '';
  const payload = output.Payload ? Buffer.from(output.Payload).toString('utf8') : '';
  return { statusCode: output.StatusCode, functionError: output.FunctionError, payload, tail, report: parseReportLine(tail), metrics: parseEmfMetrics(tail), clientMs };
}

/** One cold sample's phases from REPORT and our EMF metrics (InitDuration, ModelLoad per model). */
export function awsPhases(report: LambdaReport, metrics: readonly EmfMetric[]): Record<string, number> {
  const ours = metrics.find((m) => m.name === 'InitDuration')?.value ?? 0;
  const modelLoad = metrics.filter((m) => m.name === 'ModelLoad').reduce((a, m) => a + m.value, 0);
  const lambdaInit = report.initDurationMs ?? 0;
  return {
    'runtime + import': Math.max(0, lambdaInit - ours),
    'runtime init': Math.max(0, ours - modelLoad),
    'model load': modelLoad,
    'first invoke': report.durationMs,
  };
}

/**
 * Per memory size and sample: set the memory and bump NONCE_VARIABLE (a new instance), wait
 * for LastUpdateStatus Successful, invoke cold then warm, parse REPORT + EMF. The function's
 * memory and environment are restored as found at the end, on error and on SIGINT.
 */
export async function runAwsColdBench(options: AwsColdBenchOptions): Promise<ColdSummary[]> {
  const log = options.log ?? ((line: string) => console.log(line));
  const client = options.client ?? new LambdaClient({ ...(options.region ? { region: options.region } : {}), ...(options.endpoint ? { endpoint: options.endpoint } : {}) });
  const { functionName } = options;
  const fail = (error: unknown): never => {
    throw new AwsBenchError(explainAwsError(error, functionName) ?? `bench:cold --aws on '${functionName}': ${(error as Error)?.message ?? String(error)}`, { cause: error });
  };
  for (const memory of options.memorySizes) {
    if (!Number.isInteger(memory) || memory < 128 || memory > 10240) throw new AwsBenchError(`--memory: ${memory} is not a Lambda memory size (an integer from 128 to 10240 MB)`);
  }
  const original: FunctionConfiguration = await client.send(new GetFunctionConfigurationCommand({ FunctionName: functionName })).catch(fail);
  const originalVariables = original.Environment?.Variables ?? {};
  const architecture = options.architecture ?? ((original.Architectures?.[0] as LambdaArchitecture | undefined) ?? 'x86_64');
  const waiter = { client, maxWaitTime: UPDATE_WAIT_S, minDelay: options.waiterDelayS ?? 1, maxDelay: Math.max(options.waiterDelayS ?? 5, 1) };

  let restored: Promise<void> | undefined;
  const restore = () => {
    restored ??= (async () => {
      log(`bench:cold: restoring '${functionName}' to ${original.MemorySize} MB and its original environment`);
      await waitUntilFunctionUpdated(waiter, { FunctionName: functionName }).catch(() => undefined);
      await client.send(new UpdateFunctionConfigurationCommand({ FunctionName: functionName, MemorySize: original.MemorySize, Environment: { Variables: originalVariables } }));
      await waitUntilFunctionUpdated(waiter, { FunctionName: functionName });
    })();
    return restored;
  };
  const onSigint = () => {
    log('bench:cold: interrupted');
    restore().then(() => process.exit(130), (error: unknown) => {
      console.error(`bench:cold: could not restore '${functionName}': ${(error as Error).message}`);
      process.exit(130);
    });
  };
  process.once('SIGINT', onSigint);

  const rows: ColdSummary[] = [];
  const results: BenchResult[] = [];
  try {
    for (const memory of options.memorySizes) {
      const outcomes: SampleOutcome[] = [];
      const billedCold: number[] = [];
      const warm: number[] = [];
      for (let run = 0; run < options.runs; run++) {
        await client.send(new UpdateFunctionConfigurationCommand({
          FunctionName: functionName,
          MemorySize: memory,
          Environment: { Variables: { ...originalVariables, [NONCE_VARIABLE]: `${Date.now()}-${memory}-${run}` } },
        })).catch(fail);
        const waited = await waitUntilFunctionUpdated(waiter, { FunctionName: functionName }).catch(fail);
        if (waited.state !== 'SUCCESS') throw new AwsBenchError(`'${functionName}' did not finish updating (${waited.state}): ${JSON.stringify(waited.reason ?? '')}`);
        const cold = await invokeWithTail(client, functionName, options.event).catch(fail);
        if (cold.functionError || !cold.report) {
          outcomes.push({ ok: false, reason: cold.functionError ? `function error ${cold.functionError}: ${cold.payload.slice(0, 300)}` : 'no REPORT line in the log tail', stderr: cold.tail });
          continue;
        }
        if (cold.report.initDurationMs === undefined) log(`  ${memory} MB run ${run + 1}: no Init Duration (the invoke reused an instance)`);
        const second = await invokeWithTail(client, functionName, options.event).catch(fail);
        outcomes.push({ ok: true, phases: awsPhases(cold.report, cold.metrics), totalMs: (cold.report.initDurationMs ?? 0) + cold.report.durationMs, peakRssMb: cold.report.maxMemoryUsedMb });
        billedCold.push(cold.report.billedDurationMs);
        if (second.report) warm.push(second.report.billedDurationMs);
        log(`  ${memory} MB run ${run + 1}/${options.runs}: init ${cold.report.initDurationMs ?? '-'} ms, first invoke ${cold.report.durationMs} ms, ${cold.report.maxMemoryUsedMb} MB`);
      }
      const med = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[xs.length >> 1]! : Number.NaN);
      const extra = {
        'billed cold ms': med(billedCold),
        'billed warm ms': med(warm),
        '$/1M cold': costPerMillion(med(billedCold), memory, architecture),
        '$/1M warm': costPerMillion(med(warm), memory, architecture),
      };
      const row = summarize(`${memory} MB ${architecture}`, outcomes, extra);
      rows.push(row);
      results.push({ case: row.id, metric: 'median_ms', value: row.medianMs, lower_is_better: true });
      results.push({ case: row.id, metric: 'p90_ms', value: row.p90Ms, lower_is_better: true });
      results.push({ case: row.id, metric: 'max_memory_used_mb', value: row.peakRssMb, lower_is_better: true });
      results.push({ case: row.id, metric: 'usd_per_million_warm', value: Number(extra['$/1M warm'].toFixed(4)), lower_is_better: true, note: LAMBDA_PRICES_US_EAST_1.source });
      results.push({ case: row.id, metric: 'usd_per_million_cold', value: Number(extra['$/1M cold'].toFixed(4)), lower_is_better: true, note: LAMBDA_PRICES_US_EAST_1.source });
    }
  } finally {
    try {
      await restore();
    } finally {
      process.removeListener('SIGINT', onSigint);
    }
  }
  options.report(rows, AWS_PHASES, results, `AWS '${functionName}', ${options.runs} new instances per memory size, ${architecture}`);
  return rows;
}
