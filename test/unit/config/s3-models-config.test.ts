import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadServingConfig } from '../../../lib/config/serving-config';

describe('serving-config s3Models (HOTPATH_S3_*)', () => {
  it('defaults to the OS temp folder (Lambda /tmp), 60 s per download, AWS S3, nothing moved at build', () => {
    expect(loadServingConfig({}).s3Models).toEqual({ cacheDir: join(tmpdir(), 'hotpath-s3-models'), timeoutMs: 60_000, endpoint: undefined, buildMoves: [], buildPrefix: undefined });
  });

  it('reads the cache folder, timeout, endpoint and the build moves when set', () => {
    const config = loadServingConfig({
      HOTPATH_S3_MODELS_CACHE_DIR: 'cache', HOTPATH_S3_MODELS_TIMEOUT_MS: '1500', HOTPATH_S3_ENDPOINT: 'http://127.0.0.1:4568/',
      HOTPATH_S3_MODELS: 'text-detector, mlp-large', HOTPATH_S3_PREFIX: 's3://b/p/',
    }).s3Models;
    expect(config).toEqual({ cacheDir: resolve('cache'), timeoutMs: 1500, endpoint: 'http://127.0.0.1:4568', buildMoves: ['text-detector', 'mlp-large'], buildPrefix: 's3://b/p/' });
  });

  it('refuses a bad value naming the variable', () => {
    expect(() => loadServingConfig({ HOTPATH_S3_MODELS_TIMEOUT_MS: '0' })).toThrow("HOTPATH_S3_MODELS_TIMEOUT_MS: '0' is not an integer between 1 and 900000");
    expect(() => loadServingConfig({ HOTPATH_S3_ENDPOINT: 'http://127.0.0.1:4568/bucket' })).toThrow('HOTPATH_S3_ENDPOINT: ');
    expect(() => loadServingConfig({ HOTPATH_S3_MODELS: 'a/b', HOTPATH_S3_PREFIX: 's3://b/' })).toThrow("HOTPATH_S3_MODELS: 'a/b' is not a comma-separated list of model names");
    expect(() => loadServingConfig({ HOTPATH_S3_MODELS: 'a' })).toThrow('HOTPATH_S3_MODELS needs HOTPATH_S3_PREFIX');
  });
});
