import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HotpathError } from '../errors/hotpath-error';
import { isOipDatatype } from '../protocol/datatypes';
import type { ManifestModel, ModelManifest } from './model-manifest-types';

/** The manifest itself is unreadable or malformed: nothing can be served, so the cold start fails. */
export class ManifestError extends HotpathError {
  constructor(message: string, cause?: unknown) {
    super(message, { status: 500, expose: false, cause });
  }
}

/** Reads and checks `<modelsDir>/manifest.json`. Structural errors name the model and field. */
export async function readModelManifest(modelsDir: string): Promise<ModelManifest> {
  const path = join(modelsDir, 'manifest.json');
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (error) {
    throw new ManifestError(`model manifest '${path}' cannot be read (run \`npm run build:layers\`, or set HOTPATH_MODELS_DIR)`, error);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new ManifestError(`model manifest '${path}' is not valid JSON: ${(error as Error).message}`, error);
  }
  return parseModelManifest(parsed, path);
}

export function parseModelManifest(value: unknown, source = 'manifest'): ModelManifest {
  const manifest = value as Partial<ModelManifest>;
  if (typeof manifest !== 'object' || manifest === null || manifest.schemaVersion !== 1 || !Array.isArray(manifest.models)) {
    throw new ManifestError(`${source}: expected {"schemaVersion": 1, "models": [...]}`);
  }
  const seen = new Set<string>();
  for (const [index, model] of manifest.models.entries()) {
    checkModel(model, `${source}: models[${index}]`);
    const key = `${model.name}@${model.version}`;
    if (seen.has(key)) throw new ManifestError(`${source}: model '${model.name}' version '${model.version}' appears twice`);
    seen.add(key);
  }
  return manifest as ModelManifest;
}

function checkModel(model: ManifestModel, where: string): void {
  const fail = (what: string) => {
    throw new ManifestError(`${where} (${(model as { name?: unknown })?.name ?? '?'}): ${what}`);
  };
  if (typeof model !== 'object' || model === null) fail('must be an object');
  for (const field of ['name', 'version', 'platform', 'file', 'sha256'] as const) {
    if (typeof model[field] !== 'string' || model[field].length === 0) fail(`"${field}" must be a non-empty string`);
  }
  if (!/^[0-9a-f]{64}$/.test(model.sha256)) fail('"sha256" must be 64 lower-case hex digits');
  if (!Number.isInteger(model.bytes) || model.bytes < 0) fail('"bytes" must be a non-negative integer');
  if (!Number.isInteger(model.maxBatchSize) || model.maxBatchSize < 0) fail('"maxBatchSize" must be a non-negative integer');
  if (typeof model.serveByDefault !== 'boolean') fail('"serveByDefault" must be true or false');
  // Only ONNX backends read it (the build optimises ONNX graphs only); other platforms ignore it.
  if (model.optimized !== undefined && model.optimized !== 'basic' && model.optimized !== 'extended') {
    fail(`"optimized" must be "basic" or "extended", got ${JSON.stringify(model.optimized)}`);
  }
  for (const kind of ['inputs', 'outputs'] as const) {
    const list = model[kind];
    if (!Array.isArray(list) || list.length === 0) fail(`"${kind}" must be a non-empty array`);
    for (const signature of list) {
      if (typeof signature?.name !== 'string' || !isOipDatatype(signature.datatype) || !Array.isArray(signature.shape)
        || !signature.shape.every((d: number) => Number.isInteger(d) && d >= -1)) {
        fail(`${kind} entry ${JSON.stringify(signature)} must be {name, datatype, shape} with dims >= -1`);
      }
    }
  }
}
