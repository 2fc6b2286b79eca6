import type { ByteRange, ObjectHead } from './object-storage';

/** Where one run's outputs go. */
export interface BatchOutputKeys {
  /** The folder (ends in `/`): `<prefix>/<input key>/<version or etag>/`, plus `parts/<start>-<end>/` for a shard. */
  readonly folder: string;
  readonly scores: string;
  readonly rowErrors: string;
  readonly manifest: string;
}

/** Digits of the zero-padded byte offsets in part folders: lexicographic order is byte order (up to 999 TB). */
const OFFSET_DIGITS = 15;

/**
 * Output keys derived from the input key and its version (S3 `VersionId`) or else its ETag, so
 * that a redelivered event, or one that arrives while the first run is going, writes to the same
 * keys (and finds the manifest there), while a new version of the object gets its own.
 *
 * @example
 * batchOutputKeys('scored', { key: 'in/iris.csv', etag: '9b2c', ... }).scores; // 'scored/in/iris.csv/etag-9b2c/scores.jsonl'
 */
export function batchOutputKeys(outputPrefix: string, input: Pick<ObjectHead, 'key' | 'etag' | 'versionId'>, range?: ByteRange): BatchOutputKeys {
  const prefix = outputPrefix.replace(/\/+$/, '');
  const version = input.versionId !== undefined && input.versionId !== 'null' ? `version-${safe(input.versionId)}` : `etag-${safe(input.etag)}`;
  const part = range === undefined ? '' : `parts/${pad(range.start)}-${pad(range.end)}/`;
  const folder = `${prefix === '' ? '' : `${prefix}/`}${input.key}/${version}/${part}`;
  return { folder, scores: `${folder}scores.jsonl`, rowErrors: `${folder}row-errors.jsonl`, manifest: `${folder}manifest.json` };
}

function safe(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]/g, '_');
}

function pad(offset: number): string {
  return String(offset).padStart(OFFSET_DIGITS, '0');
}
