import fc from 'fast-check';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readCsvRows } from '../../../lib/batch/csv-rows';
import { FilesystemObjectStorage } from '../../../lib/batch/filesystem-object-storage';
import { newStageDurations } from '../../../lib/batch/row-batch';

/** The numeric fast path against csv-parse alone, on the same files: same rows, ids, values and failures. */
describe('readCsvRows numeric fast path', () => {
  let root: string;
  let storage: FilesystemObjectStorage;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'hotpath-csv-'));
    storage = new FilesystemObjectStorage(root);
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  const readAll = async (key: string, numericFastPath: boolean, range?: { start: number; end: number }) => {
    const head = await storage.head(key);
    const source = { storage, head, range, durations: newStageDurations(), progress: { bytesRead: 0 } };
    const rows: unknown[] = [];
    const failures: unknown[] = [];
    try {
      for await (const batch of readCsvRows(source, { kind: 'table', name: 'input', features: 2 }, 3, { numericFastPath })) {
        batch.rows.forEach((row, i) => rows.push([row, batch.ids?.[i], Array.from(batch.values.subarray(i * 2, i * 2 + 2))]));
        failures.push(...batch.failures);
      }
    } catch (error) {
      return { error: (error as Error).message };
    }
    return { rows, failures };
  };

  const number = fc.oneof(fc.integer({ min: -999, max: 999 }).map(String), fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((v) => v.toPrecision(6)));
  const id = fc.oneof(fc.stringMatching(/^[a-z]{1,3}$/), fc.constantFrom('"a,b"', '"line\nbreak"', '"say ""hi"""', '"crlf\r\nin"'));
  const cell = fc.oneof({ weight: 6, arbitrary: number }, { weight: 1, arbitrary: fc.constantFrom('', 'x', '1e999', '"2.5"', '5"1', '0x1f') });
  const line = fc.oneof(
    { weight: 8, arbitrary: fc.tuple(id, cell, cell).map((cells) => cells.join(',')) },
    { weight: 1, arbitrary: fc.constantFrom('', 'short,1', 'a,1,2,3', '"unclosed,1,2') },
  );

  it('reads any file as csv-parse alone does, whole and in shards', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 25 }), fc.constantFrom('\n', '\r\n'), fc.boolean(), fc.nat(400), async (lines, eol, trailing, cut) => {
        const key = `f${n++}.csv`;
        const text = `id,a,b${eol}${lines.join(eol)}${trailing ? eol : ''}`;
        await writeFile(path.join(root, key), text);
        expect(await readAll(key, true)).toEqual(await readAll(key, false));
        const size = Buffer.byteLength(text);
        const at = Math.min(cut, size);
        for (const range of [{ start: 0, end: at }, { start: at, end: size }]) {
          expect(await readAll(key, true, range)).toEqual(await readAll(key, false, range));
        }
      }),
      { numRuns: 200, seed: 4180 },
    );
  });
});
