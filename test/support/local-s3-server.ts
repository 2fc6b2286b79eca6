import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

/** The region the local server's clients sign for; s3rver accepts any. */
export const LOCAL_S3_REGION = 'us-east-1';

/** Dummy credentials: s3rver is started with allowMismatchedSignatures, so any secret signs. */
export const LOCAL_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface LocalS3ServerOptions {
  /** Buckets that exist when the server starts. */
  buckets?: readonly string[];
  /** Where objects are kept; a fresh temporary folder (removed by stop()) by default. */
  directory?: string;
}

export interface LocalS3Server {
  /** `http://127.0.0.1:<port>`, no trailing slash: the `endpoint` of an S3Client (path-style). */
  endpoint: string;
  /** The folder the objects are kept in. */
  directory: string;
  /** A client for this server (see createLocalS3Client). */
  client(): S3Client;
  /** Stores `body` at s3://bucket/key. */
  putObject(bucket: string, key: string, body: Uint8Array | string): Promise<void>;
  /** Closes the server (open keep-alive sockets included) and removes a folder it created. */
  stop(): Promise<void>;
}

/**
 * An S3Client for a local S3-compatible server: path-style URLs (`<endpoint>/<bucket>/<key>`,
 * no bucket in the host name), dummy credentials, a fixed region, so nothing is read from
 * the environment or ~/.aws.
 */
export function createLocalS3Client(endpoint: string): S3Client {
  return new S3Client({ endpoint, forcePathStyle: true, region: LOCAL_S3_REGION, credentials: LOCAL_S3_CREDENTIALS });
}

/**
 * Starts a real S3-compatible server (s3rver 3.7.1: GetObject with Range, PutObject, ListObjects,
 * HeadObject...) on 127.0.0.1 at a free port the OS picks (port 0, so two never collide),
 * with `buckets` created.
 *
 * @example
 * const s3 = await startLocalS3Server({ buckets: ['models'] });
 * try {
 *   await s3.putObject('models', 'iris/1/model.onnx', bytes);
 *   const client = s3.client(); // or createLocalS3Client(s3.endpoint) in another process
 * } finally { await s3.stop(); }
 */
export async function startLocalS3Server(options: LocalS3ServerOptions = {}): Promise<LocalS3Server> {
  const ownsDirectory = options.directory === undefined;
  const directory = options.directory ?? mkdtempSync(join(tmpdir(), 'hotpath-local-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    allowMismatchedSignatures: true,
    vhostBuckets: false,
    configureBuckets: (options.buckets ?? []).map((name) => ({ name })),
  });
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  let client: S3Client | undefined;
  return {
    endpoint,
    directory,
    client: () => (client ??= createLocalS3Client(endpoint)),
    async putObject(bucket, key, body) {
      await (client ??= createLocalS3Client(endpoint)).send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    },
    async stop() {
      client?.destroy();
      // Keep-alive sockets (the SDK's agent, a test's fetch) would hold close() open.
      server.httpServer?.closeAllConnections();
      await server.close();
      if (ownsDirectory) rmSync(directory, { recursive: true, force: true });
    },
  };
}
