import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { preprocessImage } from '../../kernels/image/image-kernels';
import { IMAGENET_NORMALIZATION } from '../../kernels/image/image-reference';
import { BatchInputError } from './batch-errors';
import type { BatchModelInput } from './batch-model-input';
import { readSourceBytes, type InputSource } from './input-source';
import type { RowBatch } from './row-batch';

/** Images larger than this are refused before decoding (an object this size is not one page of text). */
export const MAX_IMAGE_BYTES = 64 << 20;
/** PP-OCR's detector default (`limit_side_len` 960, `limit_type` max): the longer side is scaled down to at most this. */
const MAX_SIDE = 960;
const SIDE_MULTIPLE = 32;

/**
 * One image file as one row: decoded (pngjs, jpeg-js: pure JavaScript, so one artifact runs on
 * both Lambda architectures), resized so both sides are multiples of 32 with the longer at most
 * 960 (as PP-OCR's detector preprocessing), and normalised to CHW float32 with ImageNet mean and
 * std by the image kernel (kernels/image). An image the decoder refuses fails the file.
 */
export async function* readImageRows(source: InputSource, input: Extract<BatchModelInput, { kind: 'image' }>, format: 'png' | 'jpeg'): AsyncGenerator<RowBatch> {
  const { head, durations } = source;
  if (head.size === 0) throw new BatchInputError(`object '${head.key}' is empty: not a ${format.toUpperCase()} image`);
  if (head.size > MAX_IMAGE_BYTES) throw new BatchInputError(`object '${head.key}' is ${head.size} bytes; images up to ${MAX_IMAGE_BYTES} bytes are scored`);
  if (input.channels !== 3) throw new BatchInputError(`input '${input.name}' takes ${input.channels} channels; images are decoded to RGB (3)`);
  if (source.range !== undefined && source.range.start > 0) return;
  const bytes = await readSourceBytes(source, { start: 0, end: head.size });
  source.progress.bytesRead += bytes.length;
  const started = performance.now();
  const { width, height, rgb } = decodeRgb(bytes, head.key, format);
  const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
  const side = (n: number) => Math.max(SIDE_MULTIPLE, Math.round((n * scale) / SIDE_MULTIPLE) * SIDE_MULTIPLE);
  const outHeight = side(height);
  const outWidth = side(width);
  const values = preprocessImage(rgb, height, width, 3, outHeight, outWidth, IMAGENET_NORMALIZATION);
  durations.parse += performance.now() - started;
  yield { rows: [source.firstRow ?? 0], values, rowShape: [3, outHeight, outWidth], failures: [] };
}

function decodeRgb(bytes: Buffer, key: string, format: 'png' | 'jpeg'): { width: number; height: number; rgb: Uint8Array } {
  let width: number;
  let height: number;
  let rgba: Uint8Array;
  try {
    if (format === 'png') {
      const png = PNG.sync.read(bytes);
      ({ width, height } = png);
      rgba = png.data;
    } else {
      const decoded = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
      ({ width, height } = decoded);
      rgba = decoded.data;
    }
  } catch (error) {
    throw new BatchInputError(`object '${key}' cannot be decoded as ${format.toUpperCase()}: ${(error as Error).message}`, error);
  }
  const rgb = new Uint8Array(width * height * 3);
  for (let p = 0, q = 0; p < rgba.length; p += 4, q += 3) {
    rgb[q] = rgba[p]!;
    rgb[q + 1] = rgba[p + 1]!;
    rgb[q + 2] = rgba[p + 2]!;
  }
  return { width, height, rgb };
}
