import { Writable, type Readable } from 'node:stream';
import { ObjectNotFoundError } from './batch-errors';
import type { ObjectHead, ObjectStorage, ObjectSummary, ObjectWriter } from './object-storage';

/**
 * Output storage for the planner's probe: every write is accepted and dropped, nothing is ever
 * there to read. The probe scores the head of a large object through the real pipeline (read,
 * parse, infer, encode) only to measure rows/s and bytes per row; its outputs are not kept.
 */
export class DiscardingObjectStorage implements ObjectStorage {
  readonly kind = 'discard';

  async head(key: string): Promise<ObjectHead> {
    throw new ObjectNotFoundError(key);
  }

  async exists(): Promise<boolean> {
    return false;
  }

  async openRead(key: string): Promise<Readable> {
    throw new ObjectNotFoundError(key);
  }

  openWrite(): ObjectWriter {
    const stream = new Writable({ write: (_chunk, _encoding, callback) => callback() });
    const done = new Promise<void>((resolve, reject) => {
      stream.once('finish', resolve);
      stream.once('error', reject);
    });
    done.catch(() => undefined);
    return {
      stream,
      done,
      abort: async (reason?: Error) => {
        stream.destroy(reason ?? new Error('aborted'));
        await done.catch(() => undefined);
      },
    };
  }

  async putIfAbsent(): Promise<boolean> {
    return true;
  }

  async delete(): Promise<void> {}

  async *list(): AsyncIterable<ObjectSummary> {
    yield* [];
  }
}
