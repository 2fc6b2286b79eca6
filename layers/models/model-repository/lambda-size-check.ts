import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelManifest } from '../../../lib/models/model-manifest-types';
import { ModelRepositoryError } from './model-repository-error';

/** Lambda's limit on a function's code and layers together, unzipped (the same figure scripts/stack-artifacts.ts checks after packaging). */
export const LAMBDA_UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024;

/** Bytes of every file under `dir` (0 when it does not exist). */
export function folderBytes(dir: string): number {
  if (!existsSync(dir)) return 0;
  let bytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    bytes += entry.isDirectory() ? folderBytes(path) : statSync(path).size;
  }
  return bytes;
}

/**
 * Refuses a models layer that, with the runtime layer and the function's code, would be over
 * Lambda's 250 MB unzipped, naming the largest models to serve elsewhere (the container task,
 * or HOTPATH_MODELS without them) until the rest fits. Checked at build so the deploy does
 * not find out.
 */
export function assertModelsFitLambda(manifest: ModelManifest, otherBytes: { readonly runtimeLayer: number; readonly functionCode: number }, limit = LAMBDA_UNZIPPED_LIMIT_BYTES): void {
  // Models with s3Prefix are in S3, not in the layer (they count against /tmp, checked at INIT).
  const inLayer = manifest.models.filter((m) => m.s3Prefix === undefined);
  // A kernel plan ships beside its ONNX graph (both are in the layer).
  const models = inLayer.reduce((sum, m) => sum + m.bytes + (m.kernel?.bytes ?? 0), 0);
  const total = models + otherBytes.runtimeLayer + otherBytes.functionCode;
  if (total <= limit) return;
  const move: string[] = [];
  const moveNames = new Set<string>();
  let left = total;
  for (const model of [...inLayer].sort((a, b) => b.bytes - a.bytes)) {
    if (left <= limit) break;
    move.push(`${model.name}@${model.version} (${mb(model.bytes)})`);
    moveNames.add(model.name);
    left -= model.bytes;
  }
  throw new ModelRepositoryError(
    `the served models (${mb(models)}), the runtime layer (${mb(otherBytes.runtimeLayer)}) and the function code (${mb(otherBytes.functionCode)}) come to ${mb(total)}, over Lambda's ${mb(limit)} unzipped for a function and its layers; `
      + `serve ${move.join(', ')} from S3 (\`npm run build:layers -- --s3-models ${[...moveNames].join(',')} --s3-prefix s3://BUCKET/PREFIX/\`: downloaded into /tmp at INIT) or from the container task (leave them out of HOTPATH_MODELS for Lambda, or out of the repository)`,
    { file: 'models layer' },
  );
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
