import { estimateSeconds, parseBenchArgs } from '../../../../bench/server/bench-plan';

describe('parseBenchArgs', () => {
  it('plans every part, every workload, 10 s points and writes results when given no arguments', () => {
    const plan = parseBenchArgs([]);
    expect(plan.parts).toEqual(['frameworks', 'server', 'offline', 'gzip']);
    expect(plan.workloads).toEqual(['iris-classifier-b1-json', 'mlp-medium-b1-binary', 'mlp-medium-b32-binary']);
    expect(plan.pointMs).toBe(10_000);
    expect(plan.sweepConnections).toEqual([1, 8, 32, 64]);
    expect(plan.write).toBe(true);
  });

  it('uses 2 s points and writes nothing when --quick is given without --write', () => {
    const plan = parseBenchArgs(['--quick']);
    expect(plan.pointMs).toBe(2000);
    expect(plan.write).toBe(false);
    expect(parseBenchArgs(['--quick', '--write']).write).toBe(true);
  });

  it('selects parts and workloads from --only, comma-separated or repeated', () => {
    const plan = parseBenchArgs(['--only', 'server,mlp-medium-b32-binary', '--only=offline']);
    expect(plan.parts).toEqual(['server', 'offline']);
    expect(plan.workloads).toEqual(['mlp-medium-b32-binary']);
    expect(plan.frameworkWorkloads).toEqual(['mlp-medium-b32-binary']);
    expect(plan.write).toBe(false);
  });

  it('keeps every part when --only names workloads only', () => {
    expect(parseBenchArgs(['--only', 'iris-classifier-b1-json']).parts).toEqual(['frameworks', 'server', 'offline', 'gzip']);
  });

  it('refuses an unknown --only value, naming it and listing the known ones', () => {
    expect(() => parseBenchArgs(['--only', 'server,iris'])).toThrow(/--only: unknown 'iris'[\s\S]*parts: frameworks, server, offline, gzip/);
  });

  it('refuses --only without a value and unknown flags', () => {
    expect(() => parseBenchArgs(['--only'])).toThrow('--only needs a value');
    expect(() => parseBenchArgs(['--fast'])).toThrow("unknown argument '--fast'");
  });
});

describe('estimateSeconds', () => {
  it('keeps the full run under 12 minutes', () => {
    const seconds = estimateSeconds(parseBenchArgs([]));
    const total = Object.values(seconds).reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(8 * 60);
    expect(total).toBeLessThan(12 * 60);
  });

  it('counts nothing for the parts left out', () => {
    const seconds = estimateSeconds(parseBenchArgs(['--only', 'frameworks']));
    expect(seconds.server).toBe(0);
    expect(seconds.offline).toBe(0);
    expect(seconds.frameworks).toBeGreaterThan(0);
  });
});
