import type { SQSRecord } from 'aws-lambda';
import { InvalidRequestError } from '../errors/hotpath-error';
import { decodeInferRequest } from '../protocol/infer-request-decoder';
import { encodeInferResponse } from '../protocol/infer-response-encoder';
import { infer, type InferenceCore } from '../serving/infer';
import type { ObjectStorage } from './object-storage';
import { s3ObjectEvents, scoreS3Records, type S3ObjectEvent, type S3ObjectOutcome, type S3ScoringDependencies } from './s3-event-scoring';

/**
 * One SQS message is one of:
 * - an inference request: an OIP infer request body (`inputs`, `outputs?`, `parameters?`, `id?`)
 *   with `model` (and `version?`) beside it; the answer (the OIP response JSON) goes to `output`
 *   (`s3://bucket/key`) or to `s3://<HOTPATH_BATCH_BUCKET>/<output prefix>sqs/<model>/<message id>.json`,
 *   written once (a redelivery finds it there and answers nothing new);
 * - a reference to an object: `{"bucket", "key", "model"?, "version"?}`, or an S3 event
 *   notification forwarded to the queue (`{"Records": [...]}`), scored as the S3 trigger does.
 */
export type SqsBatchMessage =
  | { readonly kind: 'infer'; readonly model: string; readonly version?: string; readonly body: Record<string, unknown>; readonly output?: { bucket: string; key: string } }
  | { readonly kind: 'objects'; readonly objects: readonly S3ObjectEvent[] };

export interface SqsScoringDependencies extends S3ScoringDependencies {
  readonly core: InferenceCore;
  /** Where inference answers go when a message names no `output`. */
  readonly answerBucket: string | undefined;
}

/** What one record came to: the answer's location, or the objects' outcomes. */
export type SqsRecordOutcome = { readonly kind: 'infer'; readonly output: string; readonly duplicate: boolean } | { readonly kind: 'objects'; readonly outcomes: readonly S3ObjectOutcome[] };

/** Reads a message body; a body that is neither kind is the sender's fault (400), and its record fails (and, after the receives, reaches the DLQ). */
export function parseSqsMessage(text: string): SqsBatchMessage {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new InvalidRequestError(`message body is not JSON: '${text.slice(0, 80)}'`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new InvalidRequestError('message body must be a JSON object: an infer request with "model", or an object reference');
  const message = json as Record<string, unknown>;
  if (Array.isArray(message.Records)) return { kind: 'objects', objects: s3ObjectEvents(message.Records as never) };
  if (typeof message.bucket === 'string' && typeof message.key === 'string') {
    return {
      kind: 'objects',
      objects: [{
        bucket: message.bucket, key: message.key, size: 0,
        ...(typeof message.model === 'string' ? { model: message.model } : {}),
        ...(typeof message.version === 'string' ? { modelVersion: message.version } : {}),
      }],
    };
  }
  if (typeof message.model !== 'string' || message.model === '') throw new InvalidRequestError('message body has no "model": an infer request names its model; an object reference has "bucket" and "key"');
  if (!Array.isArray(message.inputs)) throw new InvalidRequestError(`message for model '${message.model}' has no "inputs" array (an OIP infer request body)`);
  const { model, version, output, ...body } = message;
  return {
    kind: 'infer',
    model: message.model,
    ...(typeof version === 'string' ? { version } : {}),
    body,
    ...(typeof output === 'string' ? { output: parseS3Uri(output) } : {}),
  };
}

/**
 * Scores one SQS record. Throws when the record should be retried or dead-lettered (the batch
 * processor reports it in `batchItemFailures`); answers when it is done.
 */
export async function scoreSqsRecord(dependencies: SqsScoringDependencies, record: SQSRecord, remainingMs: () => number): Promise<SqsRecordOutcome> {
  const message = parseSqsMessage(record.body);
  if (message.kind === 'objects') {
    return { kind: 'objects', outcomes: await scoreS3Records(dependencies, message.objects, remainingMs) };
  }
  const target = message.output ?? defaultAnswerLocation(dependencies, message.model, record.messageId);
  const storage: ObjectStorage = dependencies.storageFor(target.bucket);
  const where = `s3://${target.bucket}/${target.key}`;
  if (await storage.exists(target.key)) return { kind: 'infer', output: where, duplicate: true };
  const request = decodeInferRequest(JSON.stringify(message.body), {});
  const answer = await infer(dependencies.core, {
    model: message.model, version: message.version, id: request.id, inputs: request.inputs, parameters: request.parameters,
    outputs: request.outputs?.map(({ name, parameters }) => ({ name, ...(parameters !== undefined ? { parameters } : {}) })),
    deadline: performance.now() + Math.max(0, remainingMs() - 5_000),
  });
  const encoded = encodeInferResponse({
    modelName: answer.model.manifest.name, modelVersion: answer.model.manifest.version, ...(request.id !== undefined ? { id: request.id } : {}),
    parameters: { route: answer.route, sqs_message_id: record.messageId }, outputs: answer.outputs, binaryOutputs: new Set(),
  });
  const written = await storage.putIfAbsent(target.key, encoded.body, { contentType: 'application/json' });
  return { kind: 'infer', output: where, duplicate: !written };
}

function defaultAnswerLocation(dependencies: SqsScoringDependencies, model: string, messageId: string): { bucket: string; key: string } {
  if (dependencies.answerBucket === undefined) throw new InvalidRequestError('message names no "output" and HOTPATH_BATCH_BUCKET is not set: say where the answer goes ("output": "s3://bucket/key.json")');
  return { bucket: dependencies.answerBucket, key: `${dependencies.settings.outputPrefix}sqs/${model}/${messageId}.json` };
}

function parseS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match) throw new InvalidRequestError(`"output": '${uri}' is not s3://bucket/key`);
  return { bucket: match[1]!, key: match[2]! };
}
