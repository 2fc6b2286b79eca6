/**
 * batchSqs: each SQS message an inference request or a reference to an object
 * (lib/batch/sqs-scoring.ts). Powertools' batch processor answers `batchItemFailures`, so only
 * the failed records return to the queue (and, after batchMaxReceiveCount receives, go to the
 * dead-letter queue).
 */
import { loadBatchCloudConfig, loadServingConfig } from '../../lib/config/serving-config';
import { createServingRuntime } from '../../lib/serving/serving-runtime';
import { createTelemetry } from '../../lib/telemetry/lambda-telemetry';
import { createDispatch, createS3Client, createSqsHandler, decisionRecorder, storagePerBucket } from './batch-handler-factory';

const telemetry = createTelemetry();
const runtime = await createServingRuntime(loadServingConfig(), telemetry.logger);
const config = loadBatchCloudConfig();
const storageFor = storagePerBucket(createS3Client(config));

export const handler = createSqsHandler(telemetry, runtime, {
  core: runtime, storageFor, dispatch: createDispatch(config, storageFor), settings: config, onDecision: decisionRecorder(telemetry), answerBucket: config.bucket,
});
