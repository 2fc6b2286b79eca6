/**
 * batchAssemble: the state machine's last step. `action: assemble` joins the shards' outputs in
 * order by S3 part copies and writes the manifest; `action: fail` writes the failed manifest.
 * Loads no models.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { loadBatchCloudConfig } from '../../lib/config/serving-config';
import { assembleShards, failShards, type ShardJob } from '../../lib/batch/shard-job';
import { createTelemetry } from '../../lib/telemetry/lambda-telemetry';
import { createS3Client, storagePerBucket } from './batch-handler-factory';

type AssembleEvent =
  | { action: 'assemble'; job: ShardJob; shardsKey: string }
  | { action: 'fail'; job: ShardJob; shardsKey: string; error?: { Error?: string; Cause?: string } };

const telemetry = createTelemetry();
const config = loadBatchCloudConfig();
const storageFor = storagePerBucket(createS3Client(config));
const minPartBytes = config.assemblyMinPartBytes;

async function assembleOrFail(event: AssembleEvent) {
  const storage = storageFor(event.job.bucket);
  const manifest = event.action === 'assemble'
    ? await assembleShards({ storage, minPartBytes }, event.job, event.shardsKey)
    : await failShards(storage, event.job, event.shardsKey, event.error);
  telemetry.logger.info('batch job finished', { key: event.job.key, action: event.action, status: manifest.status, rows: manifest.rows, reason: manifest.reason });
  return { status: manifest.status, rows: manifest.rows, reason: manifest.reason };
}

export const handler = middy<AssembleEvent, Awaited<ReturnType<typeof assembleOrFail>>>(assembleOrFail)
  .use(injectLambdaContext(telemetry.logger, { resetKeys: true }))
  .use(logMetrics(telemetry.metrics, { captureColdStartMetric: true }));
