/**
 * A models folder for routing tests: the built models layer's files (linked, not copied) with a
 * manifest whose models carry the routing thresholds (and any other changes) a test needs, so
 * the real loader, verification and sessions run on it.
 */
import { mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadServingConfig } from '../../../lib/config/serving-config';
import type { ManifestModel, ModelManifest } from '../../../lib/models/model-manifest-types';

export function routingModelsDir(change: (model: ManifestModel) => ManifestModel): string {
  const built = loadServingConfig({}).modelsDir;
  const dir = mkdtempSync(join(tmpdir(), 'hotpath-routing-models-'));
  for (const entry of readdirSync(built)) if (entry !== 'manifest.json') symlinkSync(join(built, entry), join(dir, entry));
  const manifest = JSON.parse(readFileSync(join(built, 'manifest.json'), 'utf8')) as ModelManifest;
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, models: manifest.models.map(change) }, null, 2));
  return dir;
}

/** Sets routing.preferRemoteAboveBatch on the models named. */
export function withThresholds(thresholds: Readonly<Record<string, number>>): (model: ManifestModel) => ManifestModel {
  return (model) => (thresholds[model.name] === undefined ? model : { ...model, routing: { preferRemoteAboveBatch: thresholds[model.name] } });
}
