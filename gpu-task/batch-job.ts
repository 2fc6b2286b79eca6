/**
 * The GPU task's batch mode: one object through the batch pipeline (lib/batch/score-object.ts)
 * on onnxruntime-node with the execution provider its self-test proves (HOTPATH_PROVIDERS,
 * default cuda,webgpu,cpu), then exit. The S3 trigger starts it with ECS RunTask
 * (lib/batch/shard-gpu-task.ts) for objects above HOTPATH_BATCH_GPU_ABOVE_BYTES or models the
 * manifest routes to the GPU tier; it writes the same outputs and manifest a Lambda run would.
 *
 * The job: HOTPATH_BATCH_JOB (what RunTask passes: `{bucket, key, etag, versionId?, model,
 * version?, outputPrefix}`) read from S3 (HOTPATH_S3_ENDPOINT for a local server), or flags
 * for a local file: `--root DIR --key KEY --model NAME [--version V] [--output-prefix P]`.
 * Prints the manifest as JSON; exits 0 when it succeeded, 1 when it failed and a rerun may
 * succeed, 2 when the input is at fault (the manifest says why either way).
 *
 * @example
 * HOTPATH_PROVIDERS=cpu npx tsx gpu-task/batch-job.ts --root ./data --key in/iris.csv --model iris-classifier
 */
import { S3Client } from '@aws-sdk/client-s3';
import { parseArgs } from 'node:util';
import { NativeBackend } from '../lib/backends/native-backend';
import { loadBatchCloudConfig, loadServingConfig } from '../lib/config/serving-config';
import { FilesystemObjectStorage } from '../lib/batch/filesystem-object-storage';
import type { ObjectStorage } from '../lib/batch/object-storage';
import { S3ObjectStorage } from '../lib/batch/s3-object-storage';
import { scoreObject, type ScoreObjectRequest } from '../lib/batch/score-object';
import type { ShardJob } from '../lib/batch/shard-job';
import { createServingRuntime } from '../lib/serving/serving-runtime';
import { createLogger } from '../lib/telemetry/powertools-telemetry';

/** One whole object (no shard range) and the storage it is read from and written to. */
interface BatchJobRequest extends Pick<ScoreObjectRequest, 'key' | 'model' | 'version' | 'outputPrefix' | 'etag' | 'versionId'> {
  readonly storage: ObjectStorage;
}

function readJob(argv: readonly string[], env: NodeJS.ProcessEnv): BatchJobRequest {
  const { values } = parseArgs({
    args: [...argv],
    options: { root: { type: 'string' }, key: { type: 'string' }, model: { type: 'string' }, version: { type: 'string' }, 'output-prefix': { type: 'string' } },
    strict: true,
  });
  if (values.root !== undefined) {
    if (values.key === undefined || values.model === undefined) throw new Error('--root needs --key and --model (the object under the folder, and the model that scores it)');
    return { storage: new FilesystemObjectStorage(values.root), key: values.key, model: values.model, version: values.version, outputPrefix: values['output-prefix'] ?? 'output/' };
  }
  const raw = env.HOTPATH_BATCH_JOB;
  if (raw === undefined || raw.trim() === '') throw new Error('no job: set HOTPATH_BATCH_JOB (what the S3 trigger passes to RunTask) or give --root, --key and --model');
  const job = JSON.parse(raw) as ShardJob;
  const { s3Endpoint } = loadBatchCloudConfig(env);
  const client = s3Endpoint !== undefined ? new S3Client({ endpoint: s3Endpoint, forcePathStyle: true }) : new S3Client({});
  return {
    storage: new S3ObjectStorage({ client, bucket: job.bucket }), key: job.key, model: job.model, version: job.version,
    outputPrefix: job.outputPrefix, etag: job.etag, versionId: job.versionId,
  };
}

async function main(): Promise<number> {
  const logger = createLogger();
  const job = readJob(process.argv.slice(2), process.env);
  const config = loadServingConfig(process.env, { onnxBackend: 'native', models: [job.model] });
  const native = new NativeBackend({ intraOpThreads: config.wasmThreads, providers: config.providers, tolerance: config.providerTolerance, logger });
  const runtime = await createServingRuntime(config, logger, { onnx_onnxv1: native });
  try {
    await runtime.ensureLoaded();
    const entry = runtime.registry.entries.find((e) => e.manifest.name === job.model && e.state.ready);
    const provider = entry?.state.ready ? entry.state.session.executionProvider?.provider : undefined;
    logger.info('batch job start', { key: job.key, model: job.model, provider, storage: job.storage.kind });
    const { manifest, duplicate } = await scoreObject({ core: runtime, storage: job.storage }, job);
    logger.info('batch job done', { key: job.key, status: manifest.status, rows: manifest.rows, duplicate, provider });
    process.stdout.write(`${JSON.stringify({ ...manifest, provider: provider ?? null, duplicate })}\n`);
    if (manifest.status === 'succeeded') return 0;
    return manifest.retryable ? 1 : 2;
  } finally {
    await runtime.registry.dispose();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`batch-job: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
