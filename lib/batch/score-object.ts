import { HotpathError } from '../errors/hotpath-error';
import type { ManifestModel } from '../models/model-manifest-types';
import { infer, type InferenceCore } from '../serving/infer';
import { BatchInputError, ObjectNotFoundError } from './batch-errors';
import type { BatchManifest } from './batch-manifest';
import { batchModelInput, preferredBatchSize, type BatchModelInput } from './batch-model-input';
import { batchOutputKeys, type BatchOutputKeys } from './batch-output-keys';
import { readCsvRows } from './csv-rows';
import { readImageRows } from './image-rows';
import { detectInputFormat, type InputFormat } from './input-format';
import type { InputSource } from './input-source';
import { readJsonlRows } from './jsonl-rows';
import { readNpyRows } from './npy-rows';
import type { ByteRange, ObjectHead, ObjectStorage } from './object-storage';
import { OutputWriter } from './output-writer';
import { newStageDurations, type RowBatch, type RowFailure, type StageDurations } from './row-batch';
import { sharedScoreLineEncoding, type ScoreLineEncoding } from './score-line-worker';
import { encodeFailureLines, encodeScoreLines } from './score-lines';

/**
 * Batches whose score lines may be in the encoder at once (ahead of the write, in row order): the
 * pipeline's thread parses and infers on while they are encoded; memory stays bounded.
 */
const ENCODES_IN_FLIGHT = 8;

/** One object (or one shard of it) to score. */
export interface ScoreObjectRequest {
  readonly key: string;
  readonly model: string;
  readonly version?: string;
  /** Outputs go under `<outputPrefix>/<key>/<version or etag>/` (see batchOutputKeys). */
  readonly outputPrefix: string;
  /** The ETag and version the event reported; the run reads that version (a newer one fails the run with 412). Absent: what `head` answers now. */
  readonly etag?: string;
  readonly versionId?: string;
  /** A shard: the bytes `[start, end)`, owning the rows whose first byte is in it; outputs under `parts/<start>-<end>/`. */
  readonly range?: ByteRange;
  /** The shard's first global row number (from rowBoundaries); absent: counted by the reader. */
  readonly firstRow?: number;
  /** Rows per inference; default the model's preferred batch size, at most its max batch size. */
  readonly batchSize?: number;
  /** CSV: the id column's name (default `id`). */
  readonly idColumn?: string;
  /** A failed manifest already at the keys is removed and the object scored again (operator reruns; not for automatic retries). */
  readonly rerunFailed?: boolean;
  /** Absolute deadline on the performance.now() clock (ms); past it the run fails (retryable) with a manifest saying so. */
  readonly deadline?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: BatchProgress) => void;
}

export interface BatchProgress {
  readonly bytesRead: number;
  /** The bytes this run reads (the object's size, or the shard's range). */
  readonly bytesTotal: number;
  readonly rowsScored: number;
  readonly rowsFailed: number;
}

export interface ScoreObjectDependencies {
  readonly core: InferenceCore;
  /** Where the input is read. */
  readonly storage: ObjectStorage;
  /** Where outputs are written; default the input's storage. */
  readonly outputStorage?: ObjectStorage;
}

export interface ScoreObjectResult {
  readonly manifest: BatchManifest;
  readonly keys: BatchOutputKeys;
  /** True when the manifest was already there (a redelivery, or a concurrent run that finished first): nothing was written by this call. */
  readonly duplicate: boolean;
}

/**
 * The batch pipeline: reads the object as a stream, parses it incrementally by its format,
 * scores batches of the model's preferred size through the one core `infer()` while the next
 * batch is read, and streams the scores (JSONL, one line per scored row, in row order) and the
 * row errors to their output objects; last, the manifest, with `putIfAbsent`. Idempotent by key:
 * outputs derive from the input key and version, and a manifest already there is answered
 * without scoring again. Any failure ends in a failed manifest saying why (never a throw), so a
 * caller always finds out what happened where the outputs would be.
 *
 * @example
 * const { manifest } = await scoreObject({ core: runtime, storage: new FilesystemObjectStorage('.') },
 *   { key: 'data/iris.csv', model: 'iris-classifier', outputPrefix: 'scored' });
 * manifest.rows; // { in: 150, scored: 150, failed: 0 }
 */
export async function scoreObject(dependencies: ScoreObjectDependencies, request: ScoreObjectRequest): Promise<ScoreObjectResult> {
  const { storage, core } = dependencies;
  const outputs = dependencies.outputStorage ?? storage;
  const started = performance.now();
  const startedAt = new Date();
  // The readers' own figures (parse is exact: synchronous sections); the pipeline's split is net
  // of parsing that ran during its other waits, so read + parse + infer + write add up to about the total.
  const readerDurations = newStageDurations();
  const durations = newStageDurations();
  const elsewhere = newStageDurations();
  /** Runs `step`, adding its wall time less the parsing that ran meanwhile to `stage`. */
  const timed = async <T>(stage: 'read' | 'infer' | 'write', step: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const parsed = readerDurations.parse;
    try {
      return await step();
    } finally {
      durations[stage] += performance.now() - started - (readerDurations.parse - parsed);
    }
  };
  const counts = { scored: 0, failed: 0 };
  const routes = new Set<string>();
  let head: ObjectHead | undefined;
  let format: InputFormat | undefined;
  let model: ManifestModel | undefined;
  let batchSize: number | undefined;
  let keepErrors = false;
  const writers: OutputWriter[] = [];
  // Through JSON: the manifest returned is the one a later run reads back (no undefined fields).
  const manifestOf = (fields: Pick<BatchManifest, 'status' | 'reason' | 'retryable' | 'outputs'>): BatchManifest => JSON.parse(JSON.stringify({
    schemaVersion: 1,
    status: fields.status,
    ...(fields.reason === undefined ? {} : { reason: fields.reason, retryable: fields.retryable }),
    input: {
      key: request.key,
      etag: head?.etag ?? request.etag,
      versionId: head?.versionId ?? request.versionId,
      size: head?.size,
      format,
      range: request.range,
      firstRow: request.range ? request.firstRow : undefined,
    },
    model: { name: request.model, version: model?.version ?? request.version },
    route: routes.size > 0 ? [...routes].join(',') : undefined,
    batchSize,
    rows: { in: counts.scored + counts.failed, scored: counts.scored, failed: counts.failed },
    outputs: fields.outputs,
    durationsMs: { ...roundDurations({ ...durations, parse: readerDurations.parse }), total: round(performance.now() - started) },
    storage: storage.kind,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
  })) as BatchManifest;
  const fallbackKeys = batchOutputKeys(request.outputPrefix, { key: request.key, etag: request.etag ?? 'unknown', versionId: request.versionId }, request.range);
  let keys = fallbackKeys;
  try {
    head = await storage.head(request.key);
    if (request.etag !== undefined && request.versionId === undefined && request.etag !== head.etag) {
      head = { ...head, etag: request.etag }; // read pinned to the event's version: a newer object fails the read with 412
    }
    keys = batchOutputKeys(request.outputPrefix, head, request.range);
    const existing = await readManifest(outputs, keys.manifest);
    if (existing && existing.model.name !== request.model) {
      // Not written (the key holds the other model's manifest): the caller is told, nothing is overwritten.
      const reason = `outputs at '${keys.folder}' are model '${existing.model.name}''s; score model '${request.model}' into another output prefix`;
      return { manifest: manifestOf({ status: 'failed', reason, retryable: false, outputs: null }), keys, duplicate: false };
    }
    if (existing && !(request.rerunFailed && existing.status === 'failed')) return { manifest: existing, keys, duplicate: true };
    if (existing) await outputs.delete(keys.manifest);
    format = detectInputFormat(request.key, head.contentType);
    const ready = core.registry.findReady(request.model, request.version);
    model = ready.manifest;
    const input = batchModelInput(model, format);
    batchSize = Math.min(model.maxBatchSize, request.batchSize ?? preferredBatchSize(model));
    const progress = { bytesRead: 0 };
    const source: InputSource = { storage, head, range: request.range, firstRow: request.firstRow, durations: readerDurations, progress };
    const scores = new OutputWriter(outputs, keys.scores, 'application/x-ndjson', elsewhere);
    const rowErrors = new OutputWriter(outputs, keys.rowErrors, 'application/x-ndjson', elsewhere);
    writers.push(scores, rowErrors);
    const bytesTotal = request.range ? Math.max(0, Math.min(head.size, request.range.end) - request.range.start) : head.size;
    const batches = readRows(source, format, input, batchSize, request.idColumn);
    let firstFailure: RowFailure | undefined;
    const encoding = sharedScoreLineEncoding();
    // Each batch's lines (encoding) and row errors, written in row order as the lines come back.
    const queued: Array<{ lines: Promise<string | Uint8Array> | string; errors: string }> = [];
    const writeOldest = async () => {
      const { lines, errors } = queued.shift()!;
      const text = await lines;
      await Promise.all([scores.write(text), rowErrors.write(errors)]);
    };
    // One batch read ahead: the reader parses the next batch while this one is in inference or being written.
    let next = batches.next();
    for (;;) {
      const result = await timed('read', () => next);
      if (result.done) break;
      next = batches.next();
      next.catch(() => undefined); // rethrown at the next await; only unhandled-rejection noise is silenced
      const batch = result.value;
      const failures: RowFailure[] = [...batch.failures];
      const scored = batch.rows.length === 0 ? { lines: '' } : await scoreBatch(core, encoding, request, model, input, batch, timed, durations, routes, failures);
      counts.scored += batch.rows.length - (failures.length - batch.failures.length);
      counts.failed += failures.length;
      firstFailure ??= failures.sort((a, b) => a.row - b.row)[0];
      if (typeof scored.lines !== 'string') scored.lines.catch(() => undefined); // awaited in writeOldest; a failure there fails the run
      queued.push({ lines: scored.lines, errors: encodeFailureLines(failures.sort((a, b) => a.row - b.row)) });
      while (queued.length > ENCODES_IN_FLIGHT) await timed('write', writeOldest);
      request.onProgress?.({ bytesRead: progress.bytesRead, bytesTotal, rowsScored: counts.scored, rowsFailed: counts.failed });
      if (request.signal?.aborted) throw new HotpathError('the run was cancelled', { status: 499, expose: true });
    }
    while (queued.length > 0) await timed('write', writeOldest);
    if (counts.scored + counts.failed === 0) {
      const what = request.range ? `no rows start in bytes [${request.range.start}, ${request.range.end})` : 'the file has no rows';
      if (!request.range) throw new BatchInputError(`object '${request.key}' is empty: ${what}`);
      await timed('write', () => Promise.all([scores.finish(), rowErrors.finish()]));
      return await writeManifest(outputs, keys, manifestOf({ status: 'succeeded', outputs: { scores: keys.scores, rowErrors: keys.rowErrors } }));
    }
    await timed('write', () => Promise.all([scores.finish(), rowErrors.finish()]));
    if (counts.scored === 0) {
      keepErrors = true;
      const reason = `none of the ${counts.failed} rows could be scored; the first, row ${firstFailure!.row}: ${firstFailure!.reason} (all in ${keys.rowErrors})`;
      return await writeManifest(outputs, keys, manifestOf({ status: 'failed', reason, retryable: false, outputs: { rowErrors: keys.rowErrors } }));
    }
    return await writeManifest(outputs, keys, manifestOf({ status: 'succeeded', outputs: { scores: keys.scores, rowErrors: keys.rowErrors } }));
  } catch (error) {
    if (!keepErrors) await Promise.all(writers.map((writer) => writer.abort(error instanceof Error ? error : new Error(String(error))).catch(() => undefined)));
    const reason = error instanceof HotpathError && error.expose ? error.message : `internal error: ${error instanceof Error ? error.message : String(error)}`;
    // The input's faults (4xx: format, model, header, a changed or missing object) fail the same way every time; the rest may pass later.
    const retryable = !(error instanceof HotpathError) || error.status >= 500 || error.status === 499;
    return await writeManifest(outputs, keys, manifestOf({ status: 'failed', reason, retryable, outputs: null })).catch((writeError: unknown) => {
      throw new AggregateError([error, writeError], `batch run of '${request.key}' failed (${reason}) and its failed manifest could not be written`);
    });
  }
}

/** The reader for a format: batches of parsed rows (used by the pipeline, and alone by the benchmark). */
export function readRows(source: InputSource, format: InputFormat, input: BatchModelInput, batchSize: number, idColumn?: string): AsyncGenerator<RowBatch> {
  if (input.kind === 'image') return readImageRows(source, input, format as 'png' | 'jpeg');
  switch (format) {
    case 'csv':
      return readCsvRows(source, input, batchSize, { idColumn });
    case 'jsonl':
      return readJsonlRows(source, input, batchSize);
    default:
      return readNpyRows(source, input, batchSize);
  }
}

/**
 * Infers one batch and answers its score lines (being encoded, or encoded here). A batch the model refuses (a 400: the input's
 * fault) is tried row by row, so only the rows it refuses fail; other errors fail the run.
 */
async function scoreBatch(
  core: InferenceCore, encoding: ScoreLineEncoding, request: ScoreObjectRequest, model: ManifestModel, input: BatchModelInput, batch: RowBatch,
  timed: <T>(stage: 'infer', step: () => Promise<T>) => Promise<T>, durations: StageDurations, routes: Set<string>, failures: RowFailure[],
): Promise<{ lines: Promise<string | Uint8Array> | string }> {
  const run = (rows: readonly number[], values: Float32Array) => timed('infer', () => infer(core, {
    model: model.name, version: model.version, deadline: request.deadline, signal: request.signal,
    inputs: [{ name: input.name, datatype: 'FP32', shape: [rows.length, ...batch.rowShape], data: values }],
  }));
  try {
    const answer = await run(batch.rows, batch.values);
    routes.add(answer.route);
    const started = performance.now();
    const lines = encoding.encode(batch.rows, batch.ids, answer.outputs);
    durations.write += performance.now() - started;
    return { lines };
  } catch (error) {
    if (!(error instanceof HotpathError && error.status === 400) || batch.rows.length === 1) {
      if (error instanceof HotpathError && error.status === 400) {
        failures.push({ row: batch.rows[0]!, reason: error.message });
        return { lines: '' };
      }
      throw error;
    }
  }
  const per = batch.values.length / batch.rows.length;
  let text = '';
  for (let i = 0; i < batch.rows.length; i++) {
    const row = batch.rows[i]!;
    try {
      const answer = await run([row], batch.values.subarray(i * per, (i + 1) * per));
      routes.add(answer.route);
      text += encodeScoreLines([row], batch.ids ? [batch.ids[i]] : undefined, answer.outputs);
    } catch (error) {
      if (!(error instanceof HotpathError && error.status === 400)) throw error;
      failures.push({ row, reason: error.message });
    }
  }
  return { lines: text };
}

async function writeManifest(storage: ObjectStorage, keys: BatchOutputKeys, manifest: BatchManifest): Promise<ScoreObjectResult> {
  const written = await storage.putIfAbsent(keys.manifest, `${JSON.stringify(manifest, null, 2)}\n`, { contentType: 'application/json' });
  if (written) return { manifest, keys, duplicate: false };
  // Another run of the same input and version finished first; its outputs are the same bytes, its manifest stands.
  const winner = await readManifest(storage, keys.manifest);
  return { manifest: winner ?? manifest, keys, duplicate: true };
}

/** The manifest at `key`, or undefined where there is none. */
export async function readManifest(storage: ObjectStorage, key: string): Promise<BatchManifest | undefined> {
  try {
    const parts: Buffer[] = [];
    for await (const chunk of await storage.openRead(key)) parts.push(chunk as Buffer);
    return JSON.parse(Buffer.concat(parts).toString('utf8')) as BatchManifest;
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return undefined;
    throw error;
  }
}

function roundDurations(durations: StageDurations): StageDurations {
  return { read: round(durations.read), parse: round(durations.parse), infer: round(durations.infer), write: round(durations.write) };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
