import { s3ModelsStackParams } from '../../../scripts/s3-models-stack-params';

describe('s3ModelsStackParams', () => {
  it('grants nothing when no model goes to S3', () => {
    expect(s3ModelsStackParams([], undefined)).toEqual([]);
    expect(s3ModelsStackParams([], 's3://my-bucket/models/')).toEqual([]);
  });

  it('splits the prefix into the bucket and the key prefix the grant covers', () => {
    expect(s3ModelsStackParams(['big-model'], 's3://my-bucket/models/v1/')).toEqual([
      '--param=s3Models=true', '--param=s3ModelsBucket=my-bucket', '--param=s3ModelsKeyPrefix=models/v1/',
    ]);
  });

  it('ends the key prefix in a slash, and leaves it empty for the bucket root', () => {
    expect(s3ModelsStackParams(['big-model'], 's3://my-bucket/models')).toContain('--param=s3ModelsKeyPrefix=models/');
    expect(s3ModelsStackParams(['big-model'], 's3://my-bucket/')).toEqual([
      '--param=s3Models=true', '--param=s3ModelsBucket=my-bucket', '--param=s3ModelsKeyPrefix=',
    ]);
  });

  it('refuses a prefix that is not s3://bucket/...', () => {
    expect(() => s3ModelsStackParams(['big-model'], 'https://my-bucket/models/')).toThrow("HOTPATH_S3_PREFIX 'https://my-bucket/models/' is not s3://bucket/ or s3://bucket/prefix/");
  });
});
