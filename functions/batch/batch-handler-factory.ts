/**
 * What every batch function builds once at INIT and its middy chains: the serving runtime (the
 * same models and backends as the api function), an S3 client (HOTPATH_S3_ENDPOINT for a local
 * server), the batch settings, and how a job leaves a function (Step Functions, the local shard
 * plan through serverless-offline's Lambda endpoint, or the GPU task's batch mode).
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { S3Client } from '@aws-sdk/client-s3';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { BatchCloudConfig } from '../../lib/config/serving-config';
import type { BatchDecision, BatchDispatch } from '../../lib/batch/s3-event-scoring';
import { scoreSqsRecord, type SqsScoringDependencies } from '../../lib/batch/sqs-scoring';
import { S3ObjectStorage } from '../../lib/batch/s3-object-storage';
import type { ServingRuntime } from '../../lib/serving/serving-runtime';
import type { Telemetry } from '../../lib/telemetry/lambda-telemetry';

/** One S3Client per function instance; path-style against a local server. */
export function createS3Client(config: BatchCloudConfig): S3Client {
  return config.s3Endpoint !== undefined ? new S3Client({ endpoint: config.s3Endpoint, forcePathStyle: true }) : new S3Client({});
}

/** Storage per bucket, created on first use. */
export function storagePerBucket(client: S3Client): (bucket: string) => S3ObjectStorage {
  const storages = new Map<string, S3ObjectStorage>();
  return (bucket) => {
    let storage = storages.get(bucket);
    if (!storage) storages.set(bucket, (storage = new S3ObjectStorage({ client, bucket })));
    return storage;
  };
}

/**
 * Where shard plans and GPU jobs go: the local plan when HOTPATH_BATCH_LOCAL_LAMBDA_ENDPOINT is
 * set (serverless-offline; Step Functions is not emulated), else the state machine. The SDK
 * clients are imported when first needed, so a function that never dispatches loads none.
 */
export function createDispatch(config: BatchCloudConfig, storageFor: (bucket: string) => S3ObjectStorage): BatchDispatch {
  const { local, stateMachineArn, gpuTask } = config;
  return {
    async startShards(input) {
      if (local !== undefined) {
        const [{ LambdaClient }, { localShardPlanStarter }] = await Promise.all([import('@aws-sdk/client-lambda'), import('../../lib/batch/step-functions-local-plan')]);
        const lambda = new LambdaClient({ endpoint: local.lambdaEndpoint });
        try {
          return await localShardPlanStarter({ lambda, storage: storageFor(input.bucket), workerFunction: local.workerFunction, assembleFunction: local.assembleFunction })(input);
        } finally {
          lambda.destroy();
        }
      }
      if (stateMachineArn === undefined) throw new Error('a shard plan needs HOTPATH_BATCH_STATE_MACHINE_ARN (serverless.yml sets it with --param=batch=true) or HOTPATH_BATCH_LOCAL_LAMBDA_ENDPOINT');
      const [{ SFNClient }, { stepFunctionsShardStarter }] = await Promise.all([import('@aws-sdk/client-sfn'), import('../../lib/batch/step-functions-start')]);
      return stepFunctionsShardStarter(new SFNClient({}), stateMachineArn)(input);
    },
    ...(gpuTask !== undefined
      ? {
          async runGpuTask(job) {
            const [{ ECSClient }, { gpuTaskBatchStarter }] = await Promise.all([import('@aws-sdk/client-ecs'), import('../../lib/batch/shard-gpu-task')]);
            return gpuTaskBatchStarter(new ECSClient({}), gpuTask)(job);
          },
        }
      : {}),
  };
}

/** Logs every routing decision and meters it: BatchJobs by route, BatchShards, BatchRouteFallback. */
export function decisionRecorder({ logger, metrics }: Telemetry): (decision: BatchDecision) => void {
  return function recordBatchDecision(decision) {
    logger.info('batch decision', { ...decision });
    const metric = metrics.singleMetric();
    metric.addDimension('route', decision.route);
    metric.addMetric('BatchJobs', MetricUnit.Count, 1);
    if (decision.shards !== undefined) metrics.addMetric('BatchShards', MetricUnit.Count, decision.shards);
    if (decision.fallback !== undefined) {
      logger.warn('batch route fallback', { key: decision.key, fallback: decision.fallback });
      metrics.addMetric('BatchRouteFallback', MetricUnit.Count, 1);
    }
  };
}

/** The batch handlers' middy chain: Powertools logger context, tracing, EMF metrics with ColdStart. */
export function batchHandler<E, R>(telemetry: Telemetry, runtime: ServingRuntime, core: (event: E, context: Context) => Promise<R>) {
  const handle = async function handleBatchEvent(event: E, context: Context): Promise<R> {
    await runtime.ensureLoaded();
    return core(event, context);
  };
  return middy<E, R>(handle)
    .use(injectLambdaContext(telemetry.logger, { resetKeys: true }))
    .use(captureLambdaHandler(telemetry.tracer, { captureResponse: false }))
    .use(logMetrics(telemetry.metrics, { captureColdStartMetric: true }));
}

/** What is left of the invocation (ms); 15 minutes where there is no Lambda context (tests). */
export function remainingOf(context: Context): () => number {
  return () => (typeof context.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : 900_000);
}

/**
 * The SQS handler: Powertools' batch processor runs each record through `scoreSqsRecord` and
 * answers `batchItemFailures` with the records that threw, so only those return to the queue
 * (the event source mapping has ReportBatchItemFailures).
 */
export function createSqsHandler(telemetry: Telemetry, runtime: ServingRuntime, dependencies: SqsScoringDependencies) {
  const processor = new BatchProcessor(EventType.SQS);
  return batchHandler<SQSEvent, SQSBatchResponse>(telemetry, runtime, async function scoreSqsEvent(event, context) {
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
}
