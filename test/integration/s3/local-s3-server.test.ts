import { GetObjectCommand, HeadObjectCommand, NoSuchKey, S3ServiceException } from '@aws-sdk/client-s3';
import { existsSync } from 'node:fs';
import { createLocalS3Client, startLocalS3Server } from '../../support/local-s3-server';

describe('startLocalS3Server', () => {
  it('serves objects put in its buckets to a path-style client, ranged reads included, on 127.0.0.1', async () => {
    // prepare
    const s3 = await startLocalS3Server({ buckets: ['models', 'other'] });
    try {
      const bytes = new Uint8Array(300_000).map((_, i) => (i * 7) % 251);
      await s3.putObject('models', 'iris/1/model.onnx', bytes);
      const client = createLocalS3Client(s3.endpoint);

      // act
      const head = await client.send(new HeadObjectCommand({ Bucket: 'models', Key: 'iris/1/model.onnx' }));
      const whole = await client.send(new GetObjectCommand({ Bucket: 'models', Key: 'iris/1/model.onnx' }));
      const wholeBytes = await whole.Body!.transformToByteArray();
      const range = await client.send(new GetObjectCommand({ Bucket: 'models', Key: 'iris/1/model.onnx', Range: 'bytes=10-19' }));
      const rangeBytes = await range.Body!.transformToByteArray();
      client.destroy();

      // assess
      expect(s3.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(head.ContentLength).toBe(300_000);
      expect(Buffer.from(wholeBytes).equals(Buffer.from(bytes))).toBe(true);
      expect([...rangeBytes]).toEqual([...bytes.subarray(10, 20)]);
    } finally {
      await s3.stop();
    }
  });

  it('answers NoSuchKey for a missing object and NoSuchBucket for a bucket it was not given', async () => {
    const s3 = await startLocalS3Server({ buckets: ['models'] });
    try {
      const client = s3.client();
      await expect(client.send(new GetObjectCommand({ Bucket: 'models', Key: 'absent' }))).rejects.toBeInstanceOf(NoSuchKey);
      const missingBucket = await client.send(new GetObjectCommand({ Bucket: 'nobucket', Key: 'k' })).catch((error: unknown) => error);
      expect(missingBucket).toBeInstanceOf(S3ServiceException);
      expect((missingBucket as S3ServiceException).name).toBe('NoSuchBucket');
    } finally {
      await s3.stop();
    }
  });

  it('stops listening and removes its folder on stop()', async () => {
    const s3 = await startLocalS3Server({ buckets: ['models'] });
    await s3.putObject('models', 'k', 'v');
    const client = s3.client();
    await client.send(new GetObjectCommand({ Bucket: 'models', Key: 'k' }));

    await s3.stop();

    expect(existsSync(s3.directory)).toBe(false);
    await expect(fetch(`${s3.endpoint}/models/k`)).rejects.toThrow();
  });
});
