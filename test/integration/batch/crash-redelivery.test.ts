import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ServingRuntime } from '../../../lib/serving/serving-runtime';
import { createBatchRuntime, irisRows, score, temporaryStorage } from './batch-fixtures';

const repoRoot = path.join(__dirname, '../../..');

describe('scoreObject after a crash mid-file', () => {
  let runtime: ServingRuntime;
  beforeAll(async () => {
    runtime = await createBatchRuntime(['iris-classifier']);
  });
  afterAll(() => runtime.registry.dispose());

  it('completes the outputs on redelivery, the same bytes as a run that never crashed', async () => {
    const files = await temporaryStorage();
    const clean = await temporaryStorage();
    try {
      const body = `a,b,c,d\n${irisRows(6_000, 9).map((r) => r.join(',')).join('\n')}\n`;
      await files.put('in/iris.csv', body);
      await clean.put('in/iris.csv', body);

      const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'crash-mid-file-child.ts'), files.root, 'in/iris.csv', '2000'], {
        cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk) => (output += chunk));
      child.stderr.on('data', (chunk) => (output += chunk));
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
      expect({ signal, output }).toEqual({ signal: 'SIGKILL', output: '' });
      expect(code).toBeNull();

      // The crash left no manifest and no output object: only the writer's partial files, never listed.
      const listed: string[] = [];
      for await (const entry of files.storage.list('out/')) listed.push(entry.key);
      expect(listed).toEqual([]);

      const redelivered = await score(runtime, files.storage, { key: 'in/iris.csv', model: 'iris-classifier' });
      const reference = await score(runtime, clean.storage, { key: 'in/iris.csv', model: 'iris-classifier' });
      expect(redelivered).toMatchObject({ duplicate: false, manifest: { status: 'succeeded', rows: { in: 6_000, scored: 6_000, failed: 0 } } });
      const scores = await readFile(files.storage.pathOf(redelivered.keys.scores), 'utf8');
      expect(scores).toBe(await readFile(clean.storage.pathOf(reference.keys.scores), 'utf8'));
      expect(scores.split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { row: number }).row)).toEqual(Array.from({ length: 6_000 }, (_, i) => i));
      const folder = await readdir(path.dirname(files.storage.pathOf(redelivered.keys.manifest)));
      expect(folder.filter((name) => !name.includes('.hotpath-partial-')).sort()).toEqual(['manifest.json', 'row-errors.jsonl', 'scores.jsonl']);
    } finally {
      await files.dispose();
      await clean.dispose();
    }
  });
});
