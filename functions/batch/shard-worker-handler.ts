/** batchShardWorker: one Distributed Map child: scores one byte range of an object (lib/batch/shard-job.ts). */
import { loadBatchCloudConfig, loadServingConfig } from '../../lib/config/serving-config';
import { scoreShard, type NumberedShard, type ShardJob } from '../../lib/batch/shard-job';
import { createServingRuntime } from '../../lib/serving/serving-runtime';
import { createTelemetry } from '../../lib/telemetry/lambda-telemetry';
import { batchHandler, createS3Client, remainingOf, storagePerBucket } from './batch-handler-factory';

/** Kept back from the remaining time: the part's uploads complete and its manifest is written. */
const FINISH_RESERVE_MS = 20_000;

const telemetry = createTelemetry();
const runtime = await createServingRuntime(loadServingConfig(), telemetry.logger);
const storageFor = storagePerBucket(createS3Client(loadBatchCloudConfig()));

export const handler = batchHandler(telemetry, runtime, async function scoreShardEvent(event: { job: ShardJob; shard: NumberedShard }, context) {
  const deadline = performance.now() + Math.max(0, remainingOf(context)() - FINISH_RESERVE_MS);
  const answer = await scoreShard({ core: runtime, storage: storageFor(event.job.bucket) }, event.job, event.shard, deadline);
  telemetry.logger.info('shard scored', { key: event.job.key, shard: event.shard.index, rows: answer.rows, duplicate: answer.duplicate });
  return answer;
});
