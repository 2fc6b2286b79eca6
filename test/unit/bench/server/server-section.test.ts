import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBenchArgs } from '../../../../bench/server/bench-plan';
import type { LoadPoint } from '../../../../bench/server/load-run';
import { sweepResults, targetRows } from '../../../../bench/server/server-results';
import { writeServerSection } from '../../../../bench/server/server-section';
import type { SweepMeasurement } from '../../../../bench/server/sweep-phase';

function point(connections: number, reqPerSec: number, p50: number, p99: number, overrides: Partial<LoadPoint> = {}): LoadPoint {
  return {
    connections, durationS: 11.5, ok: reqPerSec * 10, reqPerSec,
    latency: { n: reqPerSec * 10, p50, p99, max: p99 }, latencyWithRamp: { n: reqPerSec * 10, p50, p99: p99 * 1.5, max: p99 * 2 },
    lastFirstAnswerMs: 40, steady: true, steadyWindowS: 10, non2xx: 0, socketErrors: 0, timeouts: 0, errors: 0,
    statusCodes: { 200: reqPerSec * 10 }, peakRssBytes: 220 * 2 ** 20, ...overrides,
  };
}

function sweep(): SweepMeasurement {
  const session = (workload: string, runsPerSec: number, p50: number) => ({
    type: 'answer' as const, workload, runs: runsPerSec * 10, elapsedMs: 10_000, runsPerSec, runsPerSecMedianWindow: runsPerSec,
    latency: { n: runsPerSec * 10, p50, p99: p50 * 2, max: p50 * 3 }, threads: 2, backend: 'local-wasm',
  });
  const connections = [1, 8, 32, 64];
  return {
    serverIdleRssBytes: 200 * 2 ** 20,
    minimalIdleRssBytes: 80 * 2 ** 20,
    workloads: [
      {
        workload: 'iris-classifier-b1-json', answerBytes: 288, session: session('iris-classifier-b1-json', 16000, 0.05),
        server: connections.map((c) => point(c, 2400, 12, 28)), minimal: connections.map((c) => point(c, 6400, 4.7, 12.6)),
      },
      {
        workload: 'mlp-medium-b32-binary', answerBytes: 1466, session: session('mlp-medium-b32-binary', 58, 16),
        server: connections.map((c) => (c === 32
          ? point(c, 46, 610, 4457, { steady: false, lastFirstAnswerMs: 7540, timeouts: 2, socketErrors: 2, errors: 2 })
          : point(c, 44, 170, 350))),
        minimal: connections.map((c) => point(c, 2800, 10, 31)),
      },
    ],
  };
}

describe('writeServerSection', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'server-section-'));
    writeFileSync(join(dir, 'BENCHMARKS.md'), '# Benchmarks\n\n## Serving\n\nkept as it is\n\n## Server\n\nold figures\n\n## Cold start\n\nalso kept\n');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('replaces only the Server section, with the targets read from the rows and the findings for the ones not met', () => {
    const plan = parseBenchArgs(['--only', 'server']);
    const measured = sweep();
    const rows = sweepResults(measured, plan.sweepConnections);
    const targets = targetRows(rows);
    writeServerSection(dir, { plan, date: '2026-12-01 22:50 UTC', loadAtStart: '1.06 / 2.51 / 3.07', loadAtEnd: '6.61 / 4.19 / 3.54', minutes: 10.3, sweep: measured, targets });
    const text = readFileSync(join(dir, 'BENCHMARKS.md'), 'utf8');
    expect(text).toContain('## Serving\n\nkept as it is');
    expect(text).toContain('## Cold start\n\nalso kept');
    expect(text).not.toContain('old figures');
    expect(text).toContain('| server/mlp-medium-b32-binary/c32/model-limit | req_per_s | 46 | 58 | 0.7931 | ≥ 0.85 | **no** |');
    expect(text).toContain('| server/iris-classifier-b1-json/c32 | req_per_s | 2400 | 6400 | 0.375 | ≥ 0.2 | yes |');
    expect(text).toContain('| server/mlp-medium-b32-binary/c32 | errors | 2 |  |  | 0 | **no** |');
    expect(text).toContain('| 32 | 46.0 † | 610 | 4457 |');
    expect(text).toMatch(/mlp-medium-b32-binary at 32 connections: 2 errors \(2 timeouts, 0 non-2xx\)[^\n]*after 7540 ms/);
    expect(text).not.toMatch(/- iris-classifier-b1-json at 32 connections/);
  });
});
