import { parseS3Uri } from '../lib/models/s3-uri';

/**
 * The serverless.yml params that grant the functions' role s3:GetObject on the S3 models' keys
 * (custom.s3ModelsVariants), from the `s3://bucket/prefix/` they are uploaded under: none when no
 * model goes to S3, so the default stack is unchanged. `npm run package` passes them.
 *
 * @example
 * s3ModelsStackParams(['big-model'], 's3://my-bucket/models/');
 * // ['--param=s3Models=true', '--param=s3ModelsBucket=my-bucket', '--param=s3ModelsKeyPrefix=models/']
 */
export function s3ModelsStackParams(names: readonly string[], prefix: string | undefined): string[] {
  if (names.length === 0 || prefix === undefined) return [];
  const normalized = prefix.endsWith('/') ? prefix : `${prefix}/`;
  // As moveModelsToS3 reads it (which refuses a malformed prefix before packaging gets here).
  const location = parseS3Uri(`${normalized}x`);
  if (!location) throw new Error(`HOTPATH_S3_PREFIX '${prefix}' is not s3://bucket/ or s3://bucket/prefix/`);
  return ['--param=s3Models=true', `--param=s3ModelsBucket=${location.bucket}`, `--param=s3ModelsKeyPrefix=${location.key.slice(0, -1)}`];
}
