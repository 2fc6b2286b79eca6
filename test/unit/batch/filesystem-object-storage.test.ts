import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { ObjectChangedError, ObjectNotFoundError } from '../../../lib/batch/batch-errors';
import { FilesystemObjectStorage } from '../../../lib/batch/filesystem-object-storage';

describe('FilesystemObjectStorage', () => {
  let root: string;
  let storage: FilesystemObjectStorage;
  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'hotpath-fs-storage-'));
    storage = new FilesystemObjectStorage(root);
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('reads a half-open byte range and clamps its end to the size', async () => {
    await writeFile(path.join(root, 'a.txt'), '0123456789');
    expect(await text(await storage.openRead('a.txt', { range: { start: 2, end: 5 } }))).toBe('234');
    expect(await text(await storage.openRead('a.txt', { range: { start: 8, end: 100 } }))).toBe('89');
    expect(await text(await storage.openRead('a.txt', { range: { start: 10, end: 12 } }))).toBe('');
  });

  it('refuses a missing object at open and a changed one by its ETag', async () => {
    await expect(storage.openRead('missing.csv')).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(storage.head('missing.csv')).rejects.toMatchObject({ status: 404 });
    await writeFile(path.join(root, 'a.txt'), 'one');
    const { etag } = await storage.head('a.txt');
    await new Promise((resolve) => setTimeout(resolve, 5));
    await writeFile(path.join(root, 'a.txt'), 'two!');
    await expect(storage.openRead('a.txt', { ifMatch: etag })).rejects.toBeInstanceOf(ObjectChangedError);
  });

  it('shows a streamed write only once it is done, and nothing after an abort', async () => {
    const writer = storage.openWrite('out/x/scores.jsonl', { contentType: 'application/x-ndjson' });
    writer.stream.write('{"row":0}\n');
    expect(await storage.exists('out/x/scores.jsonl')).toBe(false);
    writer.stream.end('{"row":1}\n');
    await writer.done;
    expect(await readFile(path.join(root, 'out/x/scores.jsonl'), 'utf8')).toBe('{"row":0}\n{"row":1}\n');

    const aborted = storage.openWrite('out/x/other.jsonl', { contentType: 'application/x-ndjson' });
    aborted.stream.write('partial');
    await aborted.abort(new Error('stop'));
    await expect(aborted.done).rejects.toThrow('stop');
    expect(await readdir(path.join(root, 'out/x'))).toEqual(['scores.jsonl']);
  });

  it('lets exactly one of concurrent putIfAbsent calls create the object', async () => {
    const results = await Promise.all(['a', 'b', 'c', 'd'].map((body) => storage.putIfAbsent('m/manifest.json', body, { contentType: 'application/json' })));
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = ['a', 'b', 'c', 'd'][results.indexOf(true)];
    expect(await readFile(path.join(root, 'm/manifest.json'), 'utf8')).toBe(winner);
    expect(await readdir(path.join(root, 'm'))).toEqual(['manifest.json']);
  });

  it('lists by plain prefix in key order, deletes idempotently and refuses keys leaving the root', async () => {
    for (const key of ['p/b.csv', 'p/a.csv', 'p/sub/c.csv', 'pq.csv', 'q.csv']) {
      await storage.putIfAbsent(key, 'x', { contentType: 'text/csv' });
    }
    const keys = async (prefix: string) => {
      const found: string[] = [];
      for await (const entry of storage.list(prefix)) found.push(entry.key);
      return found;
    };
    expect(await keys('p/')).toEqual(['p/a.csv', 'p/b.csv', 'p/sub/c.csv']);
    expect(await keys('p')).toEqual(['p/a.csv', 'p/b.csv', 'p/sub/c.csv', 'pq.csv']);
    await storage.delete('p/a.csv');
    await storage.delete('p/a.csv');
    expect(await keys('p/')).toEqual(['p/b.csv', 'p/sub/c.csv']);
    expect(() => storage.pathOf('../etc/passwd')).toThrow("object key '../etc/passwd' is not valid");
  });
});
