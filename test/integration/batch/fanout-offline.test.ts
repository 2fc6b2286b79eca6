import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import { loadServingConfig } from '../../../lib/config/serving-config';
import { s3ObjectEvents, scoreS3Records, type BatchDecision } from '../../../lib/batch/s3-event-scoring';
import { S3ObjectStorage } from '../../../lib/batch/s3-object-storage';
import { localShardPlanStarter } from '../../../lib/batch/step-functions-local-plan';
import { createServingRuntime, type ServingRuntime } from '../../../lib/serving/serving-runtime';
import { createLogger } from '../../../lib/telemetry/powertools-telemetry';
import { createLocalS3Client, LOCAL_S3_CREDENTIALS, startLocalS3Server, type LocalS3Server } from '../../support/local-s3-server';
import { startOfflineServer, type OfflineServer } from '../../support/offline-server';
import { startS3MissingCallsProxy, type S3MissingCallsProxy } from '../../support/batch/s3-missing-calls-proxy';

const BUCKET = 'hotpath-dev-batch';
const MIN_PART = 16 * 1024;

function irisCsv(rows: number): string {
  const lines = ['sepal_length,sepal_width,petal_length,petal_width'];
  for (let i = 0; i < rows; i++) lines.push(`${(4.3 + (i % 36) / 10).toFixed(1)},${i % 211 === 5 ? '' : (2 + (i % 24) / 10).toFixed(1)},${(1 + (i % 59) / 10).toFixed(1)},${(0.1 + (i % 25) / 10).toFixed(1)}`);
  return `${lines.join('\n')}\n`;
}

/**
 * The fan-out for real on this machine: the batch functions served by serverless-offline from
 * serverless.yml (--param=batch=true through HOTPATH_STACK_BATCH), invoked through its Lambda
 * endpoint, reading and writing a real local S3 server. Step Functions itself is not emulated:
 * the local plan (lib/batch/step-functions-local-plan.ts) invokes the worker per shard and
 * then the assembly, as the state machine's definition does.
 */
describe('batch fan-out through serverless-offline (local Lambda endpoint, local S3)', () => {
  let s3: LocalS3Server;
  let proxy: S3MissingCallsProxy;
  let client: S3Client;
  let storage: S3ObjectStorage;
  let server: OfflineServer;
  let lambda: LambdaClient;
  let runtime: ServingRuntime;

  beforeAll(async () => {
    s3 = await startLocalS3Server({ buckets: [BUCKET] });
    proxy = await startS3MissingCallsProxy(s3.endpoint, { minPartBytes: MIN_PART });
    client = createLocalS3Client(proxy.endpoint);
    storage = new S3ObjectStorage({ client, bucket: BUCKET });
    [server, runtime] = await Promise.all([
      startOfflineServer({
        // s3rver knows one access key: the functions sign with it (any secret passes).
        env: { AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey, HOTPATH_STACK_BATCH: 'true', HOTPATH_S3_ENDPOINT: proxy.endpoint, HOTPATH_MODELS: 'iris-classifier', HOTPATH_BATCH_MIN_PART_BYTES: String(MIN_PART), HOTPATH_WARMUP: 'false' },
      }),
      createServingRuntime(loadServingConfig(process.env, { wasmThreads: 1, models: ['iris-classifier'] }), createLogger()),
    ]);
    lambda = new LambdaClient({ endpoint: server.lambdaEndpoint, region: 'eu-west-1', credentials: { accessKeyId: 'offline', secretAccessKey: 'offline' } });
  }, 120_000);

  afterAll(async () => {
    lambda?.destroy();
    await server?.stop();
    await runtime?.registry.dispose();
    client?.destroy();
    await proxy?.close();
    await s3?.stop();
  });

  async function text(key: string): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of await storage.openRead(key)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  async function put(key: string, body: string): Promise<string> {
    return (await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }))).ETag!.replace(/"/g, '');
  }

  it('scores a sharded file byte-identically to a single run, workers and assembly invoked through the Lambda endpoint', async () => {
    // Prepare: one file under two keys. The single run: the batchS3 function, invoked with the sample S3 event.
    const body = irisCsv(1_200);
    const singleEtag = await put('input/iris-classifier/whole.csv', body);
    const shardedEtag = await put('input/iris-classifier/sharded.csv', body);
    const event = JSON.parse(readFileSync(join(__dirname, '../../../events/batch/s3-object-created.json'), 'utf8')) as S3Event;
    const record = event.Records[0]!;
    const singleEvent = { Records: [{ ...record, s3: { ...record.s3, bucket: { ...record.s3.bucket, name: BUCKET }, object: { ...record.s3.object, key: 'input/iris-classifier/whole.csv', eTag: singleEtag } } }] };
    const invoked = await lambda.send(new InvokeCommand({ FunctionName: 'hotpath-dev-batchS3', Payload: Buffer.from(JSON.stringify(singleEvent)) }));
    const singleAnswer = JSON.parse(Buffer.from(invoked.Payload!).toString('utf8'));
    expect(invoked.FunctionError).toBeUndefined();
    expect(singleAnswer.outcomes[0]).toMatchObject({ route: 'single', status: 'succeeded', rows: { in: 1_200 } });

    // Act: the planner (here, with no time left) cuts the other key; the local plan runs the shards through the endpoint.
    const decisions: BatchDecision[] = [];
    const [outcome] = await scoreS3Records(
      {
        core: runtime,
        storageFor: () => storage,
        onDecision: (decision) => decisions.push(decision),
        settings: { inputPrefix: 'input/', outputPrefix: 'output/', probeBytes: 1024, shards: { reserveMs: 0, shardTargetSeconds: 0.001, maxShards: 3, minShardBytes: 4 * 1024, gpuTaskAboveBytes: 0 } },
        dispatch: {
          startShards: localShardPlanStarter({ lambda, storage, workerFunction: 'hotpath-dev-batchShardWorker', assembleFunction: 'hotpath-dev-batchAssemble', concurrency: 1 }),
        },
      },
      s3ObjectEvents([{ ...record, s3: { ...record.s3, bucket: { ...record.s3.bucket, name: BUCKET }, object: { ...record.s3.object, key: 'input/iris-classifier/sharded.csv', eTag: shardedEtag } } }]),
      () => 1,
    );

    // Assess
    expect(outcome).toMatchObject({ route: 'sharded' });
    // One worker at a time: serverless-offline starts a new instance (a full INIT) per concurrent invoke.
    expect(decisions[0]).toMatchObject({ route: 'sharded', shards: 3 });
    const single = JSON.parse(await text(`output/input/iris-classifier/whole.csv/etag-${singleEtag}/manifest.json`));
    const sharded = JSON.parse(await text(`output/input/iris-classifier/sharded.csv/etag-${shardedEtag}/manifest.json`));
    expect(sharded).toMatchObject({ status: 'succeeded', rows: single.rows });
    expect(single.rows.failed).toBeGreaterThan(0);
    expect(await text(sharded.outputs.scores)).toBe(await text(single.outputs.scores));
    expect(await text(sharded.outputs.rowErrors)).toBe(await text(single.outputs.rowErrors));
    // Three part folders, joined by part copies on the local server.
    const parts = new Set<string>();
    for await (const item of storage.list(`output/input/iris-classifier/sharded.csv/etag-${shardedEtag}/parts/`)) parts.add(item.key.split('/parts/')[1]!.split('/')[0]!);
    expect(parts.size).toBe(3);
    expect(proxy.calls.get('upload-part-copy') ?? 0).toBeGreaterThan(0);

    // A redelivered event starts nothing (the plan's execution marker is taken).
    const [again] = await scoreS3Records(
      { core: runtime, storageFor: () => storage, onDecision: () => undefined, settings: { inputPrefix: 'input/', outputPrefix: 'output/', probeBytes: 1024, shards: { reserveMs: 0, shardTargetSeconds: 0.001, maxShards: 3, minShardBytes: 4 * 1024, gpuTaskAboveBytes: 0 } }, dispatch: { startShards: async () => { throw new Error('must not start'); } } },
      s3ObjectEvents([{ ...record, s3: { ...record.s3, bucket: { ...record.s3.bucket, name: BUCKET }, object: { ...record.s3.object, key: 'input/iris-classifier/sharded.csv', eTag: shardedEtag } } }]),
      () => 1,
    );
    expect(again).toMatchObject({ route: 'duplicate' });
  }, 120_000);
});
