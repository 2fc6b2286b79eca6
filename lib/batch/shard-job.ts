import { HotpathError } from '../errors/hotpath-error';
import type { InferenceCore } from '../serving/infer';
import type { BatchManifest } from './batch-manifest';
import { batchOutputKeys } from './batch-output-keys';
import type { InputFormat } from './input-format';
import type { ObjectStorage } from './object-storage';
import { assembleS3Object, type AssemblyPart } from './s3-part-assembly';
import type { S3ObjectStorage } from './s3-object-storage';
import { readManifest, scoreObject } from './score-object';
import type { PlannedShard } from './shard-planner';

/** The job every shard of one object shares: the state machine's `job` (and the shards' Map items' `job`). */
export interface ShardJob {
  readonly bucket: string;
  readonly key: string;
  readonly etag: string;
  readonly versionId?: string;
  readonly size: number;
  readonly format: InputFormat;
  readonly model: string;
  readonly version?: string;
  readonly outputPrefix: string;
  readonly shardCount: number;
  /** When the job was planned (ISO): the manifest's startedAt. */
  readonly startedAt: string;
  /** The planner's reason, kept for the logs of every step. */
  readonly plan: string;
}

/** A shard with its first row's global number (every shard of a job has one before it runs). */
export type NumberedShard = PlannedShard & { readonly firstRow: number };

/** The state machine's input: the shard list is an S3 object (Distributed Map's ItemReader), the job rides along. */
export interface ShardExecutionInput {
  readonly bucket: string;
  readonly shardsKey: string;
  readonly job: ShardJob;
}

/** What the worker answers (the Map keeps only `rows`). */
export interface ShardWorkerAnswer {
  readonly index: number;
  readonly rows: BatchManifest['rows'];
  readonly duplicate: boolean;
}

/** Where a job's shard list goes: beside the outputs, under the input's version folder. */
export function shardsKeyOf(job: Pick<ShardJob, 'outputPrefix' | 'key' | 'etag' | 'versionId'>): string {
  return `${batchOutputKeys(job.outputPrefix, job).folder}shards.json`;
}

/** A shard failed for good; the Map fails, and the failed-manifest step says which and why. */
export class ShardFailedError extends HotpathError {
  constructor(message: string, retryable: boolean) {
    super(message, { status: retryable ? 503 : 400, expose: true });
    this.name = retryable ? 'BatchShardRetryable' : 'BatchShardFailed';
  }
}

/**
 * The shard worker's core: scores the shard's byte range with the batch pipeline, outputs
 * under the job's `parts/<start>-<end>/`. A retried shard reruns over a failed part (the
 * part's manifest is removed first); a part that succeeded before is answered as it is.
 */
export async function scoreShard(
  dependencies: { core: InferenceCore; storage: ObjectStorage },
  job: ShardJob,
  shard: NumberedShard,
  deadline?: number,
): Promise<ShardWorkerAnswer> {
  const result = await scoreObject(dependencies, {
    key: job.key, model: job.model, version: job.version, outputPrefix: job.outputPrefix, etag: job.etag, versionId: job.versionId,
    range: { start: shard.start, end: shard.end }, firstRow: shard.firstRow, rerunFailed: true, deadline,
  });
  const { manifest } = result;
  // A part whose every row failed is a failed manifest with its row errors kept: the job joins those.
  const allRowsFailed = manifest.status === 'failed' && manifest.outputs !== null && manifest.rows.scored === 0 && manifest.rows.failed > 0;
  if (manifest.status === 'failed' && !allRowsFailed) {
    throw new ShardFailedError(`shard ${shard.index} (bytes ${shard.start}-${shard.end}) of '${job.key}': ${manifest.reason}`, manifest.retryable === true);
  }
  return { index: shard.index, rows: manifest.rows, duplicate: result.duplicate };
}

export interface AssemblyDependencies {
  readonly storage: S3ObjectStorage;
  /** The assembly's minimum part size; S3's 5 MiB unless a test's local server enforces less. */
  readonly minPartBytes?: number;
}

/**
 * The final step: reads the shard list and each part's manifest, joins the parts' scores and
 * row errors in shard order with server-side part copies (lib/batch/s3-part-assembly.ts), and
 * writes the job's manifest last with `putIfAbsent` (a second assembly of the same job finds
 * it and changes nothing). Rows and stage durations are the parts' sums; `total` is the job's
 * wall time from planning to now.
 */
export async function assembleShards(dependencies: AssemblyDependencies, job: ShardJob, shardsKey: string): Promise<BatchManifest> {
  const { storage } = dependencies;
  const keys = batchOutputKeys(job.outputPrefix, job);
  const existing = await readManifest(storage, keys.manifest);
  if (existing) return existing;
  const shards = await readShards(storage, shardsKey);
  const parts = await Promise.all(
    shards.map(async (shard) => {
      const partKeys = batchOutputKeys(job.outputPrefix, job, shard);
      const manifest = await readManifest(storage, partKeys.manifest);
      if (!manifest) throw new ShardFailedError(`shard ${shard.index} of '${job.key}' left no manifest at ${partKeys.manifest}`, true);
      return { shard, partKeys, manifest };
    }),
  );
  const rows = { in: 0, scored: 0, failed: 0 };
  const durations = { read: 0, parse: 0, infer: 0, write: 0 };
  const routes = new Set<string>();
  const scoreParts: AssemblyPart[] = [];
  const errorParts: AssemblyPart[] = [];
  for (const { partKeys, manifest } of parts) {
    rows.in += manifest.rows.in;
    rows.scored += manifest.rows.scored;
    rows.failed += manifest.rows.failed;
    for (const stage of ['read', 'parse', 'infer', 'write'] as const) durations[stage] += manifest.durationsMs[stage];
    for (const route of manifest.route?.split(',') ?? []) routes.add(route);
    if (manifest.outputs?.scores) scoreParts.push(await partOf(storage, manifest.outputs.scores));
    if (manifest.outputs?.rowErrors) errorParts.push(await partOf(storage, manifest.outputs.rowErrors));
  }
  const options = { contentType: 'application/x-ndjson', ...(dependencies.minPartBytes !== undefined ? { minPartBytes: dependencies.minPartBytes } : {}) };
  const first = parts[0]?.manifest;
  const base = {
    schemaVersion: 1 as const,
    input: { key: job.key, etag: job.etag, versionId: job.versionId, size: job.size, format: job.format },
    model: first?.model ?? { name: job.model, version: job.version },
    route: routes.size > 0 ? [...routes].join(',') : undefined,
    batchSize: first?.batchSize,
    rows,
    durationsMs: { ...durations, total: Date.now() - Date.parse(job.startedAt) },
    storage: storage.kind,
    startedAt: job.startedAt,
  };
  let manifest: BatchManifest;
  if (rows.in === 0) {
    manifest = { ...base, status: 'failed', reason: `object '${job.key}' is empty: the file has no rows`, retryable: false, outputs: null, finishedAt: new Date().toISOString() };
  } else {
    await assembleS3Object(storage.client, storage.bucket, keys.rowErrors, errorParts, options);
    if (rows.scored === 0) {
      manifest = { ...base, status: 'failed', reason: `none of the ${rows.failed} rows could be scored (all in ${keys.rowErrors})`, retryable: false, outputs: { rowErrors: keys.rowErrors }, finishedAt: new Date().toISOString() };
    } else {
      await assembleS3Object(storage.client, storage.bucket, keys.scores, scoreParts, options);
      manifest = { ...base, status: 'succeeded', outputs: { scores: keys.scores, rowErrors: keys.rowErrors }, finishedAt: new Date().toISOString() };
    }
  }
  const written = await storage.putIfAbsent(keys.manifest, `${JSON.stringify(manifest, null, 2)}\n`, { contentType: 'application/json' });
  return written ? manifest : ((await readManifest(storage, keys.manifest)) ?? manifest);
}

/**
 * The failure path: a failed manifest at the job's keys (unless a manifest is there already),
 * with the first failed shard's reason, or the state machine's error when no part says more.
 */
export async function failShards(storage: ObjectStorage, job: ShardJob, shardsKey: string, error: { Error?: string; Cause?: string } | undefined): Promise<BatchManifest> {
  const keys = batchOutputKeys(job.outputPrefix, job);
  const existing = await readManifest(storage, keys.manifest);
  if (existing) return existing;
  const shards = await readShards(storage, shardsKey).catch(() => [] as NumberedShard[]);
  const rows = { in: 0, scored: 0, failed: 0 };
  let reason: string | undefined;
  let retryable = true;
  for (const shard of shards) {
    const manifest = await readManifest(storage, batchOutputKeys(job.outputPrefix, job, shard).manifest);
    if (!manifest) continue;
    rows.in += manifest.rows.in;
    rows.scored += manifest.rows.scored;
    rows.failed += manifest.rows.failed;
    if (manifest.status === 'failed' && reason === undefined) {
      reason = `shard ${shard.index} (bytes ${shard.start}-${shard.end}): ${manifest.reason}`;
      retryable = manifest.retryable === true;
    }
  }
  const manifest: BatchManifest = {
    schemaVersion: 1,
    status: 'failed',
    reason: reason ?? `the shard state machine failed: ${describeStateError(error)}`,
    retryable,
    input: { key: job.key, etag: job.etag, versionId: job.versionId, size: job.size, format: job.format },
    model: { name: job.model, version: job.version },
    rows,
    outputs: null,
    durationsMs: { read: 0, parse: 0, infer: 0, write: 0, total: Date.now() - Date.parse(job.startedAt) },
    storage: storage.kind,
    startedAt: job.startedAt,
    finishedAt: new Date().toISOString(),
  };
  const written = await storage.putIfAbsent(keys.manifest, `${JSON.stringify(manifest, null, 2)}\n`, { contentType: 'application/json' });
  return written ? manifest : ((await readManifest(storage, keys.manifest)) ?? manifest);
}

async function readShards(storage: ObjectStorage, shardsKey: string): Promise<NumberedShard[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of await storage.openRead(shardsKey)) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as NumberedShard[];
}

async function partOf(storage: ObjectStorage, key: string): Promise<AssemblyPart> {
  const head = await storage.head(key);
  return { key, size: head.size, etag: head.etag };
}

/** Step Functions' `{Error, Cause}`; a Lambda error's Cause is its JSON `{errorType, errorMessage}`. */
function describeStateError(error: { Error?: string; Cause?: string } | undefined): string {
  if (!error) return 'no error was reported';
  try {
    const cause = JSON.parse(error.Cause ?? '') as { errorMessage?: string; errorType?: string };
    if (cause.errorMessage) return `${cause.errorType ?? error.Error}: ${cause.errorMessage}`;
  } catch {
    // not JSON: the cause as it is
  }
  return `${error.Error ?? 'error'}: ${error.Cause ?? ''}`.trim();
}
