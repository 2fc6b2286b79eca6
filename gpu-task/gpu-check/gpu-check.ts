/**
 * The GPU check: on a machine with an NVIDIA GPU and no network, runs the GPU task's
 * execution-provider self-test and times mlp-large and text-detector at batch 256 on every
 * provider that passed, against the CPU provider, and writes the figures as JSON. Each provider
 * runs in its own child process, so a driver that crashes costs that provider only, and the
 * child's stderr carries onnxruntime's verbose "Node placements" log, read beside the profile.
 *
 * Bundled (build-gpu-check.ts) it carries its Node binary, onnxruntime-node and Debian's Vulkan
 * loader: `./run-gpu-check.sh [--out result.json]`. From the repository:
 * `npx tsx gpu-task/gpu-check/gpu-check.ts --bundle-dir <dir with gpu-check-manifest.json>`.
 *
 * Options: --out FILE (gpu-check-result.json), --providers cuda,webgpu,cpu (HOTPATH_PROVIDERS),
 * --rows 256, --image-side 320 (text-detector input side), --case-budget-s 10, --budget-s 280.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readVerboseNodePlacements } from '../../lib/backends/execution-provider-selftest';
import type { OrtModule } from '../../lib/backends/ort-session-adapter';
import { EXECUTION_PROVIDER_NAMES, type ExecutionProviderName } from '../../lib/config/serving-config';
import { runtimeReason } from '../../lib/errors/runtime-failure';
import { prepareCheckModels, type GpuCheckModels } from './gpu-check-models';
import { checkProvider, type ProviderCheck, type Timing } from './gpu-check-provider';

/** `gpu-check-manifest.json`: what the bundle carries. */
export interface GpuCheckManifest {
  readonly onnxruntime: string;
  readonly models: GpuCheckModels;
  /** Folder of the Vulkan loader (libvulkan.so.1), relative to the bundle; absent from the repository. */
  readonly vulkanLibDir?: string;
  readonly contents?: Readonly<Record<string, string>>;
}

/** The self-test tolerance the GPU task uses by default (HOTPATH_PROVIDER_ATOL/RTOL). */
const TOLERANCE = { atol: 1e-5, rtol: 1e-2 };
/** Where NVIDIA's Vulkan driver manifest sits on hosts and in containers (the last: a driver folder mounted at /usr/local/nvidia). */
const NVIDIA_ICD_FILES = ['/usr/share/vulkan/icd.d/nvidia_icd.json', '/etc/vulkan/icd.d/nvidia_icd.json', '/usr/local/share/vulkan/icd.d/nvidia_icd.json', '/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json'];

const { values: flags } = parseArgs({
  options: {
    out: { type: 'string', default: 'gpu-check-result.json' },
    providers: { type: 'string' },
    rows: { type: 'string', default: '256' },
    'image-side': { type: 'string', default: '320' },
    'case-budget-s': { type: 'string', default: '10' },
    'budget-s': { type: 'string', default: '280' },
    'bundle-dir': { type: 'string' },
    child: { type: 'string' },
    work: { type: 'string' },
    result: { type: 'string' },
  },
  strict: true,
});

const bundleDir = resolve(flags['bundle-dir'] ?? dirname(process.argv[1]!));
const manifest = JSON.parse(readFileSync(join(bundleDir, 'gpu-check-manifest.json'), 'utf8')) as GpuCheckManifest;
const rows = positiveInteger('rows');
const imageSide = positiveInteger('image-side');

function positiveInteger(name: 'rows' | 'image-side' | 'case-budget-s' | 'budget-s'): number {
  const value = Number(flags[name]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name}: '${flags[name]}' is not a positive integer`);
  return value;
}

function providerList(): ExecutionProviderName[] {
  const raw = flags.providers ?? process.env.HOTPATH_PROVIDERS ?? 'cuda,webgpu,cpu';
  const names = raw.split(',').map((n) => n.trim().toLowerCase()).filter((n) => n.length > 0);
  const bad = names.find((n) => !(EXECUTION_PROVIDER_NAMES as readonly string[]).includes(n));
  if (bad !== undefined) throw new Error(`--providers: '${bad}' is not one of ${EXECUTION_PROVIDER_NAMES.join(', ')}`);
  // CPU first: it is every other provider's anchor.
  return ['cpu', ...new Set(names.filter((n) => n !== 'cpu'))] as ExecutionProviderName[];
}

/** Child: one provider's self-test and timings, written to --result. */
async function runChild(provider: ExecutionProviderName): Promise<void> {
  const ort = requireOnnxruntimeNode();
  const models = prepareCheckModels(manifest.models, bundleDir, flags.work!, imageSide);
  const check = await checkProvider(ort, provider, models, {
    rows, tolerance: TOLERANCE, threads: availableParallelism(), caseBudgetMs: positiveInteger('case-budget-s') * 1000, minRuns: 3, maxRuns: 50,
  });
  writeFileSync(flags.result!, JSON.stringify(check));
}

/** The bundle's onnxruntime-node, or (run from the repository) the repository's. */
function requireOnnxruntimeNode(): OrtModule {
  for (const from of [bundleDir, process.cwd()]) {
    try {
      return createRequire(join(from, 'package.json'))('onnxruntime-node') as OrtModule;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
    }
  }
  throw new Error(`onnxruntime-node is neither in ${bundleDir}/node_modules nor in ${process.cwd()}/node_modules`);
}

/** The Vulkan loader of the bundle first on the library path, and NVIDIA's driver manifest named when the loader would not find it alone. */
function childEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  if (manifest.vulkanLibDir) env.LD_LIBRARY_PATH = [join(bundleDir, manifest.vulkanLibDir), env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  if (!env.VK_DRIVER_FILES && !env.VK_ICD_FILENAMES) {
    const standard = NVIDIA_ICD_FILES.slice(0, 3).some((f) => existsSync(f));
    const mounted = NVIDIA_ICD_FILES[3]!;
    if (!standard && existsSync(mounted)) env.VK_DRIVER_FILES = mounted;
  }
  return env;
}

interface ChildOutcome { readonly check?: ProviderCheck; readonly failure?: string; readonly verbosePlacements: Record<string, number>[] }

function runProviderChild(provider: ExecutionProviderName, work: string, timeoutMs: number, env: NodeJS.ProcessEnv): Promise<ChildOutcome> {
  const result = join(work, `${provider}.json`);
  const args = [...process.execArgv, process.argv[1]!, '--bundle-dir', bundleDir, '--child', provider, '--work', work, '--result', result,
    '--rows', String(rows), '--image-side', String(imageSide), '--case-budget-s', flags['case-budget-s']!];
  return new Promise((done) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stdout.resume();
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const verbosePlacements = readVerboseNodePlacements(stderr);
      if (code === 0 && existsSync(result)) {
        done({ check: JSON.parse(readFileSync(result, 'utf8')) as ProviderCheck, verbosePlacements });
        return;
      }
      const tail = stderr.split('\n').filter((l) => l.trim() !== '' && !/\[V:onnxruntime/.test(l)).slice(-4).join(' | ');
      const how = signal === 'SIGKILL' ? `was stopped after ${Math.round(timeoutMs / 1000)} s (the check's time budget)` : signal ? `died of ${signal}` : `exited with code ${code}`;
      done({ failure: `the self-test process ${how}: ${runtimeReason(tail)}`, verbosePlacements });
    });
  });
}

function gpuDescription(): string | null {
  try {
    return execFileSync('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'], { timeout: 15_000, encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

async function runParent(): Promise<void> {
  const started = performance.now();
  const budgetMs = positiveInteger('budget-s') * 1000;
  const work = mkdtempSync(join(tmpdir(), 'hotpath-gpu-check-'));
  const env = childEnvironment();
  const providers = providerList();
  const checks: (ProviderCheck & { reason?: string; verbose_log_nodes?: Record<string, number>[] })[] = [];
  try {
    for (const provider of providers) {
      const left = budgetMs - (performance.now() - started);
      if (left < 5_000) {
        checks.push({ provider, passed: false, reason: 'not run: the check\'s time budget was spent', self_tests: [], measurements: [] });
        continue;
      }
      process.stderr.write(`gpu-check: ${provider}...\n`);
      const outcome = await runProviderChild(provider, work, left, env);
      if (!outcome.check) {
        checks.push({ provider, passed: false, reason: outcome.failure, self_tests: [], measurements: [], verbose_log_nodes: outcome.verbosePlacements });
        continue;
      }
      const refused = outcome.check.self_tests.filter((t) => !t.passed).map((t) => `${t.model}: ${t.reason}`);
      checks.push({
        ...outcome.check,
        ...(refused.length > 0 ? { reason: refused.join('; ') } : {}),
        verbose_log_nodes: outcome.verbosePlacements,
      });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const timed = (check: ProviderCheck) => check.measurements.filter((m): m is Timing => !('error' in m));
  const cpuCheck = checks.find((c) => c.provider === 'cpu');
  const anchors = new Map((cpuCheck ? timed(cpuCheck) : []).map((m) => [m.model, m.median_ms]));
  const results = checks.flatMap((check) => timed(check).map((m) => {
    const anchor = check.provider === 'cpu' ? undefined : anchors.get(m.model);
    return {
      case: `${m.model}/batch-${m.rows}/${check.provider}`, metric: 'median_ms', value: m.median_ms, lower_is_better: true,
      ...(anchor !== undefined ? { anchor: `${m.model}/batch-${m.rows}/cpu`, anchor_value: anchor, ratio: Math.round((m.median_ms / anchor) * 1000) / 1000 } : {}),
      rows_per_s: m.rows_per_s, runs: m.runs, min_ms: m.min_ms, first_run_ms: m.first_run_ms, ...(m.agrees_with_cpu ? { agrees_with_cpu: m.agrees_with_cpu } : {}),
    };
  }));
  const report = {
    name: 'gpu-check',
    date: new Date().toISOString(),
    machine: `${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, node ${process.versions.node}`,
    gpu: gpuDescription(),
    onnxruntime: manifest.onnxruntime,
    settings: { rows, text_detector_side: imageSide, tolerance: TOLERANCE, vulkan_driver_files: env.VK_DRIVER_FILES ?? env.VK_ICD_FILENAMES ?? null },
    providers: checks.map(({ measurements, ...rest }) => ({ ...rest, ...(measurements.some((m) => 'error' in m) ? { measurement_errors: measurements.filter((m) => 'error' in m) } : {}) })),
    passed: checks.filter((c) => c.passed).map((c) => c.provider),
    results,
    elapsed_s: Math.round((performance.now() - started) / 100) / 10,
  };
  writeFileSync(resolve(flags.out!), `${JSON.stringify(report, null, 2)}\n`);
  for (const check of checks) process.stdout.write(`${check.provider}: ${check.passed ? 'PASSED' : `REFUSED (${check.reason})`}\n`);
  for (const r of results) process.stdout.write(`${r.case}: ${r.value} ms median, ${r.rows_per_s} rows/s${'ratio' in r ? `, ${r.ratio}× CPU's time` : ''}\n`);
  process.stdout.write(`wrote ${resolve(flags.out!)} in ${report.elapsed_s} s\n`);
}

(flags.child ? runChild(flags.child as ExecutionProviderName) : runParent()).catch((error: unknown) => {
  process.stderr.write(`gpu-check: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
