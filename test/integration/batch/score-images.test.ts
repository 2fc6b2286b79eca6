import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { preprocessImage } from '../../../kernels/image/image-kernels';
import { IMAGENET_NORMALIZATION } from '../../../kernels/image/image-reference';
import { infer } from '../../../lib/serving/infer';
import type { ServingRuntime } from '../../../lib/serving/serving-runtime';
import { createBatchRuntime, readJsonl, score, temporaryStorage } from './batch-fixtures';

type MapLine = { row: number; outputs: Record<string, { shape: number[]; data: number[] }> };

/** A white page with a black bar across it: something for the text detector to find. */
function page(width: number, height: number): Uint8Array {
  const rgba = new Uint8Array(width * height * 4).fill(255);
  for (let y = Math.floor(height * 0.4); y < Math.floor(height * 0.6); y++) {
    for (let x = Math.floor(width * 0.1); x < Math.floor(width * 0.9); x++) rgba.fill(0, (y * width + x) * 4, (y * width + x) * 4 + 3);
  }
  return rgba;
}

describe('scoreObject on images (text-detector)', () => {
  let runtime: ServingRuntime;
  let files: Awaited<ReturnType<typeof temporaryStorage>>;
  beforeAll(async () => {
    runtime = await createBatchRuntime(['text-detector']);
    files = await temporaryStorage();
  });
  afterAll(async () => {
    await runtime.registry.dispose();
    await files.dispose();
  });

  it.each([['png'], ['jpeg']])('scores a %s as one row at sides rounded to multiples of 32', async (format) => {
    const [width, height] = [100, 70];
    const png = new PNG({ width, height });
    png.data = Buffer.from(page(width, height));
    const bytes = format === 'png' ? PNG.sync.write(png) : jpeg.encode({ data: page(width, height), width, height }, 90).data;
    await files.put(`in/page.${format === 'png' ? 'png' : 'jpg'}`, bytes);
    const { manifest, keys } = await score(runtime, files.storage, { key: `in/page.${format === 'png' ? 'png' : 'jpg'}`, model: 'text-detector' });
    expect(manifest).toMatchObject({ status: 'succeeded', input: { format }, rows: { in: 1, scored: 1, failed: 0 } });
    const [line] = await readJsonl<MapLine>(files.storage, keys.scores);
    const map = line!.outputs['sigmoid_0.tmp_0']!;
    expect(map.shape).toEqual([1, 64, 96]);
    expect(map.data).toHaveLength(64 * 96);
    // What the core answers for the decoded image, resized and normalised by the image kernel.
    const decoded = format === 'png' ? PNG.sync.read(Buffer.from(bytes)).data : jpeg.decode(bytes, { useTArray: true }).data;
    const rgb = new Uint8Array(width * height * 3).map((_, i) => decoded[Math.floor(i / 3) * 4 + (i % 3)]!);
    const x = preprocessImage(rgb, height, width, 3, 64, 96, IMAGENET_NORMALIZATION);
    const direct = await infer(runtime, { model: 'text-detector', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3, 64, 96], data: x }] });
    expect(map.data).toEqual(Array.from(direct.outputs[0]!.data as Float32Array));
    expect(map.data.every((p) => p >= 0 && p <= 1)).toBe(true);
  });

  it('ends an image that does not decode, and a CSV sent to an image model, in failed manifests', async () => {
    await files.put('in/broken.png', Buffer.from('not a png at all'));
    const broken = await score(runtime, files.storage, { key: 'in/broken.png', model: 'text-detector' });
    expect(broken.manifest).toMatchObject({ status: 'failed', retryable: false });
    expect(broken.manifest.reason).toMatch(/cannot be decoded as PNG/);
    await files.put('in/rows.csv', 'a,b\n1,2\n');
    const table = await score(runtime, files.storage, { key: 'in/rows.csv', model: 'text-detector' });
    expect(table.manifest.reason).toMatch(/takes images \[-1, 3, -1, -1\]; send PNG or JPEG/);
  });
});
