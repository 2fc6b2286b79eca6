import type { Readable, Writable } from 'node:stream';

/**
 * The storage batch scoring reads inputs from and writes outputs to. Two implementations:
 * the filesystem (`filesystem-object-storage.ts`, for `npm run score` and tests) and S3
 * (`s3-object-storage.ts`). The pipeline knows nothing else about where bytes live.
 *
 * Keys are `/`-separated, without a leading `/` (S3's convention); `a/b.csv` on the
 * filesystem backend is `<root>/a/b.csv`. Keys that would leave the root (`..`) are refused.
 *
 * Errors: a missing object is an `ObjectNotFoundError` (404), a version or ETag that no longer
 * matches is an `ObjectChangedError` (412), a key the backend cannot hold is an
 * `InvalidRequestError` (400), all from `batch-errors.ts`. Anything else (I/O, network,
 * throttling) is passed through with its cause.
 */
export interface ObjectStorage {
  /** Short name for logs and manifests: `filesystem`, `s3`. */
  readonly kind: string;

  /**
   * The object's facts, without its body. Throws `ObjectNotFoundError` when absent.
   * `etag` identifies the content (S3: the ETag without quotes; filesystem: a digest of size,
   * mtime and inode, so it changes when the file is rewritten); `versionId` only where the
   * backend versions objects (S3 with versioning on).
   */
  head(key: string): Promise<ObjectHead>;

  /** Whether the object exists (a `head` that answers false instead of throwing on 404). */
  exists(key: string): Promise<boolean>;

  /**
   * A stream of the object's bytes, or of `range` of them. Resolves once the object is open
   * (a missing object rejects here with `ObjectNotFoundError`, not later on the stream); read
   * errors after that arrive as the stream's `error` event.
   *
   * `range` is half-open `[start, end)` in bytes; `end` past the size is clamped to the size
   * and `start >= size` gives an empty stream (S3's `Range: bytes=start-(end-1)`).
   * `ifMatch` pins the read to one version of the object: when the object's ETag (or, when
   * `versionId` is given, that version) is no longer what the caller saw in `head`, the open
   * rejects with `ObjectChangedError`, so a run never mixes two versions of an input.
   */
  openRead(key: string, options?: OpenReadOptions): Promise<Readable>;

  /**
   * Writes an object as a stream (S3: a multipart upload, `@aws-sdk/lib-storage`'s `Upload`;
   * filesystem: a temporary file in the same folder, renamed on completion). The object
   * appears at `key` whole, atomically, when `done` resolves, replacing any object there;
   * until then readers see the previous object or none. Ending `stream` completes the write.
   * `abort(reason)` (or the stream erroring) cancels it: nothing appears at `key`, the
   * multipart upload or temporary file is removed, and `done` rejects with the reason.
   * Backpressure is the stream's: honour `write()` returning false.
   */
  openWrite(key: string, options: OpenWriteOptions): ObjectWriter;

  /**
   * Writes a small object only when no object exists at `key`: resolves true when this call
   * created it, false when one was already there (left untouched). Atomic: of concurrent
   * callers, exactly one gets true, and readers never see a partial body (S3: `PutObject` with
   * `If-None-Match: *`, a 412 answer meaning false; filesystem: a temporary file hard-linked to
   * `key`, EEXIST meaning false). The manifest is written with this, last.
   */
  putIfAbsent(key: string, body: string | Uint8Array, options: OpenWriteOptions): Promise<boolean>;

  /** Removes the object; removing an absent object is not an error (S3's `DeleteObject`). */
  delete(key: string): Promise<void>;

  /**
   * The objects whose keys start with `prefix` (a plain string prefix, as S3's; `out/` lists
   * everything below `out/`), in ascending key order (UTF-8 byte order, as S3's
   * ListObjectsV2), paged by the backend as it likes.
   */
  list(prefix: string): AsyncIterable<ObjectSummary>;
}

/** What `head` answers. */
export interface ObjectHead {
  readonly key: string;
  /** Bytes. */
  readonly size: number;
  /** Identifies the content; unquoted. */
  readonly etag: string;
  /** Only where the backend versions objects. */
  readonly versionId?: string;
  /** As stored with the object (S3's Content-Type); the filesystem backend stores none. */
  readonly contentType?: string;
  /** User metadata (S3's `x-amz-meta-*`, keys lower-case without the prefix); `{}` when none. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly lastModified?: Date;
}

/** Half-open byte range `[start, end)`. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export interface OpenReadOptions {
  readonly range?: ByteRange;
  /** The ETag seen in `head`; a mismatch rejects with `ObjectChangedError`. */
  readonly ifMatch?: string;
  /** The version seen in `head` (S3 `VersionId`); read that version. */
  readonly versionId?: string;
}

export interface OpenWriteOptions {
  readonly contentType: string;
  /** User metadata stored with the object where the backend keeps it (S3); ignored by the filesystem backend. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** A write in progress; see `ObjectStorage.openWrite`. */
export interface ObjectWriter {
  readonly stream: Writable;
  /** Resolves when the object is in place at its key; rejects when the write failed or was aborted. */
  readonly done: Promise<void>;
  /** Cancels the write; nothing appears at the key. Resolves once the partial upload or temporary file is gone. */
  abort(reason?: Error): Promise<void>;
}

/** One entry of `list`. */
export interface ObjectSummary {
  readonly key: string;
  readonly size: number;
  readonly etag?: string;
  readonly lastModified?: Date;
}
