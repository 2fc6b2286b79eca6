/**
 * The GPU check (gpu-task/gpu-check/gpu-check.ts) from the repository on this CPU-only machine,
 * at a small batch so it runs in seconds: the GPU providers are refused with onnxruntime's
 * reasons, CPU passes with its placement read twice (profile and verbose log) and gives
 * figures, and the JSON says so. The bundled form runs the same code (build-gpu-check.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadServingConfig } from '../../../lib/config/serving-config';
import { repositoryCheckModels } from '../../../gpu-task/gpu-check/gpu-check-manifest';

interface Report {
  gpu: string | null;
  passed: string[];
  providers: { provider: string; passed: boolean; reason?: string; verbose_log_nodes: Record<string, number>[]; self_tests: { model: string; passed: boolean; reason?: string; nodes_by_provider?: Record<string, number> }[] }[];
  results: { case: string; metric: string; value: number; rows_per_s: number; runs: number; anchor?: string }[];
  elapsed_s: number;
}

describe('GPU check on a machine without a GPU', () => {
  let dir: string;
  let report: Report;
  let stdout: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hotpath-gpu-check-test-'));
    const models = repositoryCheckModels(loadServingConfig({}).modelsDir);
    writeFileSync(join(dir, 'gpu-check-manifest.json'), JSON.stringify({ onnxruntime: '1.30.0', models: { textDetector: models.textDetector, mlpLarge: models.mlpLarge } }));
    const run = spawnSync(process.execPath, [resolve('node_modules/tsx/dist/cli.mjs'), 'gpu-task/gpu-check/gpu-check.ts', '--bundle-dir', dir, '--out', join(dir, 'result.json'),
      '--providers', 'cuda,webgpu,cpu', '--rows', '4', '--image-side', '64', '--case-budget-s', '1'], { encoding: 'utf8', timeout: 120_000 });
    stdout = run.stdout;
    if (run.status !== 0) throw new Error(`gpu-check exited ${run.status}: ${run.stderr.slice(-2000)}`);
    report = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as Report;
  }, 150_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses cuda and webgpu with the reasons onnxruntime gave, per model', () => {
    // Act
    const byProvider = new Map(report.providers.map((p) => [p.provider, p]));

    // Assess
    expect(report.passed).toEqual(['cpu']);
    expect(byProvider.get('cuda')!.self_tests.map((t) => [t.model, t.passed])).toEqual([['mlp-large', false], ['text-detector', false]]);
    expect(byProvider.get('cuda')!.reason).toContain('Failed to load shared library');
    expect(byProvider.get('webgpu')!.reason).toContain('Failed to get a WebGPU adapter');
    expect(stdout).toContain('webgpu: REFUSED (mlp-large: the session cannot be created on it:');
  });

  it('reads the CPU placement from onnxruntime\'s profile and from its verbose log, and they agree', () => {
    // Act
    const cpu = report.providers.find((p) => p.provider === 'cpu')!;
    const fromProfile = cpu.self_tests.map((t) => t.nodes_by_provider);

    // Assess
    expect(fromProfile).toEqual([{ CPUExecutionProvider: 4 }, { CPUExecutionProvider: expect.any(Number) }]);
    expect(cpu.verbose_log_nodes).toEqual(fromProfile);
  });

  it('times both models on CPU only, with no figure for a provider that did not pass', () => {
    // Assess
    expect(report.results.map((r) => r.case)).toEqual(['mlp-large/batch-4/cpu', 'text-detector/batch-4/cpu']);
    for (const result of report.results) {
      expect(result.metric).toBe('median_ms');
      expect(result.value).toBeGreaterThan(0);
      expect(result.runs).toBeGreaterThanOrEqual(3);
      expect(result.anchor).toBeUndefined();
    }
    expect(report.elapsed_s).toBeLessThan(120);
  });
});
