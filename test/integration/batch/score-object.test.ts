import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { writeNpy } from '../../../kernels/runtime/npy-file-format';
import type { FilesystemObjectStorage } from '../../../lib/batch/filesystem-object-storage';
import type { ObjectStorage, OpenReadOptions } from '../../../lib/batch/object-storage';
import { infer } from '../../../lib/serving/infer';
import type { ServingRuntime } from '../../../lib/serving/serving-runtime';
import { createBatchRuntime, irisRows, readJsonl, score, temporaryStorage } from './batch-fixtures';

type ScoreLine = { row: number; id?: string; outputs: { probabilities: number[]; label: number } };
type ErrorLine = { row: number; reason: string };

describe('scoreObject (filesystem storage, real iris-classifier)', () => {
  let runtime: ServingRuntime;
  let files: Awaited<ReturnType<typeof temporaryStorage>>;
  beforeAll(async () => {
    runtime = await createBatchRuntime(['iris-classifier']);
  });
  afterAll(() => runtime.registry.dispose());
  beforeEach(async () => {
    files = await temporaryStorage();
  });
  afterEach(() => files.dispose());

  /** What the core answers for each row sent alone. */
  const expectedProbabilities = (rows: number[][]) => Promise.all(rows.map(async (row) => {
    const answer = await infer(runtime, { model: 'iris-classifier', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: Float32Array.from(row) }] });
    return Array.from(answer.outputs.find((o) => o.name === 'probabilities')!.data as Float32Array);
  }));

  it('scores a CSV with an id column in row order, failing only the malformed rows', async () => {
    const rows = irisRows(130);
    const lines = rows.map((r, i) => (i === 3 ? `"a, quoted id",${r.join(',')}` : `r${i},${r.join(',')}`));
    lines.splice(10, 0, 'bad-number,5.1,abc,1.4,0.2'); // row 10
    lines.splice(20, 0, 'short,5.1,3.5'); // row 20
    lines.splice(30, 0, 'quote,5"1,3.5,1.4,0.2'); // row 30
    await files.put('in/iris.csv', `ID,sepal_length,sepal_width,petal_length,petal_width\r\n${lines.join('\r\n')}\r\n`);

    const { manifest, keys, duplicate } = await score(runtime, files.storage, { key: 'in/iris.csv', model: 'iris-classifier' });

    expect(duplicate).toBe(false);
    expect(manifest).toMatchObject({ status: 'succeeded', input: { key: 'in/iris.csv', format: 'csv' }, model: { name: 'iris-classifier', version: '1' }, rows: { in: 133, scored: 130, failed: 3 }, batchSize: 64 });
    expect(manifest.route).toMatch(/^local-/);
    expect(Object.keys(manifest.durationsMs)).toEqual(['read', 'parse', 'infer', 'write', 'total']);
    const scores = await readJsonl<ScoreLine>(files.storage, keys.scores);
    const errors = await readJsonl<ErrorLine>(files.storage, keys.rowErrors);
    expect(errors.map((e) => e.row)).toEqual([10, 20, 30]);
    expect(errors[0]!.reason).toBe("column 3: 'abc' is not a finite number");
    expect(errors[1]!.reason).toBe('expected 5 columns as the header has, got 3');
    expect(errors[2]!.reason).toMatch(/quote/i);
    const goodRows = Array.from({ length: 133 }, (_, i) => i).filter((i) => ![10, 20, 30].includes(i));
    expect(scores.map((s) => s.row)).toEqual(goodRows);
    expect(scores[3]!.id).toBe('a, quoted id');
    const expected = await expectedProbabilities(rows);
    scores.forEach((line, i) => expect(line.outputs.probabilities).toEqual(expected[i]));
  });

  it('scores JSONL of plain arrays and OIP-style inputs, failing lines that are not JSON or hold the wrong count', async () => {
    const rows = irisRows(5, 7);
    const text = [
      JSON.stringify(rows[0]),
      JSON.stringify({ id: 'oip', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [rows[1]] }] }),
      '{not json',
      JSON.stringify([1, 2, 3]),
      '',
      JSON.stringify(rows[2]),
      JSON.stringify([1, 2, 'x', 4]),
    ].join('\n');
    await files.put('in/rows.jsonl', text);
    const { manifest, keys } = await score(runtime, files.storage, { key: 'in/rows.jsonl', model: 'iris-classifier' });
    expect(manifest).toMatchObject({ status: 'succeeded', input: { format: 'jsonl' }, rows: { in: 6, scored: 3, failed: 3 } });
    const scores = await readJsonl<ScoreLine>(files.storage, keys.scores);
    expect(scores.map((s) => [s.row, s.id])).toEqual([[0, undefined], [1, 'oip'], [4, undefined]]);
    const expected = await expectedProbabilities([rows[0]!, rows[1]!, rows[2]!]);
    expect(scores.map((s) => s.outputs.probabilities)).toEqual(expected);
    const errors = await readJsonl<ErrorLine>(files.storage, keys.rowErrors);
    expect(errors.map((e) => e.row)).toEqual([2, 3, 5]);
    expect(errors[1]!.reason).toBe("expected 4 values for input 'input', got 3");
    expect(errors[2]!.reason).toBe('value 2 ("x") is not a finite FP32 number');
  });

  it('scores float32 NPY the same as the CSV of the same rows, and fails a row holding NaN', async () => {
    const rows = irisRows(70, 3);
    const values = Float32Array.from(rows.flat());
    values[5 * 4 + 2] = Number.NaN;
    await files.put('in/rows.npy', writeNpy(values, [70, 4]));
    const { manifest, keys } = await score(runtime, files.storage, { key: 'in/rows.npy', model: 'iris-classifier' });
    expect(manifest).toMatchObject({ status: 'succeeded', input: { format: 'npy' }, rows: { in: 70, scored: 69, failed: 1 } });
    expect(await readJsonl<ErrorLine>(files.storage, keys.rowErrors)).toEqual([{ row: 5, reason: 'value 2 is not a finite FP32 number' }]);
    const scores = await readJsonl<ScoreLine>(files.storage, keys.scores);
    const expected = await expectedProbabilities(rows.filter((_, i) => i !== 5));
    expect(scores.map((s) => s.outputs.probabilities)).toEqual(expected);
  });

  it('reads float64 NPY (format 1.0 header written by hand) and refuses Fortran order with what to do', async () => {
    const npy = (fortran: boolean, rows: number[][]) => {
      let header = `{'descr': '<f8', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': (${rows.length}, 4), }`;
      header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
      const body = Buffer.from(Float64Array.from(rows.flat()).buffer);
      const prefix = Buffer.alloc(10);
      Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(prefix);
      prefix.writeUInt16LE(header.length, 8);
      return Buffer.concat([prefix, Buffer.from(header, 'latin1'), body]);
    };
    const rows = irisRows(3, 11);
    await files.put('in/c.npy', npy(false, rows));
    await files.put('in/f.npy', npy(true, rows));
    const c = await score(runtime, files.storage, { key: 'in/c.npy', model: 'iris-classifier' });
    expect(c.manifest.rows).toEqual({ in: 3, scored: 3, failed: 0 });
    const f = await score(runtime, files.storage, { key: 'in/f.npy', model: 'iris-classifier' });
    expect(f.manifest).toMatchObject({ status: 'failed', retryable: false, outputs: null, rows: { in: 0, scored: 0, failed: 0 } });
    expect(f.manifest.reason).toMatch(/Fortran \(column-major\) order.*np\.ascontiguousarray/);
  });

  it.each([
    ['an unknown format', 'in/rows.txt', '1,2,3,4\n', { model: 'iris-classifier' }, /unknown input format \(extension 'txt'\)/],
    ['an unknown model', 'in/a.csv', 'a,b,c,d\n1,2,3,4\n', { model: 'no-such-model' }, /model 'no-such-model' is not served here/],
    ['a header not matching the model', 'in/h.csv', 'a,b,c\n1,2,3\n', { model: 'iris-classifier' }, /CSV header has 3 feature column\(s\) \(a, b, c\); input 'input' takes 4 features/],
    ['an empty file', 'in/empty.csv', '', { model: 'iris-classifier' }, /is empty/],
    ['a header and no rows', 'in/header.csv', 'a,b,c,d\n', { model: 'iris-classifier' }, /the file has no rows/],
    ['an empty JSONL file', 'in/empty.jsonl', '\n\n', { model: 'iris-classifier' }, /the file has no rows/],
  ])('ends %s in a failed manifest saying so', async (_, key, body, request, reason) => {
    await files.put(key, body);
    const { manifest, keys } = await score(runtime, files.storage, { key, ...request });
    expect(manifest).toMatchObject({ status: 'failed', retryable: false, outputs: null, rows: { in: 0, scored: 0, failed: 0 } });
    expect(manifest.reason).toMatch(reason);
    // The failed run leaves its manifest and nothing else.
    expect(await readdir(path.dirname(files.storage.pathOf(keys.manifest)))).toEqual(['manifest.json']);
  });

  it('ends a file of only bad rows in a failed manifest, keeping the row errors', async () => {
    await files.put('in/bad.csv', 'a,b,c,d\nx,1,2,3\n1,2\n');
    const { manifest, keys } = await score(runtime, files.storage, { key: 'in/bad.csv', model: 'iris-classifier' });
    expect(manifest).toMatchObject({ status: 'failed', retryable: false, rows: { in: 2, scored: 0, failed: 2 }, outputs: { rowErrors: keys.rowErrors } });
    expect(manifest.reason).toMatch(/^none of the 2 rows could be scored; the first, row 0: column 1: 'x' is not a finite number/);
    expect(await readJsonl<ErrorLine>(files.storage, keys.rowErrors)).toHaveLength(2);
  });

  it('ends a missing object and one unreadable mid-file in failed manifests, the latter retryable', async () => {
    const missing = await score(runtime, files.storage, { key: 'in/missing.csv', model: 'iris-classifier' });
    expect(missing.manifest).toMatchObject({ status: 'failed', reason: "object 'in/missing.csv' does not exist", retryable: false });

    await files.put('in/iris.csv', `a,b,c,d\n${irisRows(5000).map((r) => r.join(',')).join('\n')}\n`);
    const failing = failingReads(files.storage, 20_000);
    const broken = await score(runtime, failing, { key: 'in/iris.csv', model: 'iris-classifier' });
    expect(broken.manifest).toMatchObject({ status: 'failed', retryable: true, outputs: null });
    expect(broken.manifest.reason).toMatch(/internal error: disk read failed at byte 20000/);
    expect(broken.manifest.rows.in).toBe(broken.manifest.rows.scored + broken.manifest.rows.failed);
    expect(await readdir(path.dirname(files.storage.pathOf(broken.keys.manifest)))).toEqual(['manifest.json']);
    // An operator rerun replaces the failed manifest with a complete run.
    const rerun = await score(runtime, files.storage, { key: 'in/iris.csv', model: 'iris-classifier', rerunFailed: true });
    expect(rerun.manifest).toMatchObject({ status: 'succeeded', rows: { in: 5000, scored: 5000, failed: 0 } });
  });

  it('answers a redelivery with the manifest already there and lets concurrent runs write one manifest', async () => {
    await files.put('in/iris.csv', `a,b,c,d\n${irisRows(300).map((r) => r.join(',')).join('\n')}\n`);
    const runs = await Promise.all([1, 2, 3].map(() => score(runtime, files.storage, { key: 'in/iris.csv', model: 'iris-classifier' })));
    expect(runs.filter((r) => !r.duplicate)).toHaveLength(1);
    const winner = runs.find((r) => !r.duplicate)!.manifest;
    runs.forEach((r) => expect(r.manifest).toEqual(winner));
    const folder = path.dirname(files.storage.pathOf(runs[0]!.keys.manifest));
    expect((await readdir(folder)).sort()).toEqual(['manifest.json', 'row-errors.jsonl', 'scores.jsonl']);
    const scores = await readJsonl<ScoreLine>(files.storage, runs[0]!.keys.scores);
    expect(scores.map((s) => s.row)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    const again = await score(runtime, files.storage, { key: 'in/iris.csv', model: 'iris-classifier' });
    expect(again).toMatchObject({ duplicate: true, manifest: winner });
    const otherModel = await score(runtime, files.storage, { key: 'in/iris.csv', model: 'iris-kmeans' });
    expect(otherModel).toMatchObject({ duplicate: false, manifest: { status: 'failed', outputs: null } });
    expect(otherModel.manifest.reason).toMatch(/are model 'iris-classifier''s; score model 'iris-kmeans' into another output prefix/);
    expect(await score(runtime, files.storage, { key: 'in/iris.csv', model: 'iris-classifier' })).toMatchObject({ manifest: winner });
  });

  it('writes a new version of the input under its own keys, and refuses to read a version that changed since the event', async () => {
    await files.put('in/iris.csv', 'a,b,c,d\n1,2,3,4\n');
    const first = await score(runtime, files.storage, { key: 'in/iris.csv', model: 'iris-classifier' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await files.put('in/iris.csv', 'a,b,c,d\n1,2,3,4\n5,6,7,8\n');
    const second = await score(runtime, files.storage, { key: 'in/iris.csv', model: 'iris-classifier' });
    expect(second.keys.folder).not.toBe(first.keys.folder);
    expect(second.manifest.rows.in).toBe(2);
    // A late redelivery of the first event finds the first run's manifest.
    expect(await score(runtime, files.storage, { key: 'in/iris.csv', model: 'iris-classifier', etag: first.manifest.input.etag })).toMatchObject({ duplicate: true, manifest: first.manifest });
    // An event for a version that was never scored and is gone: the read is pinned to it and refused.
    const stale = await score(runtime, files.storage, { key: 'in/iris.csv', model: 'iris-classifier', etag: 'overwritten-version' });
    expect(stale.keys.folder).toBe('out/in/iris.csv/etag-overwritten-version/');
    expect(stale.manifest).toMatchObject({ status: 'failed', retryable: false });
    expect(stale.manifest.reason).toMatch(/changed while it was being scored \(ETag overwritten-version, now /);
  });
});

/** The storage, with reads that fail after `bytes` bytes (a disk or network error mid-file). */
function failingReads(storage: FilesystemObjectStorage, bytes: number): ObjectStorage {
  return Object.assign(Object.create(storage) as ObjectStorage, {
    async openRead(key: string, options?: OpenReadOptions): Promise<Readable> {
      const source = await storage.openRead(key, options);
      const start = options?.range?.start ?? 0;
      let seen = start;
      const out = new PassThrough();
      source.on('data', (chunk: Buffer) => {
        if (seen + chunk.length > bytes) {
          out.write(chunk.subarray(0, Math.max(0, bytes - seen)));
          source.destroy();
          out.destroy(new Error(`disk read failed at byte ${bytes}`));
          return;
        }
        seen += chunk.length;
        out.write(chunk);
      });
      source.on('end', () => out.end());
      return out;
    },
  });
}
