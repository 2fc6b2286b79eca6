import { BatchInputError } from './batch-errors';

/** The input formats batch scoring reads. */
export type InputFormat = 'csv' | 'jsonl' | 'npy' | 'png' | 'jpeg';

const BY_EXTENSION: Readonly<Record<string, InputFormat>> = {
  csv: 'csv', jsonl: 'jsonl', ndjson: 'jsonl', npy: 'npy', png: 'png', jpg: 'jpeg', jpeg: 'jpeg',
};

const BY_CONTENT_TYPE: Readonly<Record<string, InputFormat>> = {
  'text/csv': 'csv',
  'application/csv': 'csv',
  'application/x-ndjson': 'jsonl',
  'application/jsonl': 'jsonl',
  'application/x-jsonlines': 'jsonl',
  'application/jsonlines': 'jsonl',
  'application/x-npy': 'npy',
  'application/npy': 'npy',
  'image/png': 'png',
  'image/jpeg': 'jpeg',
};

/** Content types that say nothing about the format (S3's defaults); the extension decides. */
const GENERIC_CONTENT_TYPES = new Set(['application/octet-stream', 'binary/octet-stream', 'text/plain', '']);

/**
 * The format of an input object, from its key's extension and its content type; never guessed
 * from the bytes. A known extension and a specific content type that disagree, or neither known,
 * is a `BatchInputError` saying what to rename or set.
 *
 * @example
 * detectInputFormat('in/iris.csv', 'application/octet-stream'); // 'csv'
 * detectInputFormat('in/upload', 'application/x-ndjson');       // 'jsonl'
 */
export function detectInputFormat(key: string, contentType?: string): InputFormat {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
  const fromExtension = BY_EXTENSION[extension];
  const mediaType = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const fromContentType = BY_CONTENT_TYPE[mediaType];
  if (fromExtension && fromContentType && fromExtension !== fromContentType) {
    throw new BatchInputError(`object '${key}': its extension says ${fromExtension} but its content type '${mediaType}' says ${fromContentType}; make them agree`);
  }
  const format = fromExtension ?? fromContentType;
  if (format) return format;
  const known = `extensions ${Object.keys(BY_EXTENSION).map((e) => `.${e}`).join(', ')} or content types ${Object.keys(BY_CONTENT_TYPE).join(', ')}`;
  const given = GENERIC_CONTENT_TYPES.has(mediaType) ? `extension '${extension || '(none)'}'` : `extension '${extension || '(none)'}' and content type '${mediaType}'`;
  throw new BatchInputError(`object '${key}': unknown input format (${given}); use one of the ${known}`);
}
