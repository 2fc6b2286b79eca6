import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { WasmBackend } from '../../../lib/backends/wasm-backend';
import type { S3ModelsConfig } from '../../../lib/config/serving-config';
import { loadModelRegistry, type ModelRegistryLogger } from '../../../lib/models/model-loader';
import type { ManifestModel, ModelManifest } from '../../../lib/models/model-manifest-types';
import type { ModelRegistry } from '../../../lib/models/model-registry';
import { createS3ModelArtifacts } from '../../../lib/models/s3-model-artifacts';
import { createLocalS3Client, startLocalS3Server, type LocalS3Server } from '../../support/local-s3-server';

const BUILT_MODELS = resolve('layers/models/build/models');
const BUCKET = 'hotpath-models';

class RecordingLogger implements ModelRegistryLogger {
  readonly lines: Array<{ level: string; message: string; extra: Record<string, unknown> }> = [];
  info(message: string, extra: Record<string, unknown> = {}): void {
    this.lines.push({ level: 'info', message, extra });
  }
  error(message: string, extra: Record<string, unknown> = {}): void {
    this.lines.push({ level: 'error', message, extra });
  }
  readyLine(model: string): Record<string, unknown> | undefined {
    return this.lines.find((l) => l.message === `model '${model}@1' ready`)?.extra;
  }
}

function builtManifest(): ModelManifest {
  const path = join(BUILT_MODELS, 'manifest.json');
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build:layers\` first`);
  return JSON.parse(readFileSync(path, 'utf8')) as ModelManifest;
}

function reasonOf(registry: ModelRegistry, name: string): string {
  const state = registry.find(name).state;
  return state.ready ? 'ready' : state.reason;
}

describe('models loaded from S3 at INIT (real local S3 server, real onnxruntime-web)', () => {
  const built = builtManifest();
  const iris = built.models.find((m) => m.name === 'iris-classifier')!;
  const mlpSmall = built.models.find((m) => m.name === 'mlp-small')!;
  const irisBytes = readFileSync(join(BUILT_MODELS, iris.file));
  const mlpBytes = readFileSync(join(BUILT_MODELS, mlpSmall.file));
  const backend = new WasmBackend({ ortWebDir: undefined, numThreads: 1 });
  const backendFor = (platform: string) => (backend.platforms.includes(platform as 'onnx_onnxv1') ? backend : undefined);
  let s3: LocalS3Server;
  let cacheDir: string;

  beforeEach(async () => {
    s3 = await startLocalS3Server({ buckets: [BUCKET] });
    cacheDir = mkdtempSync(join(tmpdir(), 'hotpath-s3-cache-'));
  });
  afterEach(async () => {
    await s3.stop().catch(() => undefined);
    rmSync(cacheDir, { recursive: true, force: true });
  });

  /** The layer's iris beside `fromS3` models: what a function serves when some of its models are in S3. */
  function manifestWith(...fromS3: ManifestModel[]): ModelManifest {
    return { schemaVersion: 1, models: [iris, ...fromS3] };
  }
  /** A model whose file is at s3://BUCKET/models/<name>/1/model.onnx. */
  function inS3(base: ManifestModel, name: string): ManifestModel {
    return { ...base, name, file: `${name}/1/model.onnx`, s3Prefix: `s3://${BUCKET}/models/`, serveByDefault: true };
  }
  function load(manifest: ModelManifest, logger: ModelRegistryLogger, settings: Partial<S3ModelsConfig> = {}, endpoint = s3.endpoint): Promise<ModelRegistry> {
    const config: S3ModelsConfig = { cacheDir, timeoutMs: 10_000, endpoint, buildMoves: [], buildPrefix: undefined, ...settings };
    return loadModelRegistry({
      modelsDir: BUILT_MODELS, manifest, selection: '*', backendFor, warmup: true, logger,
      s3Artifacts: createS3ModelArtifacts(config, async () => createLocalS3Client(endpoint)),
    });
  }

  it('downloads the artifact into the cache folder, checks it and serves it, when the manifest says s3Prefix', async () => {
    // prepare
    await s3.putObject(BUCKET, 'models/mlp-from-s3/1/model.onnx', mlpBytes);
    const logger = new RecordingLogger();

    // act
    const registry = await load(manifestWith(inS3(mlpSmall, 'mlp-from-s3')), logger);

    // assess
    expect(reasonOf(registry, 'mlp-from-s3')).toBe('ready');
    expect(reasonOf(registry, 'iris-classifier')).toBe('ready');
    const cached = readFileSync(join(cacheDir, 'mlp-from-s3/1/model.onnx'));
    expect(createHash('sha256').update(cached).digest('hex')).toBe(mlpSmall.sha256);
    expect(readdirSync(join(cacheDir, 'mlp-from-s3/1'))).toEqual(['model.onnx']);
    expect(logger.readyLine('mlp-from-s3')).toMatchObject({ s3: 'downloaded', s3Bytes: mlpSmall.bytes });
    await registry.dispose();
  });

  it('reuses the file in the cache on a second INIT without asking S3 (the server is stopped)', async () => {
    await s3.putObject(BUCKET, 'models/iris-s3/1/model.onnx', irisBytes);
    const first = await load(manifestWith(inS3(iris, 'iris-s3')), new RecordingLogger());
    await first.dispose();
    await s3.stop();
    const logger = new RecordingLogger();

    const second = await load(manifestWith(inS3(iris, 'iris-s3')), logger);

    expect(reasonOf(second, 'iris-s3')).toBe('ready');
    expect(logger.readyLine('iris-s3')).toMatchObject({ s3: 'reused', s3ClientMs: 0, s3DownloadMs: 0 });
    await second.dispose();
  });

  it('downloads again when the cached file no longer matches the manifest', async () => {
    await s3.putObject(BUCKET, 'models/iris-s3/1/model.onnx', irisBytes);
    await (await load(manifestWith(inS3(iris, 'iris-s3')), new RecordingLogger())).dispose();
    const cachedPath = join(cacheDir, 'iris-s3/1/model.onnx');
    const corrupt = Buffer.from(irisBytes);
    corrupt[100] ^= 0xff;
    writeFileSync(cachedPath, corrupt);
    const logger = new RecordingLogger();

    const registry = await load(manifestWith(inS3(iris, 'iris-s3')), logger);

    expect(reasonOf(registry, 'iris-s3')).toBe('ready');
    expect(logger.readyLine('iris-s3')).toMatchObject({ s3: 'downloaded' });
    expect(readFileSync(cachedPath).equals(irisBytes)).toBe(true);
    await registry.dispose();
  });

  it('refuses an object whose sha256 is not the manifest\'s, naming the model, and leaves no file; the others serve', async () => {
    const tampered = Buffer.from(irisBytes);
    tampered[200] ^= 0x01;
    await s3.putObject(BUCKET, 'models/iris-s3/1/model.onnx', tampered);
    const logger = new RecordingLogger();

    const registry = await load(manifestWith(inS3(iris, 'iris-s3')), logger);

    const reason = reasonOf(registry, 'iris-s3');
    expect(reason).toContain("model 'iris-s3@1': sha256 of s3://hotpath-models/models/iris-s3/1/model.onnx is ");
    expect(reason).toContain(`manifest says ${iris.sha256}`);
    expect(logger.lines.some((l) => l.level === 'error' && l.message.startsWith("model 'iris-s3@1' refused: model 'iris-s3@1': sha256 of s3://"))).toBe(true);
    expect(reasonOf(registry, 'iris-classifier')).toBe('ready');
    expect(existsSync(join(cacheDir, 'iris-s3/1')) ? readdirSync(join(cacheDir, 'iris-s3/1')) : []).toEqual([]);
    await registry.dispose();
  });

  it('refuses an object of another size before streaming it', async () => {
    await s3.putObject(BUCKET, 'models/iris-s3/1/model.onnx', Buffer.concat([irisBytes, Buffer.from([0])]));

    const registry = await load(manifestWith(inS3(iris, 'iris-s3')), new RecordingLogger());

    expect(reasonOf(registry, 'iris-s3')).toBe(`model 'iris-s3@1': s3://hotpath-models/models/iris-s3/1/model.onnx has ${iris.bytes + 1} bytes, manifest says ${iris.bytes}; upload the file the build wrote, or rebuild the layer`);
    await registry.dispose();
  });

  it('refuses a missing object and a missing bucket with what to do; the others serve', async () => {
    const missingObject = inS3(iris, 'iris-absent');
    const missingBucket = { ...inS3(iris, 'iris-nobucket'), s3Prefix: 's3://no-such-bucket/' };

    const registry = await load(manifestWith(missingObject, missingBucket), new RecordingLogger());

    expect(reasonOf(registry, 'iris-absent')).toContain("model 'iris-absent@1': s3://hotpath-models/models/iris-absent/1/model.onnx does not exist; upload the file");
    expect(reasonOf(registry, 'iris-nobucket')).toBe("model 'iris-nobucket@1': bucket 'no-such-bucket' of s3://no-such-bucket/iris-nobucket/1/model.onnx does not exist");
    expect(reasonOf(registry, 'iris-classifier')).toBe('ready');
    await registry.dispose();
  });

  it('gives up on a download that stalls past HOTPATH_S3_MODELS_TIMEOUT_MS, saying how much arrived', async () => {
    // A server that answers GetObject's head and half the body, then sends nothing more.
    const stalled: Server = createServer((_request, response) => {
      response.writeHead(200, { 'content-length': String(mlpSmall.bytes), 'content-type': 'application/octet-stream' });
      response.write(mlpBytes.subarray(0, 65_536));
    });
    stalled.listen(0, '127.0.0.1');
    await new Promise((done) => stalled.once('listening', done));
    const endpoint = `http://127.0.0.1:${(stalled.address() as AddressInfo).port}`;
    try {
      const started = performance.now();
      const registry = await load(manifestWith(inS3(mlpSmall, 'mlp-stalled')), new RecordingLogger(), { timeoutMs: 400 }, endpoint);
      const elapsed = performance.now() - started;

      expect(reasonOf(registry, 'mlp-stalled')).toMatch(/^model 'mlp-stalled@1': downloading s3:\/\/hotpath-models\/models\/mlp-stalled\/1\/model.onnx did not finish within 400 ms \(HOTPATH_S3_MODELS_TIMEOUT_MS\); \d+ of 1062925 bytes arrived$/);
      expect(reasonOf(registry, 'iris-classifier')).toBe('ready');
      expect(elapsed).toBeLessThan(5_000);
      expect(existsSync(join(cacheDir, 'mlp-stalled/1')) ? readdirSync(join(cacheDir, 'mlp-stalled/1')) : []).toEqual([]);
      await registry.dispose();
    } finally {
      stalled.closeAllConnections();
      stalled.close();
    }
  });

  it('refuses an S3 model where the loader was given no way to fetch it', async () => {
    const registry = await loadModelRegistry({
      modelsDir: BUILT_MODELS, manifest: manifestWith(inS3(iris, 'iris-s3')), selection: '*', backendFor, warmup: false, logger: new RecordingLogger(),
    });
    expect(reasonOf(registry, 'iris-s3')).toContain('its artifact is in S3 (s3://hotpath-models/models/iris-s3/1/model.onnx) and this runtime fetches none');
    await registry.dispose();
  });
});
