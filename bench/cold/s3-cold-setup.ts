import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ManifestModel, ModelManifest } from '../../lib/models/model-manifest-types';
import { LOCAL_S3_CREDENTIALS, startLocalS3Server, type LocalS3Server } from '../../test/support/local-s3-server';
import type { ColdConfig } from './cold-configs';

const BUCKET = 'hotpath-cold-bench';

/** What the `s3` configurations of the local cold-start bench need: a local S3 server holding their models, a manifest that points there, a /tmp per configuration. */
export interface S3ColdSetup {
  /** The child's extra environment for an `s3` configuration. */
  envFor(config: ColdConfig): Record<string, string>;
  /** Before each sample: `download` starts from an empty cache folder; `warm-tmp` finds the file there. */
  beforeSample(config: ColdConfig): void;
  /** The served artifact's bytes per model name, for the real-S3 estimate. */
  readonly bytes: ReadonlyMap<string, number>;
  stop(): Promise<void>;
}

/**
 * Starts a local S3 server (s3rver, 127.0.0.1) and uploads the artifacts of the `s3` configurations'
 * models from `modelsDir`; writes a models folder whose manifest lists those models with `s3Prefix`
 * (no files: what `build:layers --s3-models` deploys). The loopback is not S3: no network
 * latency, no per-connection bandwidth limit; see BENCHMARKS.md "Models from S3" for the estimate.
 */
export async function startS3ColdSetup(configs: readonly ColdConfig[], modelsDir: string): Promise<S3ColdSetup> {
  const names = [...new Set(configs.filter((c) => c.s3 !== undefined).map((c) => c.models!))];
  const manifest = JSON.parse(readFileSync(join(modelsDir, 'manifest.json'), 'utf8')) as ModelManifest;
  const root = mkdtempSync(join(tmpdir(), 'hotpath-cold-s3-'));
  const s3Manifest: ManifestModel[] = [];
  const bytes = new Map<string, number>();
  let server: LocalS3Server | undefined;
  try {
    server = await startLocalS3Server({ buckets: [BUCKET], directory: join(root, 's3rver') });
    for (const name of names) {
      const model = manifest.models.filter((m) => m.name === name).sort((a, b) => Number(b.version) - Number(a.version))[0];
      if (!model) throw new Error(`bench:cold s3: model '${name}' is not in ${modelsDir}/manifest.json`);
      for (const file of [model.file, ...(model.kernel ? [model.kernel.file] : [])]) await server.putObject(BUCKET, file, readFileSync(join(modelsDir, file)));
      s3Manifest.push({ ...model, s3Prefix: `s3://${BUCKET}/` });
      // The file INIT fetches: the kernel plan's where the kernel backend serves the model (HOTPATH_BACKEND=wasm).
      bytes.set(name, model.kernel?.bytes ?? model.bytes);
    }
  } catch (error) {
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
  const s3ModelsDir = join(root, 'models');
  mkdirSync(s3ModelsDir, { recursive: true });
  writeFileSync(join(s3ModelsDir, 'manifest.json'), JSON.stringify({ schemaVersion: 1, models: s3Manifest }, null, 2));
  const cacheDirFor = (config: ColdConfig) => join(root, 'tmp', config.id.replace(/[^A-Za-z0-9.-]+/g, '_'));
  const endpoint = server.endpoint;
  const running = server;
  return {
    bytes,
    envFor(config): Record<string, string> {
      if (config.s3 === undefined) return {};
      return {
        HOTPATH_MODELS_DIR: s3ModelsDir,
        HOTPATH_S3_ENDPOINT: endpoint,
        HOTPATH_S3_MODELS_CACHE_DIR: cacheDirFor(config),
        // The SDK's default credential chain reads these first (on Lambda: the role's).
        AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
      };
    },
    beforeSample(config) {
      if (config.s3 === undefined) return;
      const cacheDir = cacheDirFor(config);
      rmSync(cacheDir, { recursive: true, force: true });
      if (config.s3 === 'warm-tmp') {
        const model = s3Manifest.find((m) => m.name === config.models)!;
        for (const file of [model.file, ...(model.kernel ? [model.kernel.file] : [])]) {
          mkdirSync(dirname(join(cacheDir, file)), { recursive: true });
          copyFileSync(join(modelsDir, file), join(cacheDir, file));
        }
      }
    },
    async stop() {
      await running.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
