import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { gpuBatchRunTaskInput } from '../../../lib/batch/shard-gpu-task';
import type { ShardJob } from '../../../lib/batch/shard-job';
import { shardExecutionName } from '../../../lib/batch/step-functions-start';

// asl-validator ships no types: its one export checks a definition against the ASL schema and rules.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const validateAsl = require('asl-validator') as (definition: unknown, options?: Record<string, unknown>) => { isValid: boolean; errors: unknown[] };

const repoRoot = resolve(__dirname, '../../..');
const stack = parse(readFileSync(join(repoRoot, 'serverless.yml'), 'utf8')) as Record<string, any>;
const batch = stack.custom.batchVariants.true;

/** serverless.yml's definition as the plugin hands it to Step Functions: params filled in, Fn::GetAtt replaced by the ARN it resolves to. */
function resolvedDefinition(): Record<string, any> {
  const fill = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(fill);
    if (value && typeof value === 'object') {
      const getAtt = (value as Record<string, unknown>)['Fn::GetAtt'] as [string, string] | undefined;
      if (getAtt) return `arn:aws:lambda:eu-west-1:123456789012:function:${getAtt[0]}`;
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v)]));
    }
    if (typeof value === 'string') {
      const param = /^\$\{param:(\w+)\}$/.exec(value);
      if (param) return stack.params.default[param[1]!];
    }
    return value;
  };
  return fill(batch.stateMachines.batchShards.definition) as Record<string, any>;
}

describe('the shard state machine (serverless.yml, --param=batch=true)', () => {
  it('is a valid Amazon States Language definition (asl-validator)', () => {
    const result = validateAsl(resolvedDefinition());

    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  it('maps the shard list from S3 in distributed mode, one worker invoke per shard, keeping no results', () => {
    const { States } = resolvedDefinition();
    const map = States.ScoreShards;

    expect(map).toMatchObject({
      Type: 'Map',
      ItemReader: { Resource: 'arn:aws:states:::s3:getObject', ReaderConfig: { InputType: 'JSON' }, Parameters: { 'Bucket.$': '$.bucket', 'Key.$': '$.shardsKey' } },
      ItemSelector: { 'job.$': '$.job', 'shard.$': '$$.Map.Item.Value' },
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } },
      MaxConcurrency: 100,
      ResultPath: null,
      Next: 'AssembleOutputs',
    });
    expect(map.ItemProcessor.States.ScoreShard.Parameters.FunctionName).toContain('BatchShardWorkerLambdaFunction');
    expect(States.AssembleOutputs.Parameters).toMatchObject({ FunctionName: expect.stringContaining('BatchAssembleLambdaFunction'), Payload: { action: 'assemble' } });
    for (const state of [map, States.AssembleOutputs]) expect(state.Catch[0]).toMatchObject({ ErrorEquals: ['States.ALL'], Next: 'WriteFailedManifest' });
    expect(States.WriteFailedManifest).toMatchObject({ Next: 'Failed', Parameters: { Payload: { action: 'fail', 'error.$': '$.error' } } });
  });

  it('names a bundle entry in functions/batch for every batch function, and gives them their own role', () => {
    for (const [name, fn] of Object.entries(batch.functions as Record<string, { handler: string; role: string }>)) {
      const source = fn.handler.replace(/^dist\//, '').replace(/\.handler$/, '.ts');
      expect({ name, exists: existsSync(join(repoRoot, source)) }).toEqual({ name, exists: true });
      expect(fn.role).toBe('BatchFunctionRole');
    }
    expect(batch.resources.Resources.BatchQueue.Properties.RedrivePolicy).toMatchObject({ maxReceiveCount: '${param:batchMaxReceiveCount}' });
    // The SQS source is a resource of its own, not an `sqs` event (whose grant would land on the api function's role).
    expect(batch.functions.batchSqs.events).toBeUndefined();
    expect(batch.resources.Resources.BatchSqsEventSourceMappingSQSBatchQueue.Properties).toMatchObject({
      FunctionName: { 'Fn::GetAtt': ['BatchSqsLambdaFunction', 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });
});

describe('the GPU task hand-off (ECS RunTask request)', () => {
  const job: ShardJob = {
    bucket: 'hotpath-prod-batch', key: 'input/mlp-large/big.npy', etag: '9b2cf535f27731c974343645a3985328-40', size: 40 * 1024 ** 3, format: 'npy',
    model: 'mlp-large', outputPrefix: 'output/', shardCount: 0, startedAt: '2026-12-02T00:00:00.000Z', plan: 'above the GPU task threshold',
  };
  const settings = {
    cluster: 'arn:aws:ecs:eu-west-1:123456789012:cluster/hotpath-prod-gpu', taskDefinition: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/hotpath-gpu:7',
    subnets: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'], securityGroups: ['sg-0123456789abcdef0'],
    taskRoleArn: 'arn:aws:iam::123456789012:role/hotpath-prod-BatchGpuTaskRole', container: 'gpu-task',
  };

  it('runs the batch-job entry in the GPU task container with the job in its environment, idempotent per object version', () => {
    const input = gpuBatchRunTaskInput(settings, job);

    expect(input).toMatchObject({
      cluster: settings.cluster, taskDefinition: settings.taskDefinition, count: 1,
      networkConfiguration: { awsvpcConfiguration: { subnets: settings.subnets, securityGroups: settings.securityGroups, assignPublicIp: 'DISABLED' } },
      overrides: { taskRoleArn: settings.taskRoleArn, containerOverrides: [{ name: 'gpu-task', command: ['node', 'node_modules/tsx/dist/cli.mjs', 'gpu-task/batch-job.ts'] }] },
    });
    const environment = Object.fromEntries(input.overrides!.containerOverrides![0]!.environment!.map((e) => [e.name, e.value]));
    expect(JSON.parse(environment.HOTPATH_BATCH_JOB!)).toEqual(job);
    expect(environment.HOTPATH_BACKEND).toBe('native');
    expect(existsSync(join(repoRoot, 'gpu-task/batch-job.ts'))).toBe(true);
    // ECS's limits: clientToken up to 64 characters, startedBy up to 36.
    expect(input.clientToken!.length).toBeLessThanOrEqual(64);
    expect(input.startedBy!.length).toBeLessThanOrEqual(36);
    expect(gpuBatchRunTaskInput(settings, { ...job, startedAt: '2026-12-02T00:05:00.000Z' }).clientToken).toBe(input.clientToken);
    expect(gpuBatchRunTaskInput(settings, { ...job, etag: 'another-version' }).clientToken).not.toBe(input.clientToken);
    expect(shardExecutionName(job)).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
  });
});

describe('the GPU task batch mode (gpu-task/batch-job.ts, run for real on a local file)', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'hotpath-batch-job-'));
    mkdirSync(join(root, 'in'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('scores the object with the native backend on the provider its self-test proves, writing the pipeline outputs', async () => {
    // Prepare: 300 iris rows, one bad; CPU is the provider this machine has.
    const lines = ['sepal_length,sepal_width,petal_length,petal_width'];
    for (let i = 0; i < 300; i++) lines.push(i === 7 ? '5.1,x,1.4,0.2' : `${(4.3 + (i % 36) / 10).toFixed(1)},${(2 + (i % 24) / 10).toFixed(1)},${(1 + (i % 59) / 10).toFixed(1)},0.2`);
    writeFileSync(join(root, 'in/iris.csv'), `${lines.join('\n')}\n`);

    // Act
    const { stdout } = await promisify(execFile)(process.execPath, [join(repoRoot, 'node_modules/tsx/dist/cli.mjs'), 'gpu-task/batch-job.ts', '--root', root, '--key', 'in/iris.csv', '--model', 'iris-classifier'], {
      cwd: repoRoot, env: { ...process.env, HOTPATH_PROVIDERS: 'cpu', HOTPATH_WARMUP: 'false', POWERTOOLS_LOG_LEVEL: 'ERROR' }, timeout: 60_000,
    });

    // Assess
    const manifest = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(manifest).toMatchObject({ status: 'succeeded', route: 'local-native', provider: 'cpu', rows: { in: 300, scored: 299, failed: 1 } });
    const scores = readFileSync(join(root, manifest.outputs.scores), 'utf8').trim().split('\n');
    expect(scores).toHaveLength(299);
    expect(JSON.parse(scores[7]!).row).toBe(8);
    expect(readFileSync(join(root, manifest.outputs.rowErrors), 'utf8')).toContain('"row":7');
  }, 60_000);
});
