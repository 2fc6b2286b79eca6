import type { Readable } from 'node:stream';
import type { ByteRange, ObjectHead, ObjectStorage } from './object-storage';
import type { ReadProgress, StageDurations } from './row-batch';

/** One object to read, pinned to the version seen in `head`, and the part of it this run owns. */
export interface InputSource {
  readonly storage: ObjectStorage;
  readonly head: ObjectHead;
  /** The shard's bytes `[start, end)` (rows whose first byte is in it); absent: the whole object. */
  readonly range?: ByteRange;
  /**
   * Global number of the shard's first row, as the planner's `rowBoundaries` answered it;
   * absent on a ranged read of a line-based file, the reader counts the rows before the range.
   */
  readonly firstRow?: number;
  readonly durations: StageDurations;
  readonly progress: ReadProgress;
}

/** Opens `range` of the source's object at the version `head` saw. */
export function openSourceRange(source: InputSource, range: ByteRange): Promise<Readable> {
  return source.storage.openRead(source.head.key, { range, ifMatch: source.head.etag, versionId: source.head.versionId });
}

/** Reads `range` whole (headers, images): small reads only. */
export async function readSourceBytes(source: InputSource, range: ByteRange): Promise<Buffer> {
  const waited = performance.now();
  const parts: Buffer[] = [];
  for await (const chunk of await openSourceRange(source, range)) parts.push(chunk as Buffer);
  source.durations.read += performance.now() - waited;
  return Buffer.concat(parts);
}
