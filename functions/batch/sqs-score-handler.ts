/**
 * batchSqs: each SQS message an inference request or a reference to an object
 * (lib/batch/sqs-scoring.ts). Powertools' batch processor runs the records and answers
 * `batchItemFailures`, so only the failed ones return to the queue (and, after
 * batchMaxReceiveCount receives, go to the dead-letter queue).
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { loadBatchCloudConfig, loadServingConfig } from '../../lib/config/serving-config';
import { scoreSqsRecord } from '../../lib/batch/sqs-scoring';
import { createServingRuntime } from '../../lib/serving/serving-runtime';
import { createTelemetry } from '../../lib/telemetry/lambda-telemetry';
import { batchHandler, createDispatch, createS3Client, decisionRecorder, remainingOf, storagePerBucket } from './batch-handler-factory';

const telemetry = createTelemetry();
const runtime = await createServingRuntime(loadServingConfig(), telemetry.logger);
const config = loadBatchCloudConfig();
const storageFor = storagePerBucket(createS3Client(config));
const dependencies = {
  core: runtime, storageFor, dispatch: createDispatch(config, storageFor), settings: config, onDecision: decisionRecorder(telemetry), answerBucket: config.bucket,
};
const processor = new BatchProcessor(EventType.SQS);

export const handler = batchHandler(telemetry, runtime, async function scoreSqsEvent(event: SQSEvent, context) {
  const remaining = remainingOf(context);
  const scoreRecord = async (record: SQSRecord) => {
    try {
      const outcome = await scoreSqsRecord(dependencies, record, remaining);
      telemetry.logger.info('sqs record scored', { messageId: record.messageId, ...outcome });
      return outcome;
    } catch (error) {
      telemetry.logger.warn('sqs record failed', { messageId: record.messageId, receiveCount: record.attributes.ApproximateReceiveCount, error: (error as Error).message });
      throw error;
    }
  };
  return processPartialResponse(event, scoreRecord, processor, { context });
});
