import fc from 'fast-check';
import { readFile } from 'node:fs/promises';
import { writeNpy } from '../../../kernels/runtime/npy-file-format';
import type { InputFormat } from '../../../lib/batch/input-format';
import { rowBoundaries } from '../../../lib/batch/row-boundaries';
import type { ServingRuntime } from '../../../lib/serving/serving-runtime';
import { createBatchRuntime, irisRows, score, temporaryStorage } from './batch-fixtures';

/** A shard run's scores and errors, concatenated in shard order, are the whole run's, byte for byte. */
describe('scoreObject on byte-range shards', () => {
  let runtime: ServingRuntime;
  let files: Awaited<ReturnType<typeof temporaryStorage>>;
  beforeAll(async () => {
    runtime = await createBatchRuntime(['iris-classifier']);
    files = await temporaryStorage();
    const rows = irisRows(400, 5).map((r) => r.join(','));
    rows[17] = '1,2,oops,4';
    rows[250] = '"quoted",2,3';
    await files.put('in/iris.csv', `a,b,c,d\r\n${rows.join('\r\n')}\r\n\r\n`);
    const json = irisRows(400, 6).map((r, i) => (i % 50 === 0 ? JSON.stringify({ id: `r${i}`, inputs: [{ name: 'input', data: r }] }) : JSON.stringify(r)));
    json[33] = '{broken';
    await files.put('in/iris.jsonl', `${json.join('\n')}\n`);
    const values = Float32Array.from(irisRows(400, 8).flat());
    values[99 * 4] = Number.POSITIVE_INFINITY;
    await files.put('in/iris.npy', writeNpy(values, [400, 4]));
  });
  afterAll(async () => {
    await runtime.registry.dispose();
    await files.dispose();
  });

  const whole = new Map<string, { scores: string; errors: string }>();
  const outputsOf = async (keys: { scores: string; rowErrors: string }) => ({
    scores: await readFile(files.storage.pathOf(keys.scores), 'utf8'),
    errors: await readFile(files.storage.pathOf(keys.rowErrors), 'utf8'),
  });
  const wholeRun = async (key: string) => {
    if (!whole.has(key)) {
      const { manifest, keys } = await score(runtime, files.storage, { key, model: 'iris-classifier' });
      expect(manifest.status).toBe('succeeded');
      whole.set(key, await outputsOf(keys));
    }
    return whole.get(key)!;
  };

  it.each([['csv'], ['jsonl'], ['npy']])('gives the whole run\'s outputs from shards cut at any bytes (%s)', async (format) => {
    const key = `in/iris.${format}`;
    const expected = await wholeRun(key);
    const head = await files.storage.head(key);
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.integer({ min: 1, max: head.size - 1 }), { maxLength: 4 }), fc.boolean(), async (inner, planned) => {
        const cuts = [0, ...inner.sort((a, b) => a - b), head.size];
        const prefix = `shards-${run++}`;
        // Planned: the planner's boundaries and first rows; otherwise the raw cuts, each shard counting its own first row.
        const boundaries = planned ? await rowBoundaries(files.storage, head, format as InputFormat, cuts) : cuts.map((byte) => ({ byte, row: undefined }));
        let scores = '';
        let errors = '';
        let rowsIn = 0;
        for (let i = 0; i + 1 < boundaries.length; i++) {
          const range = { start: boundaries[i]!.byte, end: boundaries[i + 1]!.byte };
          const { manifest, keys } = await score(runtime, files.storage, { key, model: 'iris-classifier', outputPrefix: prefix, range, firstRow: boundaries[i]!.row });
          expect(manifest).toMatchObject({ status: 'succeeded', input: { range } });
          expect(keys.folder).toMatch(/\/parts\/\d{15}-\d{15}\/$/);
          rowsIn += manifest.rows.in;
          const part = await outputsOf(keys);
          scores += part.scores;
          errors += part.errors;
        }
        expect(rowsIn).toBe(400);
        expect(scores).toBe(expected.scores);
        expect(errors).toBe(expected.errors);
      }),
      { numRuns: 6, seed: 20261202 },
    );
  });
});
