/** An object in S3, as `s3://bucket/key` names it. */
export interface S3ObjectLocation {
  readonly bucket: string;
  readonly key: string;
}

/**
 * The bucket and key of `s3://bucket/key`, or undefined when `uri` is not one: a bucket name
 * as S3 allows it (3-63 lower-case letters, digits, dots, hyphens) and a non-empty key that
 * does not end in `/` (a folder is not an artifact).
 *
 * @example
 * parseS3Uri('s3://my-models/text-detector/1/model.onnx'); // { bucket: 'my-models', key: 'text-detector/1/model.onnx' }
 */
export function parseS3Uri(uri: string): S3ObjectLocation | undefined {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/.exec(uri);
  if (!match || match[2]!.endsWith('/')) return undefined;
  return { bucket: match[1]!, key: match[2]! };
}
