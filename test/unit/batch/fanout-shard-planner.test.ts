import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { FilesystemObjectStorage } from '../../../lib/batch/filesystem-object-storage';
import { lineRowBoundaries } from '../../../lib/batch/line-ranges';
import { countShardRows } from '../../../lib/batch/shard-row-counts';
import { planShards, type PlanInput, type ShardSettings } from '../../../lib/batch/shard-planner';

const SETTINGS: ShardSettings = { reserveMs: 30_000, shardTargetSeconds: 600, maxShards: 1_000, minShardBytes: 64 * 1024 * 1024, gpuTaskAboveBytes: 50 * 1024 ** 3 };

function plan(overrides: Partial<PlanInput>): ReturnType<typeof planShards> {
  return planShards({
    objectBytes: 1_000_000, format: 'csv', dataStart: 40, measuredRowsPerSecond: 100_000, measuredBytesPerRow: 25,
    remainingMs: 880_000, gpuModel: false, settings: SETTINGS, ...overrides,
  });
}

describe('planShards', () => {
  it('scores here when the measured rate finishes within the remaining time less the reserve', () => {
    // 40M rows at 100k rows/s = 400 s < 850 s.
    const decision = plan({ objectBytes: 1_000_000_040 });

    expect(decision).toMatchObject({ route: 'single', estimatedSeconds: 400 });
    expect(decision.reason).toContain('within the 850.0 s');
  });

  it('cuts an object that would overrun into shards of about the target time, covering every byte once', () => {
    // 400M rows at 100k rows/s = 4,000 s: 7 shards of ~571 s (target 600 s).
    const objectBytes = 10_000_000_040;
    const decision = plan({ objectBytes });

    expect(decision.route).toBe('sharded');
    if (decision.route !== 'sharded') return;
    expect(decision.shards).toHaveLength(7);
    expect(decision.shards[0]!.start).toBe(40);
    expect(decision.shards.at(-1)!.end).toBe(objectBytes);
    for (let i = 1; i < decision.shards.length; i++) expect(decision.shards[i]!.start).toBe(decision.shards[i - 1]!.end);
  });

  it('keeps shards at least minShardBytes, so their outputs join by part copies', () => {
    // Slow model: 100 rows/s on a 100 MB file would want 42 shards by time; 64 MiB each allows 1 -> 2.
    const decision = plan({ objectBytes: 100_000_000, measuredRowsPerSecond: 100 });

    expect(decision.route).toBe('sharded');
    if (decision.route === 'sharded') expect(decision.shards).toHaveLength(2);
  });

  it('hands off to the GPU task for a model marked GPU, a file above the threshold, or more work than maxShards can hold', () => {
    expect(plan({ gpuModel: true }).route).toBe('gpu-task');
    expect(plan({ objectBytes: 60 * 1024 ** 3 }).reason).toMatch(/above the GPU task threshold/);
    const tooMuch = plan({ objectBytes: 40 * 1024 ** 3, measuredRowsPerSecond: 10, settings: { ...SETTINGS, minShardBytes: 1024 } });
    expect(tooMuch).toMatchObject({ route: 'gpu-task' });
    expect(tooMuch.reason).toMatch(/even 1000 shards/);
  });

  it('scores an image here whatever the numbers', () => {
    expect(plan({ format: 'png', gpuModel: false, measuredRowsPerSecond: 0.001 }).route).toBe('single');
  });

  it('cuts NPY on row boundaries and numbers the rows itself', () => {
    const rowBytes = 16;
    const rows = 50_000_000;
    const decision = plan({ format: 'npy', dataStart: 128, npyRowBytes: rowBytes, objectBytes: 128 + rows * rowBytes, measuredBytesPerRow: rowBytes, measuredRowsPerSecond: 10_000 });

    expect(decision.route).toBe('sharded');
    if (decision.route !== 'sharded') return;
    for (const shard of decision.shards) {
      expect((shard.start - 128) % rowBytes).toBe(0);
      expect(shard.firstRow).toBe((shard.start - 128) / rowBytes);
    }
    expect(decision.shards.at(-1)!.end).toBe(128 + rows * rowBytes);
  });

  it('refuses a rate that is not a positive number', () => {
    expect(() => plan({ measuredRowsPerSecond: 0 })).toThrow("'measuredRowsPerSecond' must be a positive number");
  });
});

describe('countShardRows', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hotpath-shard-rows-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('numbers every shard as one scan of the whole file does, wherever the cuts fall (blank lines, CRLF, no final newline)', async () => {
    const storage = new FilesystemObjectStorage(dir);
    const line = fc.oneof(fc.constant(''), fc.constant('\r'), fc.stringMatching(/^[0-9a-z,.]{1,12}\r?$/));
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 40 }), fc.boolean(), fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), async (lines, finalNewline, rawCuts) => {
        // Prepare
        const text = lines.join('\n') + (finalNewline && lines.length > 0 ? '\n' : '');
        const bytes = Buffer.from(text);
        writeFileSync(join(dir, 'data.jsonl'), bytes);
        const head = await storage.head('data.jsonl');
        const cuts = [...new Set(rawCuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b).filter((c) => c > 0);
        const edges = [0, ...cuts, bytes.length];
        const shards = edges.slice(0, -1).map((start, index) => ({ index, start, end: edges[index + 1]! }));

        // Act
        const numbered = await countShardRows(storage, head, shards, 3);
        const boundaries = await lineRowBoundaries(Readable.from([bytes]), 0, [...edges.slice(1, -1), bytes.length + 1]);

        // Assess: shard i starts at the row count before cut i, and all rows are counted once.
        const expectedFirst = [0, ...boundaries.slice(0, -1).map((b) => b.row)];
        expect(numbered.map((s) => s.firstRow)).toEqual(expectedFirst);
        expect(numbered.reduce((sum, s) => sum + s.rows, 0)).toBe(boundaries.at(-1)!.row);
      }),
      { numRuns: 60 },
    );
  });
});
