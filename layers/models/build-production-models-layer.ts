import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { loadServingConfig, type ServingConfig } from '../../lib/config/serving-config';
import { selectedModelNames } from '../../lib/models/model-loader';
import type { ModelManifest } from '../../lib/models/model-manifest-types';
import { writeIfChanged } from './build-models-layer';

/** The file beside `models/` that says which selection the layer holds (serverless-plugins/models-layer-check.js reads it). */
export const SELECTION_FILE = 'selection.json';

export interface BuildProductionModelsLayerOptions {
  /** The full build's manifest and folder (layers/models/build/models). */
  readonly manifest: ModelManifest;
  readonly sourceModelsDir: string;
  /** The deployed layer's root (layers/models/build-production); gets `models/` and `selection.json`. */
  readonly layerDir: string;
  /** What the function serves: HOTPATH_MODELS as the config module parses it. */
  readonly selection: ServingConfig['models'];
  readonly log?: (line: string) => void;
}

/** What `selection.json` records: the selection as HOTPATH_MODELS spells it, and the model versions it gave. */
export interface LayerSelectionRecord {
  readonly HOTPATH_MODELS: string;
  readonly models: readonly string[];
}

/**
 * Builds the models layer the stack deploys: the models `selection` names (every version),
 * hard-linked from the full build (copied where a link cannot be made), and a manifest that
 * lists exactly those. Anything else in the folder is removed. A selected name the manifest
 * lacks fails the build: the function would start without that model.
 *
 * @example
 * buildProductionModelsLayer({ manifest, sourceModelsDir: MODELS_DIR, layerDir: PRODUCTION_MODELS_LAYER_DIR, selection: 'default' });
 */
export function buildProductionModelsLayer(options: BuildProductionModelsLayerOptions): { manifest: ModelManifest; bytes: number } {
  const { manifest, sourceModelsDir, layerDir, selection, log = () => {} } = options;
  const names = selectedModelNames(manifest, selection);
  const unknown = [...names].filter((name) => !manifest.models.some((model) => model.name === name));
  if (unknown.length > 0) {
    throw new Error(`HOTPATH_MODELS names ${unknown.map((n) => `'${n}'`).join(', ')}, which the manifest does not have; it has ${[...new Set(manifest.models.map((m) => m.name))].join(', ')}`);
  }
  const models = manifest.models.filter((model) => names.has(model.name));
  const modelsDir = join(layerDir, 'models');
  mkdirSync(modelsDir, { recursive: true });
  // Models with s3Prefix are downloaded at INIT (build:layers --s3-models): their files stay out of the layer.
  const inLayer = models.filter((model) => model.s3Prefix === undefined);
  // An ONNX model's kernel plan ships beside its graph (HOTPATH_WASM_MODELS may still serve the graph).
  const files = inLayer.flatMap((model) => (model.kernel ? [model.file, model.kernel.file] : [model.file]));
  for (const file of files) placeFile(join(sourceModelsDir, file), join(modelsDir, file));
  const kept = new Set(['manifest.json', ...files]);
  const inS3 = new Set(models.filter((model) => model.s3Prefix !== undefined).map((model) => model.file));
  removeOthers(modelsDir, modelsDir, kept, (file) => log(`production models layer: removed ${file} (${inS3.has(file) ? 'served from S3' : 'not selected'})`));

  const layerManifest: ModelManifest = { ...manifest, models };
  writeIfChanged(join(modelsDir, 'manifest.json'), `${JSON.stringify(layerManifest, null, 2)}\n`);
  const record: LayerSelectionRecord = { HOTPATH_MODELS: selectionString(selection), models: models.map((m) => `${m.name}@${m.version}`) };
  writeIfChanged(join(layerDir, SELECTION_FILE), `${JSON.stringify(record, null, 2)}\n`);
  const bytes = inLayer.reduce((sum, model) => sum + model.bytes + (model.kernel?.bytes ?? 0), 0);
  log(`production models layer: ${record.models.join(', ')} (${(bytes / 1e6).toFixed(2)} MB; HOTPATH_MODELS=${record.HOTPATH_MODELS})`);
  return { manifest: layerManifest, bytes };
}

/** HOTPATH_MODELS parsed by the config module, exactly as the deployed function will parse it. */
export function servedModelsFromEnvironment(env: NodeJS.ProcessEnv = process.env): ServingConfig['models'] {
  return loadServingConfig({ HOTPATH_MODELS: env.HOTPATH_MODELS }).models;
}

/** HOTPATH_MODELS as written for a selection: `default`, `*`, or names joined by commas. */
export function selectionString(selection: ServingConfig['models']): string {
  return typeof selection === 'string' ? selection : selection.join(',');
}

/** A hard link to the built file (no copy, no extra disk), redone when the build replaced the file. */
function placeFile(source: string, target: string): void {
  const from = statSync(source);
  if (existsSync(target)) {
    const to = statSync(target);
    if (to.ino === from.ino && to.dev === from.dev) return;
    unlinkSync(target);
  }
  mkdirSync(dirname(target), { recursive: true });
  try {
    linkSync(source, target);
  } catch {
    copyFileSync(source, target);
  }
}

function removeOthers(root: string, dir: string, kept: ReadonlySet<string>, removed: (file: string) => void): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const file = relative(root, path).split('\\').join('/');
    if (entry.isDirectory()) {
      removeOthers(root, path, kept, removed);
      if (readdirSync(path).length === 0) rmSync(path, { recursive: true });
    } else if (!kept.has(file)) {
      rmSync(path);
      removed(file);
    }
  }
}
