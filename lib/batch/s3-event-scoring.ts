import type { S3EventRecord } from 'aws-lambda';
import { InvalidRequestError } from '../errors/hotpath-error';
import type { ManifestModel } from '../models/model-manifest-types';
import type { InferenceCore } from '../serving/infer';
import { ObjectNotFoundError } from './batch-errors';
import { preferredBatchSize } from './batch-model-input';
import type { BatchManifest } from './batch-manifest';
import { batchOutputKeys } from './batch-output-keys';
import { detectInputFormat, type InputFormat } from './input-format';
import { parseNpyHeader } from './npy-rows';
import type { ObjectHead, ObjectStorage } from './object-storage';
import { readManifest, scoreObject } from './score-object';
import type { NumberedShard, ShardExecutionInput, ShardJob } from './shard-job';
import { shardsKeyOf } from './shard-job';
import { planShards, type ShardPlan, type ShardSettings } from './shard-planner';
import { DiscardingObjectStorage } from './shard-probe';
import { countShardRows } from './shard-row-counts';

/** One object an S3 event names. */
export interface S3ObjectEvent {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  readonly etag?: string;
  readonly versionId?: string;
  /** The model (and version) a message names (SQS references); else the object's metadata, else its key. */
  readonly model?: string;
  readonly modelVersion?: string;
}

/** How a job leaves this function when it does not run here. */
export interface BatchDispatch {
  /** Starts the shard plan (Step Functions, or locally through serverless-offline); false when that job was started before (a redelivery). */
  startShards(input: ShardExecutionInput): Promise<{ started: boolean; execution: string }>;
  /** Starts the GPU task's batch mode; undefined where it is not configured (then the job is sharded, and the fallback logged). */
  runGpuTask?: (job: ShardJob) => Promise<{ started: boolean; task: string }>;
}

export interface S3ScoringDependencies {
  readonly core: InferenceCore;
  readonly storageFor: (bucket: string) => ObjectStorage;
  readonly dispatch: BatchDispatch;
  readonly settings: { readonly inputPrefix: string; readonly outputPrefix: string; readonly probeBytes: number; readonly shards: ShardSettings };
  /** Decision log and meter: one call per object with what was decided and why. */
  readonly onDecision: (decision: BatchDecision) => void;
}

export interface BatchDecision {
  readonly bucket: string;
  readonly key: string;
  readonly model: string;
  readonly route: ShardPlan['route'] | 'duplicate' | 'skipped';
  readonly reason: string;
  readonly shards?: number;
  readonly estimatedSeconds?: number;
  /** The GPU task was chosen but is not configured here: the job went to the shards instead. */
  readonly fallback?: string;
}

export interface S3ObjectOutcome {
  readonly key: string;
  readonly route: BatchDecision['route'];
  /** The manifest, when the object was scored (or found scored) here. */
  readonly manifest?: BatchManifest;
  readonly execution?: string;
}

/**
 * The S3 door's core: for each `ObjectCreated` record under the input prefix, finds the model
 * (the object's `model` metadata, else the first key segment after the prefix; `model-version`
 * metadata for a version), and either scores the object here or hands it on, as the shard
 * planner decides from a probe: the head of a large object is scored once through the real
 * pipeline (outputs discarded) to measure rows/s and bytes per row against the time this
 * invocation has left. Redelivered and concurrent events write nothing twice: outputs are keyed
 * by the input's version or ETag, the pipeline's manifest is a conditional write, and a shard
 * job's start is named after the same version (Step Functions refuses a second start).
 */
export async function scoreS3Records(
  dependencies: S3ScoringDependencies,
  records: readonly S3ObjectEvent[],
  remainingMs: () => number,
): Promise<S3ObjectOutcome[]> {
  const outcomes: S3ObjectOutcome[] = [];
  for (const record of records) outcomes.push(await scoreS3Object(dependencies, record, remainingMs));
  return outcomes;
}

/** The objects of an S3 event (keys URL-decoded as S3 sends them, `+` for spaces). */
export function s3ObjectEvents(records: readonly S3EventRecord[]): S3ObjectEvent[] {
  return records
    .filter((record) => record.eventName?.startsWith('ObjectCreated'))
    .map((record) => ({
      bucket: record.s3.bucket.name,
      key: decodeURIComponent(record.s3.object.key.replace(/\+/g, ' ')),
      size: record.s3.object.size ?? 0,
      ...(record.s3.object.eTag ? { etag: record.s3.object.eTag } : {}),
      ...(record.s3.object.versionId ? { versionId: record.s3.object.versionId } : {}),
    }));
}

async function scoreS3Object(dependencies: S3ScoringDependencies, record: S3ObjectEvent, remainingMs: () => number): Promise<S3ObjectOutcome> {
  const { settings, core } = dependencies;
  const storage = dependencies.storageFor(record.bucket);
  const decide = (decision: Omit<BatchDecision, 'bucket' | 'key'>): void => dependencies.onDecision({ bucket: record.bucket, key: record.key, ...decision });
  if (record.model === undefined && !record.key.startsWith(settings.inputPrefix)) {
    decide({ model: '', route: 'skipped', reason: `key is not under the input prefix '${settings.inputPrefix}'` });
    return { key: record.key, route: 'skipped' };
  }
  let head: ObjectHead;
  try {
    head = await storage.head(record.key);
  } catch (error) {
    // Deleted since the event: nothing to score, and nothing to say it about but the log. Anything
    // else (access denied, throttling) throws: the event is retried, and the error is in the log.
    if (!(error instanceof ObjectNotFoundError)) throw error;
    decide({ model: '', route: 'skipped', reason: `object is gone: ${error.message}` });
    return { key: record.key, route: 'skipped' };
  }
  const etag = record.etag ?? head.etag;
  const versionId = record.versionId ?? head.versionId;
  const keys = batchOutputKeys(settings.outputPrefix, { key: record.key, etag, versionId });
  let model: string;
  try {
    model = record.model ?? head.metadata.model ?? modelFromKey(record.key, settings.inputPrefix);
  } catch (error) {
    const manifest = await writeNoModelManifest(storage, keys.manifest, head, etag, versionId, (error as Error).message);
    decide({ model: '', route: 'single', reason: (error as Error).message });
    return { key: record.key, route: 'single', manifest };
  }
  const version = record.model !== undefined ? record.modelVersion : head.metadata['model-version'];
  const existing = await readManifest(storage, keys.manifest);
  if (existing) {
    decide({ model, route: 'duplicate', reason: `manifest already at ${keys.manifest} (${existing.status})` });
    return { key: record.key, route: 'duplicate', manifest: existing };
  }
  const request = { key: record.key, model, version, outputPrefix: settings.outputPrefix, etag, versionId };
  const runHere = async (reason: string, estimatedSeconds?: number, fallback?: string): Promise<S3ObjectOutcome> => {
    decide({ model, route: 'single', reason, estimatedSeconds, ...(fallback ? { fallback } : {}) });
    const deadline = performance.now() + Math.max(0, remainingMs() - Math.min(settings.shards.reserveMs, 10_000));
    const result = await scoreObject({ core, storage }, { ...request, deadline });
    return { key: record.key, route: result.duplicate ? 'duplicate' : 'single', manifest: result.manifest };
  };

  if (head.size <= settings.probeBytes) return runHere(`${head.size} bytes: no larger than the probe (${settings.probeBytes} bytes), scored here`);
  let format: InputFormat;
  let manifestModel: ManifestModel;
  try {
    format = detectInputFormat(record.key, head.contentType);
    manifestModel = core.registry.findReady(model, version).manifest;
  } catch {
    // The pipeline writes the failed manifest that says what is wrong (format, model).
    return runHere('the format or the model is refused; the pipeline writes the failed manifest');
  }

  const layout = await dataLayout(storage, head, format);
  const probeStarted = performance.now();
  const probe = await scoreObject({ core, storage, outputStorage: new DiscardingObjectStorage() }, {
    ...request, range: { start: 0, end: Math.max(layout.dataStart + 1, settings.probeBytes) }, firstRow: 0,
  });
  const probeSeconds = (performance.now() - probeStarted) / 1000;
  if (probe.manifest.status === 'failed' || probe.manifest.rows.in === 0) return runHere(`the probe did not score: ${probe.manifest.reason ?? 'no rows'}; scored here for its manifest`);
  const probeBytes = Math.min(head.size, settings.probeBytes) - layout.dataStart;
  const batch = Math.min(manifestModel.maxBatchSize, preferredBatchSize(manifestModel));
  const plan = planShards({
    objectBytes: head.size,
    format,
    dataStart: layout.dataStart,
    ...(layout.rowBytes !== undefined ? { npyRowBytes: layout.rowBytes } : {}),
    measuredRowsPerSecond: probe.manifest.rows.in / probeSeconds,
    measuredBytesPerRow: probeBytes / probe.manifest.rows.in,
    remainingMs: remainingMs(),
    gpuModel: manifestModel.routing?.preferRemoteAboveBatch !== undefined && batch >= manifestModel.routing.preferRemoteAboveBatch,
    gpuAvailable: dependencies.dispatch.runGpuTask !== undefined,
    settings: settings.shards,
  });
  const fallback = plan.fallback;
  if (plan.route === 'single') return runHere(plan.reason, plan.estimatedSeconds, fallback);

  const job: ShardJob = {
    bucket: record.bucket, key: record.key, etag, ...(versionId !== undefined ? { versionId } : {}), size: head.size, format, model,
    ...(version !== undefined ? { version } : {}), outputPrefix: settings.outputPrefix, shardCount: plan.route === 'sharded' ? plan.shards.length : 0,
    startedAt: new Date().toISOString(), plan: plan.reason,
  };
  if (plan.route === 'gpu-task') {
    const { task, started } = await dependencies.dispatch.runGpuTask!(job);
    decide({ model, route: started ? 'gpu-task' : 'duplicate', reason: plan.reason, estimatedSeconds: plan.estimatedSeconds });
    return { key: record.key, route: started ? 'gpu-task' : 'duplicate', execution: task };
  }
  const shardPlan = plan;
  const numbered: NumberedShard[] = layout.rowBytes !== undefined
    ? shardPlan.shards.map((shard) => ({ ...shard, firstRow: shard.firstRow ?? 0 }))
    : (await countShardRows(storage, head, shardPlan.shards)).map(({ rows: _rows, ...shard }) => shard);
  const shardsKey = shardsKeyOf(job);
  await storage.putIfAbsent(shardsKey, JSON.stringify(numbered), { contentType: 'application/json' });
  const shardedJob = { ...job, shardCount: numbered.length };
  const { started, execution } = await dependencies.dispatch.startShards({ bucket: record.bucket, shardsKey, job: shardedJob });
  decide({ model, route: started ? 'sharded' : 'duplicate', reason: shardPlan.reason, shards: numbered.length, estimatedSeconds: shardPlan.estimatedSeconds, ...(fallback ? { fallback } : {}) });
  return { key: record.key, route: started ? 'sharded' : 'duplicate', execution };
}

/** `input/iris-classifier/2026/data.csv` under `input/` names `iris-classifier`. */
export function modelFromKey(key: string, inputPrefix: string): string {
  const rest = key.slice(inputPrefix.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) {
    throw new InvalidRequestError(`object '${key}': no model named; put it under '${inputPrefix}<model>/' or set its 'model' metadata (x-amz-meta-model)`);
  }
  return rest.slice(0, slash);
}

/** Where the rows start (CSV: after the header line; NPY: after its header) and, for NPY, bytes per row. */
async function dataLayout(storage: ObjectStorage, head: ObjectHead, format: InputFormat): Promise<{ dataStart: number; rowBytes?: number }> {
  if (format !== 'csv' && format !== 'npy') return { dataStart: 0 };
  const bytes = await readHead(storage, head, 1 << 20);
  if (format === 'npy') {
    const layout = parseNpyHeader(bytes, head.key, head.size);
    return { dataStart: layout.dataStart, rowBytes: layout.columns * layout.itemBytes };
  }
  const newline = bytes.indexOf(0x0a);
  return { dataStart: newline < 0 ? head.size : newline + 1 };
}

async function readHead(storage: ObjectStorage, head: ObjectHead, bytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await storage.openRead(head.key, { range: { start: 0, end: bytes }, ifMatch: head.etag })) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A failed manifest for an object that names no model (the pipeline cannot start without one). */
async function writeNoModelManifest(storage: ObjectStorage, key: string, head: ObjectHead, etag: string, versionId: string | undefined, reason: string): Promise<BatchManifest> {
  const now = new Date().toISOString();
  const manifest: BatchManifest = {
    schemaVersion: 1, status: 'failed', reason, retryable: false,
    input: { key: head.key, etag, ...(versionId !== undefined ? { versionId } : {}), size: head.size },
    model: { name: '' }, rows: { in: 0, scored: 0, failed: 0 }, outputs: null,
    durationsMs: { read: 0, parse: 0, infer: 0, write: 0, total: 0 }, storage: storage.kind, startedAt: now, finishedAt: now,
  };
  const written = await storage.putIfAbsent(key, `${JSON.stringify(manifest, null, 2)}\n`, { contentType: 'application/json' });
  return written ? manifest : ((await readManifest(storage, key)) ?? manifest);
}
