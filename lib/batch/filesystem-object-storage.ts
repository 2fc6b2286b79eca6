import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { InvalidRequestError } from '../errors/hotpath-error';
import { ObjectChangedError, ObjectNotFoundError } from './batch-errors';
import type { ObjectHead, ObjectStorage, ObjectSummary, ObjectWriter, OpenReadOptions, OpenWriteOptions } from './object-storage';

const TEMPORARY_MARK = '.hotpath-partial-';

/**
 * `ObjectStorage` over a folder: key `a/b.csv` is `<root>/a/b.csv`. Writes go to a temporary
 * file beside the target (`.<name>.hotpath-partial-<random>`, never listed) and are renamed into
 * place, so a reader sees the old file or the new one, never half of one. No content types or
 * metadata are stored; the ETag is a digest of size, mtime and inode.
 *
 * @example
 * const storage = new FilesystemObjectStorage('/data');
 * const { size, etag } = await storage.head('in/iris.csv');
 */
export class FilesystemObjectStorage implements ObjectStorage {
  readonly kind = 'filesystem';
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  async head(key: string): Promise<ObjectHead> {
    const stats = await this.statFile(key);
    return { key, size: stats.size, etag: etagOf(stats), metadata: {}, lastModified: stats.mtime };
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.statFile(key);
      return true;
    } catch (error) {
      if (error instanceof ObjectNotFoundError) return false;
      throw error;
    }
  }

  async openRead(key: string, options: OpenReadOptions = {}): Promise<Readable> {
    const stats = await this.statFile(key);
    const etag = etagOf(stats);
    if (options.ifMatch !== undefined && options.ifMatch !== etag) throw new ObjectChangedError(key, options.ifMatch, etag);
    const start = Math.max(0, options.range?.start ?? 0);
    const end = Math.min(stats.size, options.range?.end ?? stats.size);
    if (end <= start) {
      const empty = new PassThrough();
      empty.end();
      return empty;
    }
    // createReadStream's `end` is inclusive; the range is half-open.
    return createReadStream(this.pathOf(key), { start, end: end - 1, highWaterMark: 1 << 20 });
  }

  openWrite(key: string, _options: OpenWriteOptions): ObjectWriter {
    const target = this.pathOf(key);
    const temporary = temporaryPathFor(target);
    const stream = new PassThrough({ highWaterMark: 1 << 20 });
    let aborted: Error | undefined;
    // Listen at once: an abort before the folder exists must still settle `done`.
    const streamFailed = new Promise<never>((_resolve, reject) => stream.once('error', reject));
    streamFailed.catch(() => undefined);
    const done = (async () => {
      await mkdir(path.dirname(target), { recursive: true });
      if (aborted) throw aborted;
      const file = createWriteStream(temporary, { highWaterMark: 1 << 20 });
      try {
        const finished = new Promise<void>((resolve, reject) => {
          file.once('error', reject);
          file.once('finish', resolve);
        });
        stream.pipe(file);
        await Promise.race([finished, streamFailed]);
        if (aborted) throw aborted;
        await rename(temporary, target);
      } catch (error) {
        file.destroy();
        await unlink(temporary).catch(() => undefined);
        throw error;
      }
    })();
    // Callers that only abort must not see an unhandled rejection.
    done.catch(() => undefined);
    return {
      stream,
      done,
      abort: async (reason = new Error(`write of '${key}' was aborted`)) => {
        aborted = reason;
        stream.destroy(reason);
        await done.catch(() => undefined);
      },
    };
  }

  async putIfAbsent(key: string, body: string | Uint8Array, _options: OpenWriteOptions): Promise<boolean> {
    const target = this.pathOf(key);
    await mkdir(path.dirname(target), { recursive: true });
    const temporary = temporaryPathFor(target);
    await writeFile(temporary, body);
    try {
      // link(2) fails with EEXIST when the target exists: the atomic "create if absent" of POSIX filesystems.
      await link(temporary, target);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    } finally {
      await unlink(temporary).catch(() => undefined);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await unlink(this.pathOf(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectSummary> {
    const keys: ObjectSummary[] = [];
    // Walk only the folder the prefix names (up to its last '/'), then filter by the whole prefix.
    const folderKey = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const folder = folderKey === '' ? this.root : this.pathOf(folderKey);
    await this.collect(folder, folderKey, prefix, keys);
    keys.sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
    yield* keys;
  }

  /** The file a key names; refuses keys that would leave the root. */
  pathOf(key: string): string {
    if (key === '' || key.startsWith('/') || key.split('/').some((part) => part === '..' || part === '.' || part === '')) {
      throw new InvalidRequestError(`object key '${key}' is not valid here: use '/'-separated names without '.', '..', empty parts or a leading '/'`);
    }
    return path.join(this.root, ...key.split('/'));
  }

  private async statFile(key: string): Promise<Stats> {
    try {
      const stats = await stat(this.pathOf(key));
      if (!stats.isFile()) throw new ObjectNotFoundError(key);
      return stats;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new ObjectNotFoundError(key);
      throw error;
    }
  }

  private async collect(folder: string, folderKey: string, prefix: string, into: ObjectSummary[]): Promise<void> {
    let entries;
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw error;
    }
    for (const entry of entries) {
      if (entry.name.includes(TEMPORARY_MARK)) continue;
      const key = folderKey === '' ? entry.name : `${folderKey}/${entry.name}`;
      if (entry.isDirectory()) {
        if (key.startsWith(prefix) || prefix.startsWith(`${key}/`)) await this.collect(path.join(folder, entry.name), key, prefix, into);
      } else if (entry.isFile() && key.startsWith(prefix)) {
        const stats = await stat(path.join(folder, entry.name));
        into.push({ key, size: stats.size, etag: etagOf(stats), lastModified: stats.mtime });
      }
    }
  }
}

function etagOf(stats: Stats): string {
  return createHash('sha256').update(`${stats.size}:${stats.mtimeMs}:${stats.ino}`).digest('hex').slice(0, 32);
}

function temporaryPathFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}${TEMPORARY_MARK}${randomBytes(6).toString('hex')}`);
}
