import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context, S3Event, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { loadServingConfig } from '../../../lib/config/serving-config';
import type { BatchManifest } from '../../../lib/batch/batch-manifest';
import { s3ObjectEvents, scoreS3Records, type BatchDecision, type S3ScoringDependencies } from '../../../lib/batch/s3-event-scoring';
import { S3ObjectStorage } from '../../../lib/batch/s3-object-storage';
import { assembleShards, scoreShard, type NumberedShard, type ShardExecutionInput } from '../../../lib/batch/shard-job';
import { createServingRuntime, type ServingRuntime } from '../../../lib/serving/serving-runtime';
import { createLogger } from '../../../lib/telemetry/powertools-telemetry';
import { createTelemetry } from '../../../lib/telemetry/lambda-telemetry';
import { createSqsHandler } from '../../../functions/batch/batch-handler-factory';
import { createLocalS3Client, startLocalS3Server, type LocalS3Server } from '../../support/local-s3-server';
import { startS3MissingCallsProxy, type S3MissingCallsProxy } from '../../support/batch/s3-missing-calls-proxy';

const BUCKET = 'hotpath-dev-batch';
const MIN_PART = 16 * 1024;
const SETTINGS = {
  inputPrefix: 'input/',
  outputPrefix: 'output/',
  probeBytes: 1024,
  shards: { reserveMs: 0, shardTargetSeconds: 0.001, maxShards: 10, minShardBytes: 8 * 1024, gpuTaskAboveBytes: 0 },
};

/** The sample event in events/, pointed at `key` with `etag`. */
function s3Event(key: string, etag: string, size: number): S3Event {
  const event = JSON.parse(readFileSync(join(__dirname, '../../../events/batch/s3-object-created.json'), 'utf8')) as S3Event;
  const record = event.Records[0]!;
  return { Records: [{ ...record, s3: { ...record.s3, bucket: { ...record.s3.bucket, name: BUCKET }, object: { ...record.s3.object, key: encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+'), eTag: etag, size } } }] };
}

/** An iris CSV with an id column; every 97th row has a bad cell. */
function irisCsv(rows: number): string {
  const lines = ['id,sepal_length,sepal_width,petal_length,petal_width'];
  for (let i = 0; i < rows; i++) {
    const bad = i % 97 === 13;
    lines.push(`r${i},${(4.3 + (i % 36) / 10).toFixed(1)},${bad ? 'n/a' : (2 + (i % 24) / 10).toFixed(1)},${(1 + (i % 59) / 10).toFixed(1)},${(0.1 + (i % 25) / 10).toFixed(1)}`);
  }
  return `${lines.join('\n')}\n`;
}

describe('S3-triggered scoring (real local S3 server, real iris model)', () => {
  let s3: LocalS3Server;
  let proxy: S3MissingCallsProxy;
  let client: S3Client;
  let storage: S3ObjectStorage;
  let runtime: ServingRuntime;
  let decisions: BatchDecision[];
  let started: ShardExecutionInput[];
  let dependencies: S3ScoringDependencies;

  beforeAll(async () => {
    s3 = await startLocalS3Server({ buckets: [BUCKET] });
    proxy = await startS3MissingCallsProxy(s3.endpoint, { minPartBytes: MIN_PART });
    client = createLocalS3Client(proxy.endpoint);
    storage = new S3ObjectStorage({ client, bucket: BUCKET });
    runtime = await createServingRuntime(loadServingConfig(process.env, { wasmThreads: 1, models: ['iris-classifier'] }), createLogger());
    await runtime.ensureLoaded();
    dependencies = {
      core: runtime,
      storageFor: () => storage,
      settings: SETTINGS,
      onDecision: (decision) => decisions.push(decision),
      dispatch: {
        // The state machine's steps, in process: each shard, then the assembly.
        async startShards(input) {
          started.push(input);
          return { started: true, execution: 'in-process' };
        },
      },
    };
  }, 60_000);

  beforeEach(() => {
    decisions = [];
    started = [];
  });

  afterAll(async () => {
    await runtime?.registry.dispose();
    client?.destroy();
    await proxy?.close();
    await s3?.stop();
  });

  async function put(key: string, body: string, metadata?: Record<string, string>): Promise<string> {
    const answer = await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ...(metadata ? { Metadata: metadata } : {}) }));
    return answer.ETag!.replace(/"/g, '');
  }

  async function text(key: string): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of await storage.openRead(key)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  it('scores an object under input/<model>/ into scores, row errors and a manifest, in row order', async () => {
    const etag = await put('input/iris-classifier/small.csv', irisCsv(200));

    const [outcome] = await scoreS3Records(dependencies, s3ObjectEvents(s3Event('input/iris-classifier/small.csv', etag, 0).Records), () => 900_000);

    const manifest = outcome!.manifest!;
    expect(manifest).toMatchObject({ status: 'succeeded', rows: { in: 200, scored: 198, failed: 2 }, model: { name: 'iris-classifier' } });
    const scores = (await text(manifest.outputs!.scores!)).trim().split('\n').map((line) => JSON.parse(line) as { row: number; id: string });
    expect(scores).toHaveLength(198);
    expect(scores.map((s) => s.row)).toEqual([...Array(200).keys()].filter((i) => i % 97 !== 13));
    expect(scores[0]!.id).toBe('r0');
    expect((await text(manifest.outputs!.rowErrors)).trim().split('\n').map((line) => JSON.parse(line).row)).toEqual([13, 110]);
    expect(decisions[0]).toMatchObject({ route: 'single', model: 'iris-classifier' });
  });

  it('writes nothing twice for a redelivered event, or for events arriving while the first runs', async () => {
    // Prepare
    const key = 'input/iris-classifier/again.csv';
    const etag = await put(key, irisCsv(300));
    const records = s3ObjectEvents(s3Event(key, etag, 0).Records);

    // Act: three deliveries at once, then one more after they finished.
    const concurrent = await Promise.all([1, 2, 3].map(() => scoreS3Records(dependencies, records, () => 900_000)));
    const manifestKey = `output/${key}/etag-${etag}/manifest.json`;
    const scoresBefore = await storage.head(`output/${key}/etag-${etag}/scores.jsonl`);
    const manifestBefore = await text(manifestKey);
    const [late] = await scoreS3Records(dependencies, records, () => 900_000);

    // Assess: one manifest won; every delivery sees that one; the outputs are whole and unchanged.
    const manifests = concurrent.map(([o]) => o!.manifest as BatchManifest);
    expect(new Set(manifests.map((m) => m.finishedAt)).size).toBe(1);
    expect(JSON.parse(manifestBefore)).toEqual(manifests[0]);
    expect(late).toMatchObject({ route: 'duplicate' });
    expect(await text(manifestKey)).toBe(manifestBefore);
    expect((await storage.head(`output/${key}/etag-${etag}/scores.jsonl`)).etag).toBe(scoresBefore.etag);
    expect((await text(`output/${key}/etag-${etag}/scores.jsonl`)).trim().split('\n')).toHaveLength(manifests[0]!.rows.scored);
  });

  it('takes the model from the object metadata, and writes a failed manifest when none is named or it does not exist', async () => {
    const named = await put('input/anything.csv', irisCsv(5), { model: 'iris-classifier' });
    const unnamed = await put('input/nomodel.csv', irisCsv(5));
    const unknown = await put('input/no-such-model/x.csv', irisCsv(5));

    const [byMetadata] = await scoreS3Records(dependencies, s3ObjectEvents(s3Event('input/anything.csv', named, 0).Records), () => 900_000);
    const [none] = await scoreS3Records(dependencies, s3ObjectEvents(s3Event('input/nomodel.csv', unnamed, 0).Records), () => 900_000);
    const [missing] = await scoreS3Records(dependencies, s3ObjectEvents(s3Event('input/no-such-model/x.csv', unknown, 0).Records), () => 900_000);

    expect(byMetadata!.manifest).toMatchObject({ status: 'succeeded', rows: { in: 5 } });
    expect(none!.manifest).toMatchObject({ status: 'failed', reason: expect.stringContaining("set its 'model' metadata") });
    expect(missing!.manifest).toMatchObject({ status: 'failed', reason: expect.stringContaining('no-such-model') });
  });

  it('plans shards from a probe when the object would overrun, and the sharded outputs equal a single run byte for byte', async () => {
    // Prepare: one file under two keys; the first scored whole, the second planned into shards.
    const body = irisCsv(1_500);
    const singleEtag = await put('input/iris-classifier/whole.csv', body);
    const shardedEtag = await put('input/iris-classifier/sharded.csv', body);
    const [single] = await scoreS3Records(dependencies, s3ObjectEvents(s3Event('input/iris-classifier/whole.csv', singleEtag, 0).Records), () => 900_000);

    // Act: no time left in this invocation (1 ms), so the planner cuts; the state machine's steps run in process.
    const [sharded] = await scoreS3Records(dependencies, s3ObjectEvents(s3Event('input/iris-classifier/sharded.csv', shardedEtag, 0).Records), () => 1);
    const input = started[0]!;
    const shards = JSON.parse(await text(input.shardsKey)) as NumberedShard[];
    await Promise.all(shards.map((shard) => scoreShard({ core: runtime, storage }, input.job, shard)));
    const manifest = await assembleShards({ storage, minPartBytes: MIN_PART }, input.job, input.shardsKey);

    // Assess
    expect(sharded).toMatchObject({ route: 'sharded' });
    // The work would want more than maxShards shards: the GPU task's rule, not configured here, so sharded with the fallback said.
    expect(decisions.at(-1)).toMatchObject({ route: 'sharded', shards: shards.length, fallback: expect.stringContaining('not configured') });
    expect(shards.length).toBeGreaterThanOrEqual(3);
    expect(shards.map((s) => s.firstRow)).toEqual([...shards.map((s) => s.firstRow)].sort((a, b) => a - b));
    expect(manifest).toMatchObject({ status: 'succeeded', rows: single!.manifest!.rows });
    expect(await text(manifest.outputs!.scores!)).toBe(await text(single!.manifest!.outputs!.scores!));
    expect(await text(manifest.outputs!.rowErrors)).toBe(await text(single!.manifest!.outputs!.rowErrors));
    expect(proxy.calls.get('upload-part-copy') ?? 0).toBeGreaterThan(0);
    // A second assembly (a retried final step) changes nothing.
    expect(await assembleShards({ storage, minPartBytes: MIN_PART }, input.job, input.shardsKey)).toEqual(manifest);
  });

  // SQS shares this server and runtime (each suite start costs seconds on this machine).
  describe('SQS handler (Powertools batch processor, real SQS-shaped events from events/batch/sqs-messages.json)', () => {
    const context = { awsRequestId: 'sqs-test', functionName: 'hotpath-dev-batchSqs', getRemainingTimeInMillis: () => 300_000 } as unknown as Context;

    function sqsEvent(): SQSEvent {
      const event = JSON.parse(readFileSync(join(__dirname, '../../../events/batch/sqs-messages.json'), 'utf8')) as SQSEvent;
      // The reference message points at the sample's bucket; aim it at the local one.
      const reference = event.Records[1]!;
      reference.body = JSON.stringify({ ...JSON.parse(reference.body), bucket: BUCKET, key: 'input/iris-classifier/sqs-ref.csv' });
      return event;
    }

    it('answers only the bad messages as batch item failures, and writes the good ones once', async () => {
      // Prepare
      await put('input/iris-classifier/sqs-ref.csv', irisCsv(10));
      const handler = createSqsHandler(createTelemetry(), runtime, { ...dependencies, answerBucket: BUCKET });
      const event = sqsEvent();

      // Act: the batch as delivered, then delivered again (visibility timeout passed).
      const first = (await handler(event, context)) as SQSBatchResponse;
      const again = (await handler(sqsEvent(), context)) as SQSBatchResponse;

      // Assess: the wrong shape and the non-JSON body fail; the request and the reference are done.
      const failed = ['9a3c1f1e-0b7d-4c55-9a51-2f0d6c0c4e11', 'c0ffee00-1234-4abc-8def-000000000004'];
      expect(first.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(failed.sort());
      expect(again.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(failed.sort());
      const answer = JSON.parse(await text('output/sqs/iris-classifier/2e1424d4-f796-459a-8184-9c92662be6da.json'));
      expect(answer).toMatchObject({ model_name: 'iris-classifier', id: 'req-1', parameters: { sqs_message_id: '2e1424d4-f796-459a-8184-9c92662be6da' } });
      expect(answer.outputs.find((o: { name: string }) => o.name === 'probabilities').shape).toEqual([2, 3]);
      const listed: string[] = [];
      for await (const item of storage.list('output/input/iris-classifier/sqs-ref.csv/')) listed.push(item.key.slice(item.key.lastIndexOf('/') + 1));
      expect(listed.sort()).toEqual(['manifest.json', 'row-errors.jsonl', 'scores.jsonl']);
    });
  });
});
