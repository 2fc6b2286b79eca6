import { readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readZipEntries } from './zip-central-directory';

/** Lambda's limit on a function's code plus all its layers, unzipped. */
export const LAMBDA_UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024;

export interface ArtifactSize {
  /** The zip's file name in the package folder, e.g. `api.zip`. */
  readonly zip: string;
  readonly zippedBytes: number;
  readonly unzippedBytes: number;
}

export interface FunctionArtifacts {
  readonly logicalId: string;
  readonly code: ArtifactSize;
  readonly layers: readonly (ArtifactSize & { readonly logicalId: string })[];
  /** Code plus every layer, unzipped: what counts against {@link LAMBDA_UNZIPPED_LIMIT_BYTES}. */
  readonly totalUnzippedBytes: number;
}

interface CfnResource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
}

/** Reads the CloudFormation template `serverless package` wrote into `packageDir`. */
export function readTemplate(packageDir: string): CfnTemplate {
  return JSON.parse(readFileSync(join(packageDir, 'cloudformation-template-update-stack.json'), 'utf8')) as CfnTemplate;
}

/**
 * Every Lambda function of a packaged stack with its code zip and its layers' zips, sized
 * from the zips' central directories. Zips are matched to resources by their S3 key's file
 * name, which is how `serverless package` names them.
 */
export function readFunctionArtifacts(packageDir: string, template = readTemplate(packageDir)): FunctionArtifacts[] {
  const sizeOf = (s3Key: unknown): ArtifactSize => {
    const zip = basename(String(s3Key));
    const path = join(packageDir, zip);
    const unzippedBytes = readZipEntries(path).reduce((sum, entry) => sum + entry.uncompressedBytes, 0);
    return { zip, zippedBytes: statSync(path).size, unzippedBytes };
  };
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
    .map(([logicalId, resource]) => {
      const code = sizeOf((resource.Properties.Code as { S3Key: unknown }).S3Key);
      const refs = (resource.Properties.Layers as { Ref?: string }[] | undefined) ?? [];
      const layers = refs.map(({ Ref }) => {
        const layer = Ref === undefined ? undefined : template.Resources[Ref];
        if (layer?.Type !== 'AWS::Lambda::LayerVersion') {
          throw new Error(`${logicalId}: layer ${JSON.stringify(Ref)} is not a LayerVersion of this stack`);
        }
        return { logicalId: Ref as string, ...sizeOf((layer.Properties.Content as { S3Key: unknown }).S3Key) };
      });
      const totalUnzippedBytes = layers.reduce((sum, l) => sum + l.unzippedBytes, code.unzippedBytes);
      return { logicalId, code, layers, totalUnzippedBytes };
    });
}

/** `12.3 MB` / `456.7 kB`. */
export function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${(bytes / 1024).toFixed(1)} kB`;
}
