/**
 * batchS3: S3 ObjectCreated on the input prefix. Scores each object here, or plans shards (the
 * state machine) or the GPU task's batch mode for large ones (lib/batch/s3-event-scoring.ts).
 * INIT loads the models, as the api function does.
 */
import type { S3Event } from 'aws-lambda';
import { loadBatchCloudConfig, loadServingConfig } from '../../lib/config/serving-config';
import { s3ObjectEvents, scoreS3Records } from '../../lib/batch/s3-event-scoring';
import { createServingRuntime } from '../../lib/serving/serving-runtime';
import { createTelemetry } from '../../lib/telemetry/lambda-telemetry';
import { batchHandler, createDispatch, createS3Client, decisionRecorder, remainingOf, storagePerBucket } from './batch-handler-factory';

const telemetry = createTelemetry();
const runtime = await createServingRuntime(loadServingConfig(), telemetry.logger);
const config = loadBatchCloudConfig();
const storageFor = storagePerBucket(createS3Client(config));
const dependencies = {
  core: runtime,
  storageFor,
  dispatch: createDispatch(config, storageFor),
  settings: config,
  onDecision: decisionRecorder(telemetry),
};

export const handler = batchHandler(telemetry, runtime, async function scoreS3Event(event: S3Event, context) {
  const outcomes = await scoreS3Records(dependencies, s3ObjectEvents(event.Records ?? []), remainingOf(context));
  return { outcomes: outcomes.map(({ key, route, manifest, execution }) => ({ key, route, status: manifest?.status, rows: manifest?.rows, execution })) };
});
