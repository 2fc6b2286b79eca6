import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MODEL_ARTIFACTS } from '../../layers/models/default-models';
import { buildGeneratedMlp } from '../../layers/models/model-builders/generated-mlp';
import type { ModelManifest } from '../../lib/models/model-manifest-types';
import type { GpuCheckModels } from './gpu-check-models';
import { sha256Of } from './gpu-check-models';

/**
 * The check's models as this repository has them: text-detector's file from the built models
 * layer (its manifest's sha256), mlp-large's widths and seed from its spec in default-models.ts
 * and the sha256 of the graph they generate.
 */
export function repositoryCheckModels(modelsDir: string): GpuCheckModels & { textDetectorPath: string } {
  const manifest = JSON.parse(readFileSync(join(modelsDir, 'manifest.json'), 'utf8')) as ModelManifest;
  const detector = manifest.models.find((m) => m.name === 'text-detector');
  if (!detector) throw new Error(`${modelsDir}/manifest.json has no text-detector: run \`npm run build:layers\``);
  const spec = MODEL_ARTIFACTS.find((a) => a.name === 'mlp-large');
  const params = spec?.fingerprint.params as { widths?: number[]; seed?: number } | undefined;
  if (!params?.widths || params.seed === undefined) throw new Error('layers/models/default-models.ts: mlp-large has no widths and seed in its fingerprint params');
  const bytes = buildGeneratedMlp({ name: 'mlp-large', seed: params.seed, widths: params.widths }).bytes;
  const textDetectorPath = join(modelsDir, detector.file);
  return {
    textDetector: { file: textDetectorPath, sha256: detector.sha256 },
    mlpLarge: { widths: params.widths, seed: params.seed, sha256: sha256Of(bytes) },
    textDetectorPath,
  };
}
