import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { LAYER_BUILD_CACHE_DIR } from '../../layer-paths';

/**
 * Where a repository build into `modelsDir` keeps its hashes and proofs: outside the models
 * dir (nothing extra ships in a layer), one file per models dir so two builds never share one.
 */
export function repositoryCacheFile(modelsDir: string): string {
  const key = createHash('sha256').update(resolve(modelsDir)).digest('hex').slice(0, 16);
  return join(LAYER_BUILD_CACHE_DIR, `repository-${key}.json`);
}
