import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { VersionPolicy } from '../../../lib/models/model-manifest-types';
import { ModelRepositoryError } from './model-repository-error';

/** Triton's name for the model file when config.pbtxt has no `default_model_filename`. */
export const DEFAULT_MODEL_FILENAME = 'model.onnx';
export const CONFIG_FILENAME = 'config.pbtxt';

/**
 * A model name is a URL path segment (`/v2/models/{name}`) and a HOTPATH_MODELS entry: letters,
 * digits, `.`, `_` and `-`, starting with a letter or digit.
 */
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** One model folder of a repository, before its config is read. */
export interface RepositoryModelFolder {
  readonly name: string;
  readonly dir: string;
  /** Absent: the config is completed from the graph. */
  readonly configPath: string | undefined;
}

/** One version folder chosen by the version policy, with its model file. */
export interface RepositoryModelVersion {
  readonly version: string;
  readonly path: string;
  /** Relative to the repository, for messages (`iris/1/model.onnx`). */
  readonly file: string;
}

/**
 * The model folders of a repository (`<repo>/<model>/`), by name. Hidden entries (`.git`) and
 * loose files (a README) are not models and are passed over; a folder whose name cannot be a
 * model name is an error for that folder, returned beside the others.
 */
export function listModelFolders(repository: string): { folders: RepositoryModelFolder[]; errors: ModelRepositoryError[] } {
  if (!existsSync(repository) || !statSync(repository).isDirectory()) {
    throw new ModelRepositoryError(`model repository '${repository}' is not a folder; give the folder that holds <model>/<version>/model.onnx`, { file: repository });
  }
  const folders: RepositoryModelFolder[] = [];
  const errors: ModelRepositoryError[] = [];
  for (const entry of readdirSync(repository, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.') || !entry.isDirectory()) continue;
    if (!MODEL_NAME.test(entry.name)) {
      errors.push(new ModelRepositoryError(
        `model folder '${entry.name}' is not a valid model name: it becomes a URL path segment (/v2/models/{name}); rename it with letters, digits, '.', '_' and '-' only, starting with a letter or digit`,
        { file: join(repository, entry.name), model: entry.name },
      ));
      continue;
    }
    const dir = join(repository, entry.name);
    const configPath = join(dir, CONFIG_FILENAME);
    folders.push({ name: entry.name, dir, configPath: existsSync(configPath) ? configPath : undefined });
  }
  return { folders, errors };
}

/**
 * The version folders of a model that its version policy selects (Triton: the latest one by
 * default), each with its one model file. A folder that is not an integer, a selected version
 * without the model file or with a second file, or a policy naming a missing version is an
 * error naming the folder and the fix; versions that are fine are returned beside them.
 */
export function selectModelVersions(
  folder: RepositoryModelFolder, policy: VersionPolicy | undefined, modelFilename: string,
): { versions: RepositoryModelVersion[]; errors: ModelRepositoryError[] } {
  const errors: ModelRepositoryError[] = [];
  const fail = (file: string, what: string): void => {
    errors.push(new ModelRepositoryError(`model '${folder.name}': ${what}`, { file, model: folder.name }));
  };
  const numbered: number[] = [];
  for (const entry of readdirSync(folder.dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    if (!/^(0|[1-9][0-9]*)$/.test(entry.name) || !Number.isSafeInteger(Number(entry.name))) {
      fail(join(folder.dir, entry.name), `folder '${folder.name}/${entry.name}' is not a version: version folders are integers (${folder.name}/1/${modelFilename}); rename it or move it out of the repository`);
      continue;
    }
    numbered.push(Number(entry.name));
  }
  numbered.sort((a, b) => a - b);
  if (numbered.length === 0) {
    fail(folder.dir, `'${folder.name}' has no version folder; put the model at ${folder.name}/1/${modelFilename}`);
    return { versions: [], errors };
  }
  const chosen = choose(numbered, policy ?? { latest: 1 });
  for (const missing of chosen.filter((v) => !numbered.includes(v))) {
    fail(folder.configPath ?? folder.dir, `version_policy specific lists version ${missing}, which has no folder ${folder.name}/${missing}; add the folder or remove ${missing} from versions`);
  }
  const versions: RepositoryModelVersion[] = [];
  for (const version of chosen.filter((v) => numbered.includes(v))) {
    const dir = join(folder.dir, String(version));
    const relative = `${folder.name}/${version}`;
    const entries = readdirSync(dir, { withFileTypes: true }).filter((e) => !e.name.startsWith('.'));
    const model = entries.find((e) => e.name === modelFilename);
    const others = entries.filter((e) => e.name !== modelFilename).map((e) => e.name);
    if (!model || !model.isFile()) {
      const hint = others.length === 1 && entries.length === 1
        ? `; it holds '${others[0]}': rename it to ${modelFilename}${modelFilename === DEFAULT_MODEL_FILENAME ? `, or set default_model_filename: "${others[0]}" in config.pbtxt` : ''}`
        : others.length > 0 ? ` (it holds ${others.join(', ')})` : ' (it is empty)';
      fail(dir, `${relative} has no model file ${modelFilename}${hint}`);
      continue;
    }
    if (others.length > 0) {
      fail(dir, `${relative} holds ${others.join(', ')} beside ${modelFilename}; a version folder holds one model file (an ONNX model keeps its weights inside it): remove the others, or put a second model in a version folder of its own`);
      continue;
    }
    versions.push({ version: String(version), path: join(dir, modelFilename), file: `${relative}/${modelFilename}` });
  }
  return { versions, errors };
}

function choose(numbered: readonly number[], policy: VersionPolicy): number[] {
  if ('all' in policy) return [...numbered];
  if ('latest' in policy) return numbered.slice(-policy.latest);
  return [...policy.specific];
}
