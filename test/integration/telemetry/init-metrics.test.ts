import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApiHandler } from '../../../functions/http/api-handler-factory';
import { loadServingConfig, type ServingConfig } from '../../../lib/config/serving-config';
import { createServingRuntime } from '../../../lib/serving/serving-runtime';
import { createTelemetry } from '../../../lib/telemetry/lambda-telemetry';

const repoRoot = join(__dirname, '../../..');
const event = JSON.parse(readFileSync(join(repoRoot, 'events/http/infer-json.json'), 'utf8')) as APIGatewayProxyEventV2;
const context = { awsRequestId: 'init-metrics', functionName: 'hotpath-api', getRemainingTimeInMillis: () => 29_000 } as unknown as Context;

interface EmfRecord { _aws: { CloudWatchMetrics: Array<{ Metrics: Array<{ Name: string }> }> }; [key: string]: unknown }

/**
 * Builds the real handler (real runtime, iris-classifier on wasm) under the given
 * AWS_LAMBDA_INITIALIZATION_TYPE, invokes it `invocations` times and returns the EMF records
 * each invocation printed. Powertools reads the initialization type when Metrics is created,
 * so telemetry is created after the variable is set, as on Lambda.
 */
async function invokeAndCaptureEmf(initializationType: string, invocations: number, overrides: Partial<ServingConfig> = {}) {
  process.env.AWS_LAMBDA_INITIALIZATION_TYPE = initializationType;
  const telemetry = createTelemetry();
  const runtime = await createServingRuntime(loadServingConfig(process.env, { wasmThreads: 1, models: ['iris-classifier'], ...overrides }), telemetry.logger);
  const handler = createApiHandler(runtime, telemetry);
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  const perInvocation: EmfRecord[][] = [];
  try {
    for (let i = 0; i < invocations; i++) {
      log.mockClear();
      const result = await handler(event, context);
      expect((result as { statusCode: number }).statusCode).toBe(200);
      perInvocation.push(log.mock.calls.map((call) => String(call[0])).filter((line) => line.includes('"_aws"')).map((line) => JSON.parse(line) as EmfRecord));
    }
  } finally {
    log.mockRestore();
    await runtime.registry.dispose();
  }
  return { runtime, perInvocation };
}

function valuesOf(records: readonly EmfRecord[], metric: string): Array<{ value: unknown; record: EmfRecord }> {
  return records
    .filter((r) => r._aws.CloudWatchMetrics.some((d) => d.Metrics.some((m) => m.Name === metric)))
    .map((record) => ({ value: record[metric], record }));
}

describe('api handler init metrics', () => {
  const saved = { ...process.env };
  beforeEach(() => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    process.env.POWERTOOLS_METRICS_NAMESPACE = 'hotpath';
  });
  afterEach(() => {
    process.env = { ...saved };
  });

  it('emits ColdStart, InitDuration and ModelLoad once, on the first invocation, when the instance started on demand', async () => {
    const { runtime, perInvocation } = await invokeAndCaptureEmf('on-demand', 3);

    const [first, ...later] = perInvocation;
    expect(valuesOf(first!, 'ColdStart').map((m) => m.value)).toEqual([1]);
    expect(valuesOf(first!, 'InitDuration').map((m) => m.value)).toEqual([runtime.initMs]);
    const loads = valuesOf(first!, 'ModelLoad');
    expect(loads.map((m) => m.record.model)).toEqual(['iris-classifier']);
    expect(loads[0]!.record.route).toBe('local-kernel');
    expect(loads[0]!.value).toBeGreaterThan(0);
    for (const records of later) {
      for (const metric of ['ColdStart', 'InitDuration', 'ModelLoad']) expect(valuesOf(records, metric)).toEqual([]);
    }
  });

  it('emits InitDuration and ModelLoad once but no ColdStart when the instance was initialised for provisioned concurrency', async () => {
    const { perInvocation } = await invokeAndCaptureEmf('provisioned-concurrency', 2);

    const all = perInvocation.flat();
    expect(valuesOf(all, 'ColdStart')).toEqual([]);
    expect(valuesOf(perInvocation[0]!, 'InitDuration')).toHaveLength(1);
    expect(valuesOf(perInvocation[0]!, 'ModelLoad')).toHaveLength(1);
    expect(valuesOf(perInvocation[1]!, 'InitDuration')).toEqual([]);
    expect(valuesOf(perInvocation[1]!, 'ModelLoad')).toEqual([]);
  });

  it('loads the models on the first request and reports their load time once when HOTPATH_INIT is lazy', async () => {
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
    const telemetry = createTelemetry();
    const runtime = await createServingRuntime(loadServingConfig(process.env, { wasmThreads: 1, models: ['iris-classifier'], initStrategy: 'lazy' }), telemetry.logger);
    expect(runtime.registry.find('iris-classifier').state.ready).toBe(false);

    const { perInvocation } = await invokeAndCaptureEmf('on-demand', 2, { initStrategy: 'lazy' });

    expect(valuesOf(perInvocation[0]!, 'ColdStart').map((m) => m.value)).toEqual([1]);
    const loads = valuesOf(perInvocation[0]!, 'ModelLoad');
    expect(loads.map((m) => m.record.route)).toEqual(['local-kernel']);
    expect(loads[0]!.value).toBeGreaterThan(0);
    expect(valuesOf(perInvocation[1]!, 'ModelLoad')).toEqual([]);
  });
});
