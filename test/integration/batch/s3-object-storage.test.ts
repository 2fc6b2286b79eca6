import { createHash } from 'node:crypto';
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, PutObjectCommand, UploadPartCommand, type S3Client } from '@aws-sdk/client-s3';
import { ObjectChangedError, ObjectNotFoundError } from '../../../lib/batch/batch-errors';
import { assembleS3Object } from '../../../lib/batch/s3-part-assembly';
import { S3ObjectStorage } from '../../../lib/batch/s3-object-storage';
import { createLocalS3Client, startLocalS3Server, type LocalS3Server } from '../../support/local-s3-server';
import { startS3MissingCallsProxy, type S3MissingCallsProxy } from '../../support/batch/s3-missing-calls-proxy';

const BUCKET = 'batch';
const MIB = 1024 * 1024;
/** The assembler's and the proxy's minimum part size in these tests (S3's is 5 MiB). */
const TEST_MIN_PART = 64 * 1024;

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** Deterministic bytes, different at every offset, so a misplaced range shows. */
function pattern(bytes: number, seed: number): Buffer {
  const out = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) out[i] = (i * 31 + seed * 17 + (i >> 8)) & 0xff;
  return out;
}

describe('S3ObjectStorage against a real local S3 server (s3rver 3.7.1)', () => {
  let s3: LocalS3Server;
  let proxy: S3MissingCallsProxy;
  let direct: S3ObjectStorage;
  let proxied: S3ObjectStorage;
  let proxiedClient: S3Client;

  beforeAll(async () => {
    s3 = await startLocalS3Server({ buckets: [BUCKET] });
    proxy = await startS3MissingCallsProxy(s3.endpoint, { minPartBytes: TEST_MIN_PART });
    direct = new S3ObjectStorage({ client: s3.client(), bucket: BUCKET, partBytes: 5 * MIB });
    proxiedClient = createLocalS3Client(proxy.endpoint);
    proxied = new S3ObjectStorage({ client: proxiedClient, bucket: BUCKET });
  });

  afterAll(async () => {
    proxiedClient?.destroy();
    await proxy?.close();
    await s3?.stop();
  });

  it('answers head with size, unquoted ETag, content type and lower-case metadata', async () => {
    await s3.client().send(new PutObjectCommand({ Bucket: BUCKET, Key: 'in/a.csv', Body: 'x,y\n1,2\n', ContentType: 'text/csv', Metadata: { Model: 'iris-classifier' } }));

    const head = await direct.head('in/a.csv');

    expect(head).toMatchObject({ key: 'in/a.csv', size: 8, contentType: 'text/csv', metadata: { model: 'iris-classifier' } });
    expect(head.etag).toMatch(/^[0-9a-f]{32}$/);
    await expect(direct.head('in/missing.csv')).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(direct.exists('in/missing.csv')).resolves.toBe(false);
    await expect(direct.exists('in/a.csv')).resolves.toBe(true);
  });

  it('reads half-open byte ranges, clamps the end and gives nothing past the size', async () => {
    const bytes = pattern(10_000, 1);
    await s3.putObject(BUCKET, 'in/range.bin', bytes);

    expect(await readAll(await direct.openRead('in/range.bin'))).toEqual(bytes);
    expect(await readAll(await direct.openRead('in/range.bin', { range: { start: 1234, end: 5678 } }))).toEqual(bytes.subarray(1234, 5678));
    expect(await readAll(await direct.openRead('in/range.bin', { range: { start: 9_990, end: 20_000 } }))).toEqual(bytes.subarray(9_990));
    expect(await readAll(await direct.openRead('in/range.bin', { range: { start: 10_000, end: 10_500 } }))).toHaveLength(0);
    expect(await readAll(await direct.openRead('in/range.bin', { range: { start: 10, end: 10 } }))).toHaveLength(0);
    await expect(direct.openRead('in/none.bin')).rejects.toBeInstanceOf(ObjectNotFoundError);
  });

  it('refuses a pinned read once the object was replaced (ETag compared even where the server ignores If-Match)', async () => {
    await s3.putObject(BUCKET, 'in/pinned.csv', 'a\n1\n');
    const { etag } = await direct.head('in/pinned.csv');
    await s3.putObject(BUCKET, 'in/pinned.csv', 'a\n2\n');

    await expect(direct.openRead('in/pinned.csv', { ifMatch: etag })).rejects.toBeInstanceOf(ObjectChangedError);
    const now = await direct.head('in/pinned.csv');
    expect(await readAll(await direct.openRead('in/pinned.csv', { ifMatch: now.etag, range: { start: 2, end: 3 } }))).toEqual(Buffer.from('2'));
  });

  it('writes a multipart object that appears whole only when the upload completes', async () => {
    // Prepare: 6 MiB in 1 MiB writes: a 5 MiB part and a last one.
    const writer = direct.openWrite('out/big.jsonl', { contentType: 'application/x-ndjson', metadata: { rows: '3' } });
    const chunks = Array.from({ length: 6 }, (_, i) => Buffer.alloc(MIB, i + 1));

    // Act
    for (const chunk of chunks.slice(0, 5)) {
      if (!writer.stream.write(chunk)) await new Promise((resolve) => writer.stream.once('drain', resolve));
    }
    const visibleBeforeEnd = await direct.exists('out/big.jsonl');
    writer.stream.end(chunks[5]);
    await writer.done;

    // Assess
    expect(visibleBeforeEnd).toBe(false);
    const head = await direct.head('out/big.jsonl');
    expect(head).toMatchObject({ size: 6 * MIB, contentType: 'application/x-ndjson', metadata: { rows: '3' } });
    // Compared by digest: jest's toEqual walks a Buffer byte by byte (tens of seconds for MiBs).
    expect(sha256(await readAll(await direct.openRead('out/big.jsonl')))).toBe(sha256(Buffer.concat(chunks)));
  });

  it('leaves nothing at the key when a write is aborted or its stream fails', async () => {
    const aborted = direct.openWrite('out/aborted.jsonl', { contentType: 'application/x-ndjson' });
    aborted.stream.write(Buffer.alloc(6 * MIB, 3));
    await aborted.abort(new Error('row 17: the model went away'));
    await expect(aborted.done).rejects.toThrow('row 17: the model went away');

    const failed = direct.openWrite('out/failed.jsonl', { contentType: 'application/x-ndjson' });
    failed.stream.write('{"row":0}\n');
    failed.stream.destroy(new Error('encoder crashed'));
    await expect(failed.done).rejects.toThrow('encoder crashed');

    await expect(direct.exists('out/aborted.jsonl')).resolves.toBe(false);
    await expect(direct.exists('out/failed.jsonl')).resolves.toBe(false);
  });

  // One page only: s3rver 3.7.1's ListObjectsV2 continuation tokens use DES, which Node 20's
  // OpenSSL 3 no longer offers, so a truncated listing answers 500 there (paging is the SDK's paginator).
  it('lists a prefix in key order', async () => {
    const keys = Array.from({ length: 11 }, (_, i) => `list/p-${String(i).padStart(4, '0')}`);
    await Promise.all([...keys].reverse().map((key) => s3.putObject(BUCKET, key, 'x')));
    await s3.putObject(BUCKET, 'listing-not-this', 'x');

    const listed: string[] = [];
    for await (const item of direct.list('list/')) listed.push(item.key);

    expect(listed).toEqual(keys);
  });

  it('deletes, and deleting an absent object is not an error', async () => {
    await s3.putObject(BUCKET, 'tmp/x', 'x');
    await direct.delete('tmp/x');
    await direct.delete('tmp/x');
    await expect(direct.exists('tmp/x')).resolves.toBe(false);
  });

  it('lets exactly one of concurrent conditional writes create the manifest (If-None-Match: *)', async () => {
    // Act: eight writers race for one key, as eight deliveries of one event would.
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => proxied.putIfAbsent('out/manifest.json', JSON.stringify({ writer: i }), { contentType: 'application/json' })),
    );

    // Assess
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.indexOf(true);
    expect(JSON.parse((await readAll(await proxied.openRead('out/manifest.json'))).toString())).toEqual({ writer: winner });
    expect(proxy.calls.get('put-if-none-match')).toBe(8);
    await expect(proxied.putIfAbsent('out/manifest.json', '{}', { contentType: 'application/json' })).resolves.toBe(false);
  });

  it('assembles parts in order with server-side part copies, joining only pieces under the minimum here', async () => {
    // Prepare: big and small pieces, an empty one, in an order that needs every branch.
    const sizes = [200_000, 10_000, 30_000, 100_000, 0, 70_000, 5_000, 64 * 1024, 3];
    const pieces = sizes.map((size, i) => pattern(size, i + 10));
    const parts = [];
    for (const [i, piece] of pieces.entries()) {
      await s3.putObject(BUCKET, `parts/scores-${i}`, piece);
      parts.push({ key: `parts/scores-${i}`, size: piece.byteLength, etag: (await direct.head(`parts/scores-${i}`)).etag });
    }
    const copiesBefore = proxy.calls.get('upload-part-copy') ?? 0;

    // Act
    const report = await assembleS3Object(proxiedClient, BUCKET, 'out/scores.jsonl', parts, { contentType: 'application/x-ndjson', minPartBytes: TEST_MIN_PART });

    // Assess
    const whole = Buffer.concat(pieces);
    expect(sha256(await readAll(await direct.openRead('out/scores.jsonl')))).toBe(sha256(whole));
    expect(report.bytes).toBe(whole.byteLength);
    expect(report.copiedParts).toBeGreaterThanOrEqual(3);
    expect(proxy.calls.get('upload-part-copy')! - copiesBefore).toBe(report.copiedParts);
    // Only pieces under the minimum (and the heads needed to top them up) passed through here.
    expect(report.bytesThroughProcess).toBeLessThan(whole.byteLength / 2);
  });

  it('refuses to copy a part that changed since its worker wrote it, and leaves no object', async () => {
    await s3.putObject(BUCKET, 'parts/changed', pattern(100_000, 1));
    const { etag } = await direct.head('parts/changed');
    await s3.putObject(BUCKET, 'parts/changed', pattern(100_000, 2));

    await expect(
      assembleS3Object(proxiedClient, BUCKET, 'out/changed.jsonl', [{ key: 'parts/changed', size: 100_000, etag }], { contentType: 'application/x-ndjson', minPartBytes: TEST_MIN_PART }),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });
    await expect(direct.exists('out/changed.jsonl')).resolves.toBe(false);
  });

  it('writes an empty object for an assembly of empty parts', async () => {
    await s3.putObject(BUCKET, 'parts/empty', '');

    const report = await assembleS3Object(proxiedClient, BUCKET, 'out/empty.jsonl', [{ key: 'parts/empty', size: 0 }], { contentType: 'application/x-ndjson' });

    expect(report).toMatchObject({ bytes: 0, copiedParts: 0, uploadedParts: 0 });
    expect(await readAll(await direct.openRead('out/empty.jsonl'))).toHaveLength(0);
  });

  it('enforces the minimum part size the way S3 does (the check the assembler is written against)', async () => {
    const { UploadId } = await proxiedClient.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'out/too-small' }));
    const one = await proxiedClient.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'out/too-small', UploadId, PartNumber: 1, Body: pattern(1_000, 1) }));
    const two = await proxiedClient.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'out/too-small', UploadId, PartNumber: 2, Body: pattern(1_000, 2) }));

    await expect(
      proxiedClient.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'out/too-small', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: one.ETag }, { PartNumber: 2, ETag: two.ETag }] } })),
    ).rejects.toMatchObject({ name: 'EntityTooSmall' });
  });
});
