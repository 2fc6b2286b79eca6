import { constants, deflateSync, gunzipSync, gzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import { InvalidRequestError, PayloadTooLargeError, UnsupportedContentEncodingError } from '../errors/hotpath-error';

export type BodyEncoding = 'gzip' | 'deflate';

/** Whether a Content-Encoding header says the body is encoded (anything but absent, empty or `identity`). */
export function isContentEncoded(contentEncoding: string | undefined): boolean {
  const encoding = contentEncoding?.trim().toLowerCase();
  return encoding !== undefined && encoding !== '' && encoding !== 'identity';
}

/**
 * Inflates a request body sent with `Content-Encoding: gzip | deflate` (Triton's HTTP client
 * writes deflate in zlib format, as Python's zlib.compress does; a raw deflate stream is
 * taken too). zlib stops as soon as its output passes `maxInflatedBytes`, so a small body
 * that inflates to gigabytes (a zip bomb) costs at most the limit, then answers 413.
 * `identity` or no header returns the body as it is.
 */
export function inflateRequestBody(body: Uint8Array, contentEncoding: string | undefined, maxInflatedBytes: number): Uint8Array {
  if (!isContentEncoded(contentEncoding)) return body;
  const encoding = contentEncoding!.trim().toLowerCase();
  if (encoding !== 'gzip' && encoding !== 'x-gzip' && encoding !== 'deflate') throw new UnsupportedContentEncodingError(encoding);
  const options = { maxOutputLength: maxInflatedBytes };
  try {
    if (encoding === 'deflate') {
      // zlib's header is 2 bytes whose big-endian value is a multiple of 31 (RFC 1950); anything else is raw deflate.
      const zlibHeader = body.byteLength >= 2 && (body[0]! & 0x0f) === 8 && ((body[0]! << 8) | body[1]!) % 31 === 0;
      return zlibHeader ? inflateSync(body, options) : inflateRawSync(body, options);
    }
    return gunzipSync(body, options);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new PayloadTooLargeError(`request body inflates (Content-Encoding: ${encoding}) past the limit of ${maxInflatedBytes} bytes; send a smaller request or use batch scoring`);
    }
    throw new InvalidRequestError(`request body is not valid ${encoding} data (Content-Encoding: ${encoding}): ${(error as Error).message}`, error);
  }
}

/**
 * Bodies below this are sent as they are even when the caller accepts gzip. Measured with
 * `npx tsx bench/http/compression-threshold.ts` (AMD EPYC, node 20): gzip costs 30-60 µs
 * whatever the size (zlib's set-up), and saves 16% of iris' 205-byte JSON answer but 51% of a
 * 3.2 KB one; above ~1 KB the bytes saved are worth the call.
 */
export const COMPRESS_ABOVE_BYTES = 1024;

/**
 * The encoding to answer in from `Accept-Encoding` (RFC 9110 §12.5.3: q-values, `*`,
 * `identity;q=0`): gzip over deflate on a tie, undefined for none.
 */
export function chooseResponseEncoding(acceptEncoding: string | undefined): BodyEncoding | undefined {
  if (acceptEncoding === undefined || acceptEncoding.trim() === '') return undefined;
  let best: BodyEncoding | undefined;
  let bestQ = 0;
  let wildcardQ: number | undefined;
  const explicit = new Map<string, number>();
  for (const part of acceptEncoding.split(',')) {
    const [rawName, ...params] = part.split(';');
    const name = rawName!.trim().toLowerCase();
    if (name === '') continue;
    let q = 1;
    for (const param of params) {
      const [key, value] = param.split('=');
      if (key?.trim().toLowerCase() === 'q') q = Number(value?.trim());
    }
    if (!Number.isFinite(q) || q < 0) q = 0;
    if (name === '*') wildcardQ = q;
    else explicit.set(name === 'x-gzip' ? 'gzip' : name, q);
  }
  for (const candidate of ['gzip', 'deflate'] as const) {
    const q = explicit.get(candidate) ?? wildcardQ ?? 0;
    if (q > bestQ) {
      best = candidate;
      bestQ = q;
    }
  }
  return best;
}

/**
 * Compresses an answer body at level 1: same run, level 6 saved at most 3% more (JSON 64x64:
 * 37.5 → 36.3 KB) for 1.3-3.3× the time (1.5 → 4.8 ms). Float tensors in binary barely
 * compress (1 MB FP32: -10%, 39 ms), so they are compressed only because the caller asked.
 */
export function compressBody(body: Uint8Array, encoding: BodyEncoding): Buffer {
  const options = { level: constants.Z_BEST_SPEED };
  return encoding === 'gzip' ? gzipSync(body, options) : deflateSync(body, options);
}
