import { BatchInputError } from './batch-errors';
import type { InputFormat } from './input-format';
import { lineRowBoundaries, type RowBoundary } from './line-ranges';
import { npyRowsInRange, parseNpyHeader } from './npy-rows';
import type { ObjectHead, ObjectStorage } from './object-storage';

const HEADER_READ_BYTES = 1 << 20;

/**
 * For a shard planner: for each cut (byte offset, ascending), the first row start at or after
 * it and that row's global number, so shard `[cut_i, cut_i+1)` can be scored with
 * `range: { start: boundaries[i].byte, end: boundaries[i+1].byte }, firstRow: boundaries[i].row`
 * and every row is scored once with its global number. CSV and JSONL are scanned once (newlines
 * counted, the header skipped); NPY needs only its header. Images are one row: refused.
 *
 * @example
 * const [a, b] = await rowBoundaries(storage, head, 'csv', [0, head.size / 2]);
 * // shard 0: { range: { start: a.byte, end: b.byte }, firstRow: a.row }; shard 1 from b to head.size
 */
export async function rowBoundaries(storage: ObjectStorage, head: ObjectHead, format: InputFormat, cuts: readonly number[]): Promise<RowBoundary[]> {
  const open = (start: number, end: number) => storage.openRead(head.key, { range: { start, end }, ifMatch: head.etag, versionId: head.versionId });
  const readAll = async (end: number) => {
    const parts: Buffer[] = [];
    for await (const chunk of await open(0, end)) parts.push(chunk as Buffer);
    return Buffer.concat(parts);
  };
  switch (format) {
    case 'csv': {
      const start = await readAll(Math.min(head.size, HEADER_READ_BYTES));
      const newline = start.indexOf(0x0a);
      if (newline < 0) throw new BatchInputError(`object '${head.key}': no header line ending in its first ${HEADER_READ_BYTES} bytes`);
      const dataStart = newline + 1;
      return lineRowBoundaries(await open(dataStart, head.size), dataStart, cuts.map((cut) => Math.max(cut, dataStart)));
    }
    case 'jsonl':
      return lineRowBoundaries(await open(0, head.size), 0, cuts);
    case 'npy': {
      const layout = parseNpyHeader(await readAll(Math.min(head.size, 65536)), head.key, head.size);
      const rowBytes = layout.columns * layout.itemBytes;
      return cuts.map((cut) => {
        const { first } = npyRowsInRange(layout, { start: cut, end: cut });
        return { byte: layout.dataStart + first * rowBytes, row: first };
      });
    }
    default:
      throw new BatchInputError(`object '${head.key}' is one ${format.toUpperCase()} image: it is scored whole, not in shards`);
  }
}
