import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FilesystemObjectStorage } from '../../../lib/batch/filesystem-object-storage';
import type { ScoreObjectRequest } from '../../../lib/batch/score-object';
import { scoreObject } from '../../../lib/batch/score-object';
import type { ObjectStorage } from '../../../lib/batch/object-storage';
import { loadServingConfig } from '../../../lib/config/serving-config';
import { createServingRuntime, type ServingRuntime } from '../../../lib/serving/serving-runtime';

export const quietLogger = { info() {}, warn() {}, error: (message: string) => console.error(message) };

/** The real runtime over the built models (wasm / kernel backends, one thread). */
export function createBatchRuntime(models: string[]): Promise<ServingRuntime> {
  return createServingRuntime(loadServingConfig({}, { wasmThreads: 1, models }), quietLogger);
}

/** A temp folder as storage; `dispose` removes it. */
export async function temporaryStorage(): Promise<{ root: string; storage: FilesystemObjectStorage; put(key: string, body: string | Uint8Array): Promise<void>; dispose(): Promise<void> }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'hotpath-batch-'));
  const storage = new FilesystemObjectStorage(root);
  return {
    root,
    storage,
    async put(key, body) {
      const file = storage.pathOf(key);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, body);
    },
    dispose: () => rm(root, { recursive: true, force: true }),
  };
}

/** Reads a JSONL output object into parsed lines ([] when absent). */
export async function readJsonl<T = Record<string, unknown>>(storage: FilesystemObjectStorage, key: string): Promise<T[]> {
  try {
    const text = await readFile(storage.pathOf(key), 'utf8');
    return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as T);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

export function score(runtime: ServingRuntime, storage: ObjectStorage, request: Omit<ScoreObjectRequest, 'outputPrefix'> & { outputPrefix?: string }) {
  return scoreObject({ core: runtime, storage }, { outputPrefix: 'out', ...request });
}

/** Iris-like rows: `count` rows of 4 features with one decimal. */
export function irisRows(count: number, seed = 1): number[][] {
  let state = seed;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  return Array.from({ length: count }, () => [4 + next() * 4, 2 + next() * 2.4, 1 + next() * 6, next() * 2.5].map((v) => Math.round(v * 10) / 10));
}
