import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';

/** One file in a zip archive, as its central directory records it. */
export interface ZipEntry {
  readonly name: string;
  readonly compressedBytes: number;
  readonly uncompressedBytes: number;
  /** 0 stored, 8 deflated. */
  readonly method: number;
  /** Where the entry's local header starts in the archive. */
  readonly localHeaderOffset: number;
}

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_DIRECTORY_HEADER = 0x02014b50;
const LOCAL_FILE_HEADER = 0x04034b50;
const LOCAL_HEADER_BYTES = 30;
const END_RECORD_BYTES = 22;
const MAX_COMMENT_BYTES = 0xffff;
const ZIP64_MARKER_32 = 0xffffffff;
const ZIP64_MARKER_16 = 0xffff;

/**
 * Lists a zip's entries from its central directory alone (the end of the file), without
 * inflating anything: enough to sum unzipped sizes against Lambda's 250 MB limit.
 * Zip64 archives (over 4 GB or 65,535 entries) are refused; no Lambda artifact is one.
 *
 * @example
 * const unzipped = readZipEntries('.serverless/api.zip').reduce((sum, e) => sum + e.uncompressedBytes, 0);
 */
export function readZipEntries(path: string): ZipEntry[] {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const tailBytes = Math.min(size, END_RECORD_BYTES + MAX_COMMENT_BYTES);
    const tail = readAt(fd, size - tailBytes, tailBytes);
    const end = findEndRecord(tail, path);
    const entryCount = tail.readUInt16LE(end + 10);
    const directoryBytes = tail.readUInt32LE(end + 12);
    const directoryOffset = tail.readUInt32LE(end + 16);
    if (entryCount === ZIP64_MARKER_16 || directoryOffset === ZIP64_MARKER_32) {
      throw new Error(`${path}: zip64 archives are not supported`);
    }
    return parseDirectory(readAt(fd, directoryOffset, directoryBytes), entryCount, path);
  } finally {
    closeSync(fd);
  }
}

/**
 * The content of one file in a zip (stored or deflated), found through the central directory.
 * @example
 * const manifest = JSON.parse(readZipFile('.serverless/models.zip', 'models/manifest.json').toString('utf8'));
 */
export function readZipFile(path: string, name: string): Buffer {
  const entry = readZipEntries(path).find((e) => e.name === name);
  if (!entry) throw new Error(`${path}: no entry '${name}'`);
  const fd = openSync(path, 'r');
  try {
    const header = readAt(fd, entry.localHeaderOffset, LOCAL_HEADER_BYTES);
    if (header.readUInt32LE(0) !== LOCAL_FILE_HEADER) throw new Error(`${path}: local header of '${name}' is corrupt`);
    const dataStart = entry.localHeaderOffset + LOCAL_HEADER_BYTES + header.readUInt16LE(26) + header.readUInt16LE(28);
    const data = readAt(fd, dataStart, entry.compressedBytes);
    if (entry.method === 0) return data;
    if (entry.method === 8) return inflateRawSync(data);
    throw new Error(`${path}: '${name}' uses compression method ${entry.method}; only stored (0) and deflate (8) are read`);
  } finally {
    closeSync(fd);
  }
}

function findEndRecord(tail: Buffer, path: string): number {
  for (let at = tail.length - END_RECORD_BYTES; at >= 0; at--) {
    if (tail.readUInt32LE(at) === END_OF_CENTRAL_DIRECTORY) return at;
  }
  throw new Error(`${path}: no end-of-central-directory record; not a zip file`);
}

function parseDirectory(directory: Buffer, entryCount: number, path: string): ZipEntry[] {
  const entries: ZipEntry[] = [];
  let at = 0;
  for (let i = 0; i < entryCount; i++) {
    if (directory.readUInt32LE(at) !== CENTRAL_DIRECTORY_HEADER) {
      throw new Error(`${path}: central directory entry ${i} is corrupt`);
    }
    const nameBytes = directory.readUInt16LE(at + 28);
    const extraBytes = directory.readUInt16LE(at + 30);
    const commentBytes = directory.readUInt16LE(at + 32);
    entries.push({
      name: directory.toString('utf8', at + 46, at + 46 + nameBytes),
      compressedBytes: directory.readUInt32LE(at + 20),
      uncompressedBytes: directory.readUInt32LE(at + 24),
      method: directory.readUInt16LE(at + 10),
      localHeaderOffset: directory.readUInt32LE(at + 42),
    });
    at += 46 + nameBytes + extraBytes + commentBytes;
  }
  return entries;
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const read = readSync(fd, buffer, done, length - done, position + done);
    if (read === 0) throw new Error(`unexpected end of file at byte ${position + done}`);
    done += read;
  }
  return buffer;
}
