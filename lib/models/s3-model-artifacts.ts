import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, statfs } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import type { S3ModelsConfig } from '../config/serving-config';
import { ModelVerificationError } from '../errors/hotpath-error';
import type { ManifestModel } from './model-manifest-types';
import { parseS3Uri, type S3ObjectLocation } from './s3-uri';

/** A model artifact fetched from S3 into the cache folder, size and sha256 checked against the manifest. */
export interface FetchedArtifact {
  /** The file in the cache folder (`<cacheDir>/<manifest file>`). */
  readonly path: string;
  readonly bytes: Uint8Array;
  /** `downloaded` from S3, or `reused`: the cache already held a file with the manifest's size and sha256. */
  readonly source: 'downloaded' | 'reused';
  /** ms loading the SDK and creating the client, paid by the first download of an instance; 0 otherwise. */
  readonly clientMs: number;
  /** ms spent in GetObject and streaming to disk (hashing on the way); 0 when reused. */
  readonly downloadMs: number;
  /** ms reading the file back (and, when reused, hashing it). */
  readonly readMs: number;
}

/** Fetches the artifacts of models whose manifest entry has `s3Prefix`. */
export interface S3ModelArtifacts {
  fetch(model: ManifestModel, label: string): Promise<FetchedArtifact>;
}

/**
 * Where manifest `s3Prefix` artifacts (at the prefix + `file`) go and how they get there (HOTPATH_S3_MODELS_*): each is
 * downloaded once into `cacheDir` (Lambda's /tmp, which outlives INIT in the same sandbox),
 * streamed to disk through a sha256 hash, never held whole in memory while it arrives, and
 * bounded by `timeoutMs` from the request to the last byte. A file already there with the
 * manifest's size and sha256 is used without a request. The S3 client is created on the first
 * fetch (the SDK is loaded only by instances that serve a model from S3); `createClient`
 * replaces it (tests).
 *
 * @example
 * const artifacts = createS3ModelArtifacts(config.s3Models);
 * const { path, bytes, source } = await artifacts.fetch(model, 'text-detector@1');
 */
export function createS3ModelArtifacts(settings: S3ModelsConfig, createClient: () => Promise<S3Client> = () => defaultS3Client(settings)): S3ModelArtifacts {
  let client: Promise<S3Client> | undefined;
  return {
    async fetch(model, label) {
      const location = parseS3Uri(`${model.s3Prefix ?? ''}${model.file}`);
      if (!location) throw new ModelVerificationError(`model '${label}': "s3Prefix" ${JSON.stringify(model.s3Prefix)} and "file" '${model.file}' are not s3://bucket/key`);
      const path = cachePath(settings.cacheDir, model, label);
      const started = performance.now();
      const cached = await readIfVerified(path, model);
      if (cached) return { path, bytes: cached, source: 'reused', clientMs: 0, downloadMs: 0, readMs: performance.now() - started };
      await mkdir(dirname(path), { recursive: true });
      await assertRoomFor(model, label, path, settings.cacheDir);
      const clientStarted = performance.now();
      const first = client === undefined;
      const s3 = await (client ??= createClient());
      const clientDone = performance.now();
      await download(s3, location, model, label, path, settings.timeoutMs);
      const downloaded = performance.now();
      const bytes = await readFile(path);
      return { path, bytes, source: 'downloaded', clientMs: first ? clientDone - clientStarted : 0, downloadMs: downloaded - clientDone, readMs: performance.now() - downloaded };
    },
  };
}

/**
 * The SDK's client with the default credential chain (the function's role on Lambda) and
 * region (AWS_REGION); with HOTPATH_S3_ENDPOINT, that S3-compatible server, path-style.
 * Loaded with import(): scripts/function-bundle-options.ts keeps @aws-sdk/* external, so on
 * Lambda this is the SDK v3 the nodejs22.x runtime ships (S3Client and GetObject exist in every v3).
 */
async function defaultS3Client(settings: S3ModelsConfig): Promise<S3Client> {
  const { S3Client } = await import('@aws-sdk/client-s3');
  return settings.endpoint === undefined
    ? new S3Client({ followRegionRedirects: true })
    : new S3Client({ endpoint: settings.endpoint, forcePathStyle: true });
}

function cachePath(cacheDir: string, model: ManifestModel, label: string): string {
  const root = resolve(cacheDir);
  const path = resolve(root, model.file);
  if (!path.startsWith(`${root}${sep}`)) throw new ModelVerificationError(`model '${label}': "file" '${model.file}' leaves the S3 models cache folder; give a relative path such as ${model.name}/${model.version}/model.onnx`);
  return path;
}

/** The cached file's bytes when its size and sha256 are the manifest's; undefined when absent or different (then downloaded again). */
async function readIfVerified(path: string, model: ManifestModel): Promise<Uint8Array | undefined> {
  const info = await stat(path).catch(() => undefined);
  if (info === undefined || info.size !== model.bytes) return undefined;
  const bytes = await readFile(path);
  return createHash('sha256').update(bytes).digest('hex') === model.sha256 ? bytes : undefined;
}

/** Refuses before the download when the cache folder's file system lacks the room (Lambda's /tmp: 512 MB unless ephemeralStorage is raised). */
async function assertRoomFor(model: ManifestModel, label: string, path: string, cacheDir: string): Promise<void> {
  const space = await statfs(dirname(path)).catch(() => undefined);
  if (space === undefined) return;
  const free = space.bavail * space.bsize;
  const replaced = (await stat(path).catch(() => undefined))?.size ?? 0;
  if (free + replaced < model.bytes) {
    throw new ModelVerificationError(
      `model '${label}': needs ${mb(model.bytes)} in ${cacheDir}, ${mb(free)} free; raise the function's ephemeralStorage (Lambda's /tmp, 512 MB by default, up to 10,240 MB) or set HOTPATH_S3_MODELS_CACHE_DIR`,
    );
  }
}

/**
 * GetObject streamed through sha256 into a temporary file beside `path`, renamed into place
 * only when size and hash are the manifest's, so a partial or wrong file never sits at `path`.
 */
async function download(client: S3Client, location: S3ObjectLocation, model: ManifestModel, label: string, path: string, timeoutMs: number): Promise<void> {
  const { GetObjectCommand } = await import('@aws-sdk/client-s3');
  const uri = `s3://${location.bucket}/${location.key}`;
  const signal = AbortSignal.timeout(timeoutMs);
  const partial = `${path}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
  const hash = createHash('sha256');
  let received = 0;
  try {
    const answer = await client.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key }), { abortSignal: signal as never });
    if (answer.ContentLength !== undefined && answer.ContentLength !== model.bytes) {
      (answer.Body as Readable | undefined)?.destroy();
      throw new ModelVerificationError(`model '${label}': ${uri} has ${answer.ContentLength} bytes, manifest says ${model.bytes}; upload the file the build wrote, or rebuild the layer`);
    }
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        hash.update(chunk);
        callback(received > model.bytes ? new ModelVerificationError(`model '${label}': ${uri} sent more than the manifest's ${model.bytes} bytes`) : null, chunk);
      },
    });
    await pipeline(answer.Body as Readable, counter, createWriteStream(partial, { flags: 'wx' }), { signal });
    const sha256 = hash.digest('hex');
    if (received !== model.bytes) throw new ModelVerificationError(`model '${label}': ${uri} sent ${received} bytes, manifest says ${model.bytes}`);
    if (sha256 !== model.sha256) {
      throw new ModelVerificationError(`model '${label}': sha256 of ${uri} is ${sha256}, manifest says ${model.sha256}; upload the file the build wrote, or rebuild the layer`);
    }
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true });
    throw s3Refusal(error, { label, uri, location, received, model, timeoutMs, timedOut: signal.aborted });
  }
}

interface RefusalContext {
  readonly label: string;
  readonly uri: string;
  readonly location: S3ObjectLocation;
  readonly received: number;
  readonly model: ManifestModel;
  readonly timeoutMs: number;
  readonly timedOut: boolean;
}

/** What went wrong, said so that the operator knows what to fix (the model is refused; the others serve). */
function s3Refusal(error: unknown, context: RefusalContext): ModelVerificationError {
  if (error instanceof ModelVerificationError) return error;
  const { label, uri, location } = context;
  if (context.timedOut) {
    return new ModelVerificationError(
      `model '${label}': downloading ${uri} did not finish within ${context.timeoutMs} ms (HOTPATH_S3_MODELS_TIMEOUT_MS); ${context.received} of ${context.model.bytes} bytes arrived`, error,
    );
  }
  const name = (error as { name?: string }).name ?? 'Error';
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (name === 'NoSuchKey' || (status === 404 && name !== 'NoSuchBucket')) {
    return new ModelVerificationError(`model '${label}': ${uri} does not exist; upload the file the build wrote (npm run build:layers prints the aws s3 cp command)`, error);
  }
  if (name === 'NoSuchBucket') return new ModelVerificationError(`model '${label}': bucket '${location.bucket}' of ${uri} does not exist`, error);
  if (name === 'AccessDenied' || status === 403) {
    return new ModelVerificationError(`model '${label}': reading ${uri} was denied; grant the function's role s3:GetObject on arn:aws:s3:::${location.bucket}/${location.key}`, error);
  }
  return new ModelVerificationError(`model '${label}': downloading ${uri} failed: ${name}: ${(error as Error).message}`, error);
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
