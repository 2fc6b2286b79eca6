import type { Readable } from 'node:stream';
import type { StageDurations } from './row-batch';

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * The rule that cuts line-based files (CSV, JSONL) into shards: a row starts at the data's
 * first byte or right after a `\n`, and a shard `[start, end)` owns the rows whose first byte
 * is in its range. So every row belongs to exactly one shard, whatever bytes the cuts fall on;
 * a shard reads on past `end` to finish its last row. Lines that are empty (or only `\r`) are
 * not rows. A quoted CSV field holding a newline is not seen by this rule: ranged reads of such
 * files cut inside the field (the whole-file read parses it as RFC 4180 says).
 *
 * `chunks` is the object read from `readStart` (`ownStart - 1`, or the data start); yields the
 * bytes of the owned rows only, and stops reading once the last one is complete.
 */
export async function* ownedLineBytes(
  chunks: Readable, readStart: number, ownStart: number, ownEnd: number, durations: StageDurations, progress: { bytesRead: number },
): AsyncGenerator<Buffer> {
  let position = readStart;
  let skipping = readStart < ownStart;
  let atRowStart = !skipping;
  const iterator = chunks[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  try {
    for (;;) {
      const waited = performance.now();
      const next = await iterator.next();
      durations.read += performance.now() - waited;
      if (next.done) return;
      let chunk = next.value;
      progress.bytesRead += chunk.length;
      if (skipping) {
        const newline = chunk.indexOf(NEWLINE);
        if (newline < 0) {
          position += chunk.length;
          continue;
        }
        chunk = chunk.subarray(newline + 1);
        position += newline + 1;
        skipping = false;
        atRowStart = true;
      }
      if (chunk.length === 0) continue;
      if (atRowStart && position >= ownEnd) return;
      // The row that starts at or after ownEnd is the next shard's: stop at the newline ending the row that holds byte ownEnd - 1.
      const lastOwnedByte = ownEnd - 1 - position;
      if (lastOwnedByte < chunk.length) {
        const newline = chunk.indexOf(NEWLINE, Math.max(0, lastOwnedByte));
        if (newline >= 0) {
          yield chunk.subarray(0, newline + 1);
          return;
        }
      }
      position += chunk.length;
      atRowStart = chunk[chunk.length - 1] === NEWLINE;
      yield chunk;
    }
  } finally {
    await iterator.return?.();
  }
}

/** One cut's answer: the first row start at or after the cut, and that row's global number. */
export interface RowBoundary {
  readonly byte: number;
  readonly row: number;
}

/**
 * Scans line-based data once from `dataStart` and answers, for each cut (ascending byte
 * offsets), the first row start at or after it and the number of rows before it: what a shard
 * needs to number its rows globally. A cut past the last row answers the end of the data and
 * the row count. Counts rows as `ownedLineBytes` does (non-empty lines).
 */
export async function lineRowBoundaries(chunks: Readable, dataStart: number, cuts: readonly number[]): Promise<RowBoundary[]> {
  const answers: RowBoundary[] = [];
  let cut = 0;
  let position = dataStart;
  let rows = 0;
  let lineStart = dataStart;
  let lineHasContent = false;
  const settle = (rowStart: number) => {
    while (cut < cuts.length && cuts[cut]! <= rowStart) {
      answers.push({ byte: rowStart, row: rows });
      cut++;
    }
  };
  settle(dataStart);
  for await (const chunk of chunks as AsyncIterable<Buffer>) {
    let from = 0;
    while (from < chunk.length && cut < cuts.length) {
      const newline = chunk.indexOf(NEWLINE, from);
      const stop = newline < 0 ? chunk.length : newline;
      if (!lineHasContent) {
        for (let i = from; i < stop; i++) {
          if (chunk[i] !== CARRIAGE_RETURN) {
            lineHasContent = true;
            break;
          }
        }
      }
      if (newline < 0) break;
      if (lineHasContent) rows++;
      lineHasContent = false;
      lineStart = position + newline + 1;
      settle(lineStart);
      from = newline + 1;
    }
    position += chunk.length;
    if (cut === cuts.length) break;
  }
  if (lineHasContent && position > lineStart) rows++;
  while (cut < cuts.length) {
    answers.push({ byte: position, row: rows });
    cut++;
  }
  return answers;
}
