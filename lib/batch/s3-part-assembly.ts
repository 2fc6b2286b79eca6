import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { InvalidRequestError } from '../errors/hotpath-error';
import { S3_MIN_PART_BYTES, unquote } from './s3-object-storage';

/** S3's largest part, copied or uploaded. */
const S3_MAX_PART_BYTES = 5 * 1024 * 1024 * 1024;
/** S3's most parts per multipart upload. */
const S3_MAX_PARTS = 10_000;

/** One object to append, in order; `etag` (from the worker that wrote it) pins the copy to that version. */
export interface AssemblyPart {
  readonly key: string;
  readonly size: number;
  readonly etag?: string;
}

export interface AssemblyOptions {
  readonly contentType: string;
  readonly metadata?: Readonly<Record<string, string>>;
  /**
   * S3's minimum size of every part but the last: 5 MiB on S3. Only tests lower it, together
   * with the local server that enforces the same minimum.
   */
  readonly minPartBytes?: number;
}

/** What an assembly did: how much S3 copied itself and how much passed through this process. */
export interface AssemblyReport {
  readonly key: string;
  readonly bytes: number;
  readonly etag: string;
  /** UploadPartCopy calls (server-side copies, no data through the function). */
  readonly copiedParts: number;
  /** UploadPart calls: runs of parts under the minimum, read and joined here (each at most `minPartBytes`). */
  readonly uploadedParts: number;
  readonly bytesThroughProcess: number;
}

/**
 * Joins `parts` (objects in `bucket`, in order) into one object at `key` with one multipart
 * upload whose parts are server-side copies (UploadPartCopy with `CopySourceRange` and
 * `CopySourceIfMatch`): S3 moves the bytes, the function moves none. Every part but the last
 * must be at least 5 MiB, so pieces smaller than that (a short shard's scores, an errors
 * file) are read and joined here, up to 5 MiB at a time, with the head of the next piece when
 * needed; the shard planner sizes shards so that this stays the exception. On any failure the
 * multipart upload is aborted: nothing appears at `key`. An assembly of nothing writes an
 * empty object (a multipart upload needs one part at least).
 *
 * @example
 * await assembleS3Object(client, 'scores', 'out/data.csv/abc/scores.jsonl',
 *   [{ key: 'parts/0', size: 6e6, etag: 'e0' }, { key: 'parts/1', size: 4e6, etag: 'e1' }],
 *   { contentType: 'application/x-ndjson' });
 */
export async function assembleS3Object(
  client: S3Client,
  bucket: string,
  key: string,
  parts: readonly AssemblyPart[],
  options: AssemblyOptions,
): Promise<AssemblyReport> {
  const minPartBytes = options.minPartBytes ?? S3_MIN_PART_BYTES;
  if (!Number.isInteger(minPartBytes) || minPartBytes < 1) throw new InvalidRequestError(`assembly: 'minPartBytes' must be a positive integer, got ${minPartBytes}`);
  const total = parts.reduce((sum, part) => sum + part.size, 0);
  const common = { Bucket: bucket, Key: key, ContentType: options.contentType, ...(options.metadata !== undefined ? { Metadata: { ...options.metadata } } : {}) };
  if (total === 0) {
    const answer = await client.send(new PutObjectCommand({ ...common, Body: new Uint8Array(0) }));
    return { key, bytes: 0, etag: unquote(answer.ETag), copiedParts: 0, uploadedParts: 0, bytesThroughProcess: 0 };
  }

  const { UploadId: uploadId } = await client.send(new CreateMultipartUploadCommand(common));
  if (uploadId === undefined) throw new Error(`CreateMultipartUpload for s3://${bucket}/${key} answered no UploadId`);
  const completed: CompletedPart[] = [];
  let copiedParts = 0;
  let uploadedParts = 0;
  let bytesThroughProcess = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;

  const nextPartNumber = (): number => {
    const number = completed.length + 1;
    if (number > S3_MAX_PARTS) throw new InvalidRequestError(`assembly of s3://${bucket}/${key} needs more than ${S3_MAX_PARTS} parts; use fewer, larger shards`);
    return number;
  };
  const flushPending = async (): Promise<void> => {
    if (pendingBytes === 0) return;
    const PartNumber = nextPartNumber();
    const body = Buffer.concat(pending, pendingBytes);
    const answer = await client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber, Body: body }));
    completed.push({ PartNumber, ETag: answer.ETag });
    uploadedParts++;
    bytesThroughProcess += pendingBytes;
    pending = [];
    pendingBytes = 0;
  };
  const copyRange = async (part: AssemblyPart, start: number, end: number): Promise<void> => {
    const PartNumber = nextPartNumber();
    const answer = await client.send(
      new UploadPartCopyCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        PartNumber,
        CopySource: `${bucket}/${encodeCopySourceKey(part.key)}`,
        CopySourceRange: `bytes=${start}-${end - 1}`,
        ...(part.etag !== undefined ? { CopySourceIfMatch: `"${part.etag}"` } : {}),
      }),
    );
    completed.push({ PartNumber, ETag: answer.CopyPartResult?.ETag });
    copiedParts++;
  };
  const readRange = async (part: AssemblyPart, start: number, end: number): Promise<void> => {
    const answer = await client.send(
      new GetObjectCommand({ Bucket: bucket, Key: part.key, Range: `bytes=${start}-${end - 1}`, ...(part.etag !== undefined ? { IfMatch: `"${part.etag}"` } : {}) }),
    );
    const bytes = Buffer.from(await answer.Body!.transformToByteArray());
    if (bytes.byteLength !== end - start) throw new Error(`s3://${bucket}/${part.key}: asked bytes ${start}-${end - 1}, got ${bytes.byteLength} bytes; the part changed or is shorter than listed`);
    pending.push(bytes);
    pendingBytes += bytes.byteLength;
  };

  try {
    for (const part of parts) {
      let offset = 0;
      while (offset < part.size) {
        const remaining = part.size - offset;
        if (pendingBytes === 0 && remaining >= minPartBytes) {
          // A server-side copy; pieces over S3's 5 GiB part limit go in several.
          const end = offset + Math.min(remaining, S3_MAX_PART_BYTES);
          await copyRange(part, offset, end);
          offset = end;
          continue;
        }
        // Top the pending run up to the minimum from this piece, and send it when full.
        const take = Math.min(remaining, minPartBytes - pendingBytes);
        await readRange(part, offset, offset + take);
        offset += take;
        if (pendingBytes >= minPartBytes) await flushPending();
      }
    }
    await flushPending();
    const answer = await client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: completed } }));
    return { key, bytes: total, etag: unquote(answer.ETag), copiedParts, uploadedParts, bytesThroughProcess };
  } catch (error) {
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
    throw error;
  }
}

/** `CopySource` is `bucket/key` with the key URL-encoded, `/` kept. */
function encodeCopySourceKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}
