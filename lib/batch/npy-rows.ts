import os from 'node:os';
import { BatchInputError } from './batch-errors';
import type { BatchModelInput } from './batch-model-input';
import { openSourceRange, readSourceBytes, type InputSource } from './input-source';
import type { ByteRange } from './object-storage';
import { RowBatcher, type RowBatch } from './row-batch';

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);
const HEADER_READ_BYTES = 65536;

/** What an .npy header says: data offset, rows, columns, bytes per value. */
export interface NpyLayout {
  readonly dataStart: number;
  readonly rows: number;
  readonly columns: number;
  readonly itemBytes: 4 | 8;
}

/**
 * Reads an .npy header (format 1.x, 2.x, 3.x): a 2-D little-endian float32 or float64 array in C
 * order whose data fits the object's size. Fortran order, other dtypes and shapes are refused with what to change.
 */
export function parseNpyHeader(bytes: Buffer, key: string, size: number): NpyLayout {
  if (bytes.length < 10 || !bytes.subarray(0, 6).equals(MAGIC)) throw new BatchInputError(`object '${key}' is not an .npy file (magic \\x93NUMPY missing)`);
  const major = bytes[6]!;
  const headerStart = major === 1 ? 10 : 12;
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  if (headerStart + headerLength > bytes.length) throw new BatchInputError(`object '${key}': .npy header of ${headerLength} bytes is longer than the ${bytes.length} bytes read`);
  const header = bytes.toString('latin1', headerStart, headerStart + headerLength);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new BatchInputError(`object '${key}': .npy header not understood: ${header.trim()}`);
  if (fortran === 'True') {
    throw new BatchInputError(`object '${key}' is an .npy array in Fortran (column-major) order: rows are not contiguous, so it cannot be streamed; save it in C order (np.save(path, np.ascontiguousarray(a)))`);
  }
  const itemBytes = descr === '<f4' ? 4 : descr === '<f8' ? 8 : undefined;
  if (itemBytes === undefined) throw new BatchInputError(`object '${key}': .npy dtype '${descr}' is not supported; use little-endian float32 ('<f4') or float64 ('<f8')`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (shape.length !== 2 || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new BatchInputError(`object '${key}': .npy shape (${shape.join(', ')}) is not 2-D [rows, features]; reshape to (n, features)`);
  }
  const [rows, columns] = shape as [number, number];
  const dataStart = headerStart + headerLength;
  if (dataStart + rows * columns * itemBytes > size) {
    throw new BatchInputError(`object '${key}': .npy data is truncated: shape (${rows}, ${columns}) needs ${rows * columns * itemBytes} bytes after the header, the object has ${size - dataStart}`);
  }
  return { dataStart, rows, columns, itemBytes };
}

/** The rows of an .npy whose first byte is in `range` (the line files' rule, exact here: rows have one size). */
export function npyRowsInRange(layout: NpyLayout, range: ByteRange | undefined): { first: number; end: number } {
  if (range === undefined) return { first: 0, end: layout.rows };
  const rowBytes = layout.columns * layout.itemBytes;
  const rowAt = (byte: number) => Math.min(layout.rows, Math.max(0, Math.ceil((byte - layout.dataStart) / rowBytes)));
  return { first: rowAt(range.start), end: rowAt(range.end) };
}

/**
 * Rows of a 2-D .npy, streamed: `batchSize` rows at a time, converted to float32. A row holding
 * NaN or infinity fails alone (the model's inputs must be finite).
 */
export async function* readNpyRows(source: InputSource, input: Extract<BatchModelInput, { kind: 'table' }>, batchSize: number): AsyncGenerator<RowBatch> {
  const { head, durations } = source;
  if (head.size === 0) throw new BatchInputError(`object '${head.key}' is empty: not an .npy file`);
  const headerBytes = await readSourceBytes(source, { start: 0, end: Math.min(head.size, HEADER_READ_BYTES) });
  const layout = parseNpyHeader(headerBytes, head.key, head.size);
  if (layout.columns !== input.features) {
    throw new BatchInputError(`object '${head.key}': .npy rows have ${layout.columns} values; input '${input.name}' takes ${input.features} features per row`);
  }
  const rowBytes = layout.columns * layout.itemBytes;
  const { first, end } = npyRowsInRange(layout, source.range);
  if (source.firstRow !== undefined && source.firstRow !== first) {
    throw new BatchInputError(`shard of '${head.key}' starts at row ${first} by its byte range, not at the given first row ${source.firstRow}`);
  }
  if (first >= end) return;
  const stream = await openSourceRange(source, { start: layout.dataStart + first * rowBytes, end: layout.dataStart + end * rowBytes });
  const batcher = new RowBatcher(batchSize, [input.features]);
  const littleEndian = os.endianness() === 'LE';
  let row = first;
  let carry = Buffer.alloc(0);
  const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  for (;;) {
    const waited = performance.now();
    const next = await iterator.next();
    durations.read += performance.now() - waited;
    if (next.done) break;
    source.progress.bytesRead += next.value.length;
    const started = performance.now();
    const bytes = carry.length > 0 ? Buffer.concat([carry, next.value]) : next.value;
    const whole = Math.floor(bytes.length / rowBytes);
    // Copied into a fresh ArrayBuffer: typed-array views need alignment the stream's chunks do not promise.
    const aligned = new Uint8Array(whole * rowBytes);
    aligned.set(bytes.subarray(0, whole * rowBytes));
    const view = new DataView(aligned.buffer);
    const numbers = littleEndian ? (layout.itemBytes === 4 ? new Float32Array(aligned.buffer) : new Float64Array(aligned.buffer)) : undefined;
    for (let r = 0; r < whole; r++) {
      const values = batcher.valuesArray;
      const offset = batcher.nextOffset;
      let bad = -1;
      for (let f = 0; f < layout.columns; f++) {
        const index = r * layout.columns + f;
        const v = numbers ? numbers[index]! : layout.itemBytes === 4 ? view.getFloat32(index * 4, true) : view.getFloat64(index * 8, true);
        if (!Number.isFinite(v) || Math.abs(v) > 3.4028234663852886e38) {
          bad = f;
          break;
        }
        values[offset + f] = v;
      }
      if (bad >= 0) batcher.fail(row, `value ${bad} is not a finite FP32 number`);
      else batcher.commit(row);
      row++;
    }
    carry = Buffer.from(bytes.subarray(whole * rowBytes));
    durations.parse += performance.now() - started;
    yield* batcher.take();
  }
  if (row !== end) throw new BatchInputError(`object '${head.key}' ended after row ${row}; its .npy header promised rows up to ${end}`);
  yield* batcher.flush();
}
