import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3ServiceException,
  paginateListObjectsV2,
  type GetObjectCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { PassThrough, Readable } from 'node:stream';
import { InvalidRequestError } from '../errors/hotpath-error';
import { ObjectChangedError, ObjectNotFoundError } from './batch-errors';
import type { ObjectHead, ObjectStorage, ObjectSummary, ObjectWriter, OpenReadOptions, OpenWriteOptions } from './object-storage';

/** S3's smallest part (all but the last part of a multipart upload), and lib-storage's default part size. */
export const S3_MIN_PART_BYTES = 5 * 1024 * 1024;

/**
 * S3 answers a conditional write with 409 ConditionalRequestConflict while another conditional
 * write to the same key is in flight; it asks for a retry, which then gets 412 if that write won.
 */
const CONDITIONAL_CONFLICT_RETRIES = 5;
const CONDITIONAL_CONFLICT_BACKOFF_MS = 50;

export interface S3ObjectStorageOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /** Multipart part size for `openWrite`; at least 5 MiB (S3's minimum). Default 8 MiB. */
  readonly partBytes?: number;
  /**
   * Parts uploaded at once by `openWrite`. Memory held by one write is at most
   * `queueSize x partBytes` (lib-storage buffers each part). Default 2: one part in flight
   * while the next fills.
   */
  readonly queueSize?: number;
}

/**
 * `ObjectStorage` on one S3 bucket (AWS SDK v3): `openRead` is a (ranged) GetObject streamed
 * as it arrives, `openWrite` a multipart upload through `@aws-sdk/lib-storage`'s `Upload`
 * (aborted on failure: S3 shows the object only at CompleteMultipartUpload), `putIfAbsent` a
 * PutObject with `If-None-Match: *` (S3's conditional write: 412 means the key was taken).
 *
 * ETags are compared twice on a pinned read: S3 checks `If-Match` itself (412), and the ETag
 * of the answer is compared too, for servers that ignore the header (s3rver 3.7.1 does).
 *
 * @example
 * const storage = new S3ObjectStorage({ client: new S3Client({}), bucket: 'scores' });
 * const head = await storage.head('input/iris/data.csv');
 * const body = await storage.openRead(head.key, { range: { start: 0, end: 1 << 20 }, ifMatch: head.etag });
 */
export class S3ObjectStorage implements ObjectStorage {
  readonly kind = 's3';
  readonly bucket: string;
  readonly client: S3Client;
  private readonly partBytes: number;
  private readonly queueSize: number;

  constructor(options: S3ObjectStorageOptions) {
    if (options.bucket === '') throw new InvalidRequestError("S3 storage: 'bucket' cannot be empty");
    const partBytes = options.partBytes ?? 8 * 1024 * 1024;
    if (!Number.isInteger(partBytes) || partBytes < S3_MIN_PART_BYTES) {
      throw new InvalidRequestError(`S3 storage: 'partBytes' must be an integer of at least ${S3_MIN_PART_BYTES} (5 MiB, S3's minimum part), got ${partBytes}`);
    }
    this.client = options.client;
    this.bucket = options.bucket;
    this.partBytes = partBytes;
    this.queueSize = options.queueSize ?? 2;
  }

  async head(key: string): Promise<ObjectHead> {
    checkKey(key);
    try {
      const answer = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return {
        key,
        size: answer.ContentLength ?? 0,
        etag: unquote(answer.ETag),
        ...(answer.VersionId !== undefined && answer.VersionId !== 'null' ? { versionId: answer.VersionId } : {}),
        ...(answer.ContentType !== undefined ? { contentType: answer.ContentType } : {}),
        metadata: lowerCaseKeys(answer.Metadata ?? {}),
        ...(answer.LastModified !== undefined ? { lastModified: answer.LastModified } : {}),
      };
    } catch (error) {
      if (isStatus(error, 404)) throw new ObjectNotFoundError(key);
      throw error;
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.head(key);
      return true;
    } catch (error) {
      if (error instanceof ObjectNotFoundError) return false;
      throw error;
    }
  }

  async openRead(key: string, options: OpenReadOptions = {}): Promise<Readable> {
    checkKey(key);
    const { range, ifMatch, versionId } = options;
    if (range !== undefined && range.end <= range.start) return emptyStream();
    let answer: GetObjectCommandOutput;
    try {
      answer = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          ...(range !== undefined ? { Range: `bytes=${range.start}-${range.end - 1}` } : {}),
          ...(ifMatch !== undefined ? { IfMatch: quote(ifMatch) } : {}),
          ...(versionId !== undefined ? { VersionId: versionId } : {}),
        }),
      );
    } catch (error) {
      if (isStatus(error, 404)) throw new ObjectNotFoundError(key);
      if (isStatus(error, 412) && ifMatch !== undefined) throw new ObjectChangedError(key, ifMatch, await this.currentEtag(key));
      // A range starting at or past the end (an empty object included): no bytes, as the interface says.
      if (isStatus(error, 416)) return emptyStream();
      throw error;
    }
    const body = answer.Body as Readable | undefined;
    const found = unquote(answer.ETag);
    if (ifMatch !== undefined && found !== '' && found !== ifMatch) {
      body?.destroy();
      throw new ObjectChangedError(key, ifMatch, found);
    }
    return body ?? emptyStream();
  }

  openWrite(key: string, options: OpenWriteOptions): ObjectWriter {
    checkKey(key);
    const stream = new PassThrough({ highWaterMark: 1 << 20 });
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.bucket,
        Key: key,
        Body: stream,
        ContentType: options.contentType,
        ...(options.metadata !== undefined ? { Metadata: { ...options.metadata } } : {}),
      },
      partSize: this.partBytes,
      queueSize: this.queueSize,
      leavePartsOnError: false,
    });
    let aborted: Error | undefined;
    const done = upload.done().then(
      () => undefined,
      (error: unknown) => {
        throw aborted ?? error;
      },
    );
    // A caller that aborts reads the reason from abort(); keep an unobserved `done` from crashing the process.
    done.catch(() => undefined);
    stream.once('error', (error) => {
      aborted ??= error;
      void upload.abort();
    });
    const abort = async (reason?: Error): Promise<void> => {
      aborted ??= reason ?? new Error(`write of s3://${this.bucket}/${key} was aborted`);
      await upload.abort();
      // Ends lib-storage's reader of the body, so its part uploaders stop.
      if (!stream.destroyed) stream.destroy(aborted);
      await done.catch(() => undefined);
      // lib-storage aborts its multipart upload once its uploaders stop; doing it here too means
      // the parts are gone when abort() resolves (a second abort answers NoSuchUpload: ignored).
      if (upload.uploadId !== undefined) {
        await this.client
          .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: upload.uploadId }))
          .catch(() => undefined);
      }
    };
    return { stream, done, abort };
  }

  async putIfAbsent(key: string, body: string | Uint8Array, options: OpenWriteOptions): Promise<boolean> {
    checkKey(key);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Body: body,
            ContentType: options.contentType,
            IfNoneMatch: '*',
            ...(options.metadata !== undefined ? { Metadata: { ...options.metadata } } : {}),
          }),
        );
        return true;
      } catch (error) {
        if (isStatus(error, 412)) return false;
        if (isStatus(error, 409) && attempt < CONDITIONAL_CONFLICT_RETRIES) {
          await new Promise((resolve) => setTimeout(resolve, CONDITIONAL_CONFLICT_BACKOFF_MS * 2 ** attempt));
          continue;
        }
        throw error;
      }
    }
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async *list(prefix: string): AsyncIterable<ObjectSummary> {
    for await (const page of paginateListObjectsV2({ client: this.client }, { Bucket: this.bucket, Prefix: prefix })) {
      for (const item of page.Contents ?? []) {
        if (item.Key === undefined) continue;
        yield {
          key: item.Key,
          size: item.Size ?? 0,
          ...(item.ETag !== undefined ? { etag: unquote(item.ETag) } : {}),
          ...(item.LastModified !== undefined ? { lastModified: item.LastModified } : {}),
        };
      }
    }
  }

  private async currentEtag(key: string): Promise<string> {
    try {
      return (await this.head(key)).etag;
    } catch (error) {
      if (error instanceof ObjectNotFoundError) return 'none (deleted)';
      throw error;
    }
  }
}

/** Whether an SDK error carries this HTTP status. */
export function isStatus(error: unknown, status: number): boolean {
  if (error instanceof S3ServiceException || (typeof error === 'object' && error !== null && '$metadata' in error)) {
    return (error as S3ServiceException).$metadata?.httpStatusCode === status;
  }
  return false;
}

function checkKey(key: string): void {
  if (key === '' || key.startsWith('/')) {
    throw new InvalidRequestError(`S3 key '${key}' is not valid: keys are non-empty and have no leading '/'`);
  }
  // S3 allows 1,024 bytes of UTF-8 per key.
  if (Buffer.byteLength(key, 'utf8') > 1024) {
    throw new InvalidRequestError(`S3 key '${key.slice(0, 64)}...' is ${Buffer.byteLength(key, 'utf8')} bytes of UTF-8, over S3's 1,024`);
  }
}

/** S3 answers ETags in double quotes; the interface keeps them bare. */
export function unquote(etag: string | undefined): string {
  return etag === undefined ? '' : etag.replace(/^"(.*)"$/, '$1');
}

function quote(etag: string): string {
  return etag.startsWith('"') ? etag : `"${etag}"`;
}

function lowerCaseKeys(metadata: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata).map(([name, value]) => [name.toLowerCase(), value]));
}

function emptyStream(): Readable {
  return Readable.from([]);
}
