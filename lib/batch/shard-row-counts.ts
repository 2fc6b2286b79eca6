import { ownedLineBytes } from './line-ranges';
import type { ObjectHead, ObjectStorage } from './object-storage';
import { newStageDurations } from './row-batch';
import type { PlannedShard } from './shard-planner';

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * Gives every line-based shard its first row's global number: counts the rows each shard owns
 * (the rule of lib/batch/line-ranges.ts: non-empty lines whose first byte is in the range),
 * `concurrency` ranged reads at a time, and adds them up in order. One pass over the object, in
 * parallel, without parsing: S3 serves each ranged GET at its own rate, so the pass takes about
 * `size / (concurrency x per-stream rate)`. NPY shards come with their first rows already.
 *
 * @example
 * const numbered = await countShardRows(storage, head, plan.shards, 8);
 * numbered[1].firstRow; // rows owned by shard 0
 */
export async function countShardRows(storage: ObjectStorage, head: ObjectHead, shards: readonly PlannedShard[], concurrency = 8): Promise<(PlannedShard & { rows: number; firstRow: number })[]> {
  const counts = new Array<number>(shards.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < shards.length) {
      const index = next++;
      counts[index] = await countOwnedRows(storage, head, shards[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, shards.length) }, worker));
  let firstRow = 0;
  return shards.map((shard, index) => {
    const numbered = { ...shard, firstRow, rows: counts[index]! };
    firstRow += counts[index]!;
    return numbered;
  });
}

/** Rows whose first byte is in `[start, end)` (reads from `start - 1` to see whether `start` begins a row). */
export async function countOwnedRows(storage: ObjectStorage, head: ObjectHead, range: { start: number; end: number }): Promise<number> {
  if (range.end <= range.start) return 0;
  const readStart = Math.max(0, range.start - 1);
  // Past `end` only to finish the last owned row; ownedLineBytes stops reading there.
  const stream = await storage.openRead(head.key, { range: { start: readStart, end: head.size }, ifMatch: head.etag, versionId: head.versionId });
  let rows = 0;
  let lineHasContent = false;
  try {
    for await (const chunk of ownedLineBytes(stream, readStart, range.start, range.end, newStageDurations(), { bytesRead: 0 })) {
      // indexOf finds the newlines (memchr speed); only the bytes of a line's start are looked at.
      let from = 0;
      while (from < chunk.length) {
        const newline = chunk.indexOf(NEWLINE, from);
        const stop = newline < 0 ? chunk.length : newline;
        if (!lineHasContent) lineHasContent = hasContent(chunk, from, stop);
        if (newline < 0) break;
        if (lineHasContent) rows++;
        lineHasContent = false;
        from = newline + 1;
      }
    }
  } finally {
    stream.destroy();
  }
  return lineHasContent ? rows + 1 : rows;
}

/** Whether `chunk[from, stop)` holds a byte other than `\r` (an empty or `\r`-only line is not a row). */
function hasContent(chunk: Buffer, from: number, stop: number): boolean {
  for (let i = from; i < stop; i++) if (chunk[i] !== CARRIAGE_RETURN) return true;
  return false;
}
