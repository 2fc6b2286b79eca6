import fc from 'fast-check';
import { Readable } from 'node:stream';
import { batchOutputKeys } from '../../../lib/batch/batch-output-keys';
import { parseFeature } from '../../../lib/batch/feature-values';
import { detectInputFormat } from '../../../lib/batch/input-format';
import { lineRowBoundaries, ownedLineBytes } from '../../../lib/batch/line-ranges';
import { newStageDurations } from '../../../lib/batch/row-batch';
import { workerScoreLineEncoding } from '../../../lib/batch/score-line-worker';
import { encodeFailureLines, encodeScoreLines } from '../../../lib/batch/score-lines';

describe('detectInputFormat', () => {
  it('takes the format from the extension or a specific content type, and refuses to guess', () => {
    expect(detectInputFormat('in/a.CSV', 'application/octet-stream')).toBe('csv');
    expect(detectInputFormat('in/a.ndjson')).toBe('jsonl');
    expect(detectInputFormat('in/upload', 'application/x-ndjson; charset=utf-8')).toBe('jsonl');
    expect(detectInputFormat('in/p.jpg', 'image/jpeg')).toBe('jpeg');
    expect(() => detectInputFormat('in/upload', 'binary/octet-stream')).toThrow("unknown input format (extension '(none)')");
    expect(() => detectInputFormat('in/a.csv', 'image/png')).toThrow("its extension says csv but its content type 'image/png' says png");
  });
});

describe('parseFeature', () => {
  it('reads decimal numbers and refuses what Number() would read wrongly', () => {
    expect([' 5.1', '-3', '+.5', '1e-3', '2E+2', '7.'].map(parseFeature)).toEqual([5.1, -3, 0.5, 0.001, 200, 7]);
    expect(['', ' ', '0x1f', 'NaN', 'inf', 'Infinity', '1,5', '1e39', 'abc'].map(parseFeature)).toEqual(Array(9).fill(undefined));
  });
});

describe('ownedLineBytes and lineRowBoundaries', () => {
  const chunked = (bytes: Buffer, size: number) => Readable.from(Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size)));
  const owned = async (bytes: Buffer, start: number, end: number, chunk: number) => {
    const readStart = start > 0 ? start - 1 : 0;
    const parts: Buffer[] = [];
    for await (const part of ownedLineBytes(chunked(bytes.subarray(readStart), chunk), readStart, start, end, newStageDurations(), { bytesRead: 0 })) parts.push(part);
    return Buffer.concat(parts).toString('latin1');
  };

  it('gives every line to exactly one shard and numbers shards as the non-empty lines before them, for any cuts and chunk sizes', async () => {
    const line = fc.stringMatching(/^[a-c,\r]{0,6}$/);
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 20 }), fc.boolean(), fc.uniqueArray(fc.nat(150), { maxLength: 4 }), fc.integer({ min: 1, max: 9 }), async (lines, trailing, rawCuts, chunk) => {
        const text = lines.join('\n') + (trailing ? '\n' : '');
        const bytes = Buffer.from(text, 'latin1');
        const cuts = [0, ...rawCuts.filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b), bytes.length];
        let joined = '';
        for (let i = 0; i + 1 < cuts.length; i++) joined += await owned(bytes, cuts[i]!, cuts[i + 1]!, chunk);
        expect(joined).toBe(text);
        const boundaries = await lineRowBoundaries(chunked(bytes, chunk), 0, cuts);
        for (const [i, boundary] of boundaries.entries()) {
          const before = text.slice(0, boundary.byte);
          expect(boundary.byte === bytes.length || boundary.byte === 0 || text[boundary.byte - 1] === '\n').toBe(true);
          expect(boundary.byte).toBeGreaterThanOrEqual(cuts[i]!);
          const rowsBefore = before.split('\n').slice(0, boundary.byte === bytes.length ? undefined : -1).filter((l) => l.replace(/\r/g, '') !== '').length;
          expect(boundary.row).toBe(rowsBefore);
        }
      }),
      { numRuns: 300, seed: 1202 },
    );
  });
});

describe('parseFeature fast path', () => {
  it('answers exactly what Number() answers for short decimals, and refuses what the pattern refuses', () => {
    const decimal = (value: string) => (/^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/.test(value) ? Number(value) : undefined);
    fc.assert(
      fc.property(fc.stringMatching(/^-?[0-9]{0,10}\.?[0-9]{0,8}$/), (cell) => {
        expect(Object.is(parseFeature(cell), decimal(cell))).toBe(true);
      }),
      { numRuns: 2000, seed: 1203 },
    );
    for (const cell of ['-0', '-0.0', '.5', '5.', '-', '.', '-.', '123456789012345', '1234567890123456', '0.1', '4.35']) {
      expect(Object.is(parseFeature(cell), decimal(cell))).toBe(true);
    }
  });
});

describe('encodeScoreLines', () => {
  it('writes one line per row: numbers for scalar outputs, arrays for vectors, shape + data beyond, null for NaN', () => {
    const text = encodeScoreLines([7, 9], ['a"b', undefined], [
      { name: 'p', datatype: 'FP32', shape: [2, 2], data: Float32Array.from([0.5, Number.NaN, 1, 0]) },
      { name: 'label', datatype: 'INT64', shape: [2], data: BigInt64Array.from([2n, 0n]) },
      { name: 'map', datatype: 'FP32', shape: [2, 1, 2], data: Float32Array.from([1, 2, 3, 4]) },
    ]);
    expect(text).toBe(
      '{"row":7,"id":"a\\"b","outputs":{"p":[0.5,null],"label":2,"map":{"shape":[1,2],"data":[1,2]}}}\n' +
        '{"row":9,"outputs":{"p":[1,0],"label":0,"map":{"shape":[1,2],"data":[3,4]}}}\n',
    );
    expect(encodeFailureLines([{ row: 3, reason: 'bad "x"' }])).toBe('{"row":3,"reason":"bad \\"x\\""}\n');
  });
});

describe('batchOutputKeys', () => {
  it('derives the folder from the key and the version, else the ETag, with zero-padded part ranges', () => {
    expect(batchOutputKeys('scored/', { key: 'in/a.csv', etag: 'abc' }).scores).toBe('scored/in/a.csv/etag-abc/scores.jsonl');
    expect(batchOutputKeys('scored', { key: 'in/a.csv', etag: 'abc', versionId: 'v/1' }).manifest).toBe('scored/in/a.csv/version-v_1/manifest.json');
    expect(batchOutputKeys('', { key: 'a.csv', etag: 'e' }, { start: 5, end: 1000 }).folder).toBe('a.csv/etag-e/parts/000000000000005-000000000001000/');
  });
});

describe('score lines on the encoding worker', () => {
  it('answers the bytes the thread writes, for every datatype and rank, in the order asked', async () => {
    const encoding = workerScoreLineEncoding();
    const outputs = [
      { name: 'p', datatype: 'FP32' as const, shape: [3, 2], data: Float32Array.from([0.1, Number.NaN, 1e-8, Number.POSITIVE_INFINITY, 0.3333, -0]) },
      { name: 'label', datatype: 'INT64' as const, shape: [3], data: BigInt64Array.from([2n, 5000n, -1n]) },
      { name: 'ok', datatype: 'BOOL' as const, shape: [3], data: Uint8Array.from([1, 0, 1]) },
      { name: 'map', datatype: 'FP64' as const, shape: [3, 1, 2], data: Float64Array.from([1, 2, 3, 4, 5, 6]) },
      { name: 'text', datatype: 'BYTES' as const, shape: [3], data: [Buffer.from('a"é'), Buffer.from(''), Buffer.from('x\n')] },
    ];
    const answers = await Promise.all([0, 1, 2].map((k) => encoding.encode([k, k + 1, k + 2], ['a"b', undefined, 'é'], outputs)));
    answers.forEach((answer, k) => {
      expect(typeof answer).not.toBe('string'); // built on the worker, not the thread's fallback
      expect(Buffer.from(answer as Uint8Array).toString('utf8')).toBe(encodeScoreLines([k, k + 1, k + 2], ['a"b', undefined, 'é'], outputs));
    });
  });
});
