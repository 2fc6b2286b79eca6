import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const S3ModelsParamsCheck = createRequire(__filename)('../../../serverless-plugins/s3-models-params-check.js') as new (serverless: unknown) => { check(): void };

class FakeServerlessError extends Error {}

/** The plugin run against a service whose models layer (at <dir>/layer) holds `models`, with the given s3Models params. */
function check(dir: string, params: { enabled: string; bucket?: string; keyPrefix?: string }, models: Record<string, unknown>[]): void {
  mkdirSync(join(dir, 'layer/models'), { recursive: true });
  writeFileSync(join(dir, 'layer/models/manifest.json'), JSON.stringify({ models }));
  const serverless = {
    serviceDir: dir,
    classes: { Error: FakeServerlessError },
    service: { custom: { s3Models: { bucket: '', keyPrefix: '', ...params } }, layers: { models: { path: 'layer' } } },
  };
  new S3ModelsParamsCheck(serverless).check();
}

describe('serverless-plugins/s3-models-params-check', () => {
  let dir: string;
  const inLayer = { name: 'iris-classifier', version: '1', file: 'iris-classifier/1/model.onnx' };
  const inS3 = { name: 'big-model', version: '1', file: 'big-model/1/model.onnx', s3Prefix: 's3://my-bucket/models/' };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hotpath-s3-params-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes a layer without S3 models, with or without the grant', () => {
    expect(() => check(dir, { enabled: 'false' }, [inLayer])).not.toThrow();
    expect(() => check(dir, { enabled: 'true', bucket: 'my-bucket', keyPrefix: 'models/' }, [inLayer])).not.toThrow();
  });

  it('passes S3 models whose prefix the grant covers', () => {
    expect(() => check(dir, { enabled: 'true', bucket: 'my-bucket', keyPrefix: 'models/' }, [inLayer, inS3])).not.toThrow();
    expect(() => check(dir, { enabled: 'true', bucket: 'my-bucket', keyPrefix: '' }, [inS3])).not.toThrow();
  });

  it('refuses S3 models without the grant, naming the params to pass', () => {
    expect(() => check(dir, { enabled: 'false' }, [inLayer, inS3])).toThrow(
      "layer 'models' (layer) serves big-model@1 from s3://my-bucket/models/, which the stack grants no access to; " +
        'package with --param="s3Models=true" --param="s3ModelsBucket=my-bucket" --param="s3ModelsKeyPrefix=models/"',
    );
  });

  it('refuses S3 models outside the granted prefix', () => {
    expect(() => check(dir, { enabled: 'true', bucket: 'my-bucket', keyPrefix: 'other/' }, [inS3])).toThrow(
      'which the grant on s3://my-bucket/other/ does not cover',
    );
    expect(() => check(dir, { enabled: 'true', bucket: 'my-bucket-2', keyPrefix: '' }, [inS3])).toThrow('does not cover');
  });

  it('refuses a grant without a bucket, a malformed key prefix or switch', () => {
    expect(() => check(dir, { enabled: 'true' }, [])).toThrow('s3Models=true needs the models\' bucket: --param="s3ModelsBucket=<bucket>" (got \'\')');
    expect(() => check(dir, { enabled: 'true', bucket: 'my-bucket', keyPrefix: 'models' }, [])).toThrow("must be empty or a key prefix ending in '/'");
    expect(() => check(dir, { enabled: 'true', bucket: 'my-bucket', keyPrefix: '*/' }, [])).toThrow("must be empty or a key prefix ending in '/'");
    expect(() => check(dir, { enabled: 'yes' }, [])).toThrow('--param="s3Models=yes" must be true or false');
  });
});
