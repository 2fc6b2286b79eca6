/**
 * Feed-forward graphs on the kernel backend against onnxruntime, same run (issue 13):
 * - cold start, process start to first answer, of the built handler bundle with one model
 *   (iris-classifier, mlp-medium) on its kernel plan, on onnxruntime-web (HOTPATH_WASM_MODELS)
 *   and on native onnxruntime-node (HOTPATH_BACKEND=native), rounds interleaved and rotated, one
 *   thread; a Python 3 process with onnxruntime 1.30.0 the same way, from a virtualenv the bench
 *   makes once (bench/.venv-onnxruntime, gitignored) with pip from the machine's configured index;
 *   where that fails, the bench says why and carries on without the row;
 * - warm session.run p50 at batch 1 and 32 for iris-classifier and the benchmark MLPs on the three
 *   backends in one process, calls rotated so drift hits all alike.
 * Writes bench/results/feed-forward.json and prints the BENCHMARKS.md section.
 *
 * @example
 * flock /tmp/hotpath-bench.lock npm run bench:feed-forward -- --runs 10 --samples 300
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { compareWithAnchor, describeMachine, writeBenchResults, type BenchResult } from '../bench-results';
import { KernelBackend } from '../../lib/backends/kernel-backend';
import { NativeBackend } from '../../lib/backends/native-backend';
import { WasmBackend } from '../../lib/backends/wasm-backend';
import type { BackendSession, InferenceBackend } from '../../lib/backends/inference-backend';
import type { ManifestModel, ModelManifest } from '../../lib/models/model-manifest-types';
import { seededFloats } from '../serve/serve-inputs';
import { percentile, warmUp } from '../serve/latency-sampler';

const root = process.cwd();
const modelsDir = join(root, 'layers/models/build/models');
const bundle = join(root, 'dist/functions/http/api-handler.mjs');
const COLD_MODELS = ['iris-classifier', 'mlp-medium'] as const;
const WARM_MODELS = ['iris-classifier', 'mlp-small', 'mlp-medium', 'mlp-large'] as const;
const BATCHES = [1, 32] as const;
const COLD_TARGET = 1.3;
const WARM_TARGET: Record<number, number> = { 1: 1.0, 32: 1.2 };

type ColdKind = 'kernel' | 'onnxruntime-web' | 'onnxruntime-node' | 'python-onnxruntime' | 'node -e 0';

function flags() {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' }, samples: { type: 'string', default: '300' }, 'warm-only': { type: 'boolean', default: false }, 'cold-only': { type: 'boolean', default: false } } });
  return { runs: Number(values.runs), samples: Number(values.samples), warmOnly: values['warm-only']!, coldOnly: values['cold-only']! };
}

function manifest(): ModelManifest {
  return JSON.parse(readFileSync(join(modelsDir, 'manifest.json'), 'utf8')) as ModelManifest;
}

/** An API Gateway v2 infer event with one seeded row for `model`. */
function eventFor(entry: ManifestModel): string {
  const template = JSON.parse(readFileSync(join(root, 'events/http/infer-json.json'), 'utf8')) as Record<string, any>;
  const width = entry.inputs[0]!.shape[1]!;
  const body = JSON.stringify({ inputs: [{ name: 'input', shape: [1, width], datatype: 'FP32', data: Array.from(seededFloats(width)) }] });
  const path = `/v2/models/${entry.name}/infer`;
  return JSON.stringify({
    ...template, rawPath: path, pathParameters: { model: entry.name }, body, isBase64Encoded: false,
    headers: { ...template.headers, 'content-length': String(Buffer.byteLength(body)) },
    requestContext: { ...template.requestContext, http: { ...template.requestContext.http, path } },
  });
}

/** The Lambda runtime's environment for one cold start of the handler with `model` on `kind`. */
function coldEnv(model: string, kind: ColdKind): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH, LANG: 'C.UTF-8', TZ: ':UTC', AWS_REGION: 'eu-west-1', AWS_LAMBDA_FUNCTION_NAME: 'cold-bench', AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1769', AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand', POWERTOOLS_SERVICE_NAME: 'hotpath', POWERTOOLS_METRICS_NAMESPACE: 'hotpath',
    POWERTOOLS_TRACE_ENABLED: 'false', NODE_OPTIONS: '--enable-source-maps',
    HOTPATH_MODELS_DIR: modelsDir, HOTPATH_ORT_WEB_DIR: join(root, 'layers/onnxruntime-web/build/nodejs/node_modules/onnxruntime-web'),
    HOTPATH_MODELS: model, HOTPATH_WASM_THREADS: '1', HOTPATH_BACKEND: kind === 'onnxruntime-node' ? 'native' : 'wasm',
    ...(kind === 'onnxruntime-web' ? { HOTPATH_WASM_MODELS: model } : {}),
  };
}

const ORT_PYTHON_VERSION = '1.30.0';
const NUMPY_VERSION = '2.4.6';
const venvDir = join(root, 'bench/.venv-onnxruntime');
const venvPython = join(venvDir, 'bin/python');
const VENV_CHECK = `import onnxruntime, numpy; assert onnxruntime.__version__ == "${ORT_PYTHON_VERSION}", onnxruntime.__version__`;

/**
 * The Python interpreter with onnxruntime 1.30.0 and numpy: bench/.venv-onnxruntime, made on the
 * first run (`python3 -m venv`, then pip from the machine's configured index and find-links) and
 * reused while it imports the right onnxruntime. `reason` says plainly why there is none.
 */
function pythonWithOnnxruntime(): { python: string } | { reason: string } {
  const check = () => spawnSync(venvPython, ['-c', VENV_CHECK], { encoding: 'utf8' });
  if (existsSync(venvPython) && check().status === 0) return { python: venvPython };
  console.log(`bench:feed-forward: making ${venvDir} (python3 -m venv; pip install onnxruntime==${ORT_PYTHON_VERSION} numpy==${NUMPY_VERSION}), once`);
  rmSync(venvDir, { recursive: true, force: true });
  const venv = spawnSync('python3', ['-m', 'venv', venvDir], { encoding: 'utf8' });
  if (venv.error || venv.status !== 0) return { reason: `\`python3 -m venv\` failed: ${(venv.error?.message ?? venv.stderr).trim().split('\n').pop()}` };
  // Few retries and a short timeout: an unreachable default index costs seconds, not minutes.
  const pip = spawnSync(venvPython, ['-m', 'pip', 'install', '--quiet', '--retries', '1', '--timeout', '10', `onnxruntime==${ORT_PYTHON_VERSION}`, `numpy==${NUMPY_VERSION}`], { encoding: 'utf8' });
  const verified = pip.status === 0 ? check() : undefined;
  if (pip.status !== 0 || verified?.status !== 0) {
    const tail = ((pip.status !== 0 ? pip.stderr : verified?.stderr) ?? '').trim().split('\n').filter((l) => !l.startsWith('WARNING: Retrying')).pop();
    rmSync(venvDir, { recursive: true, force: true });
    return { reason: `pip could not install onnxruntime==${ORT_PYTHON_VERSION} numpy==${NUMPY_VERSION} into a venv (${tail ?? `exit ${pip.status}`})` };
  }
  return { python: venvPython };
}

/** Python: import onnxruntime, create the session (1 thread), answer one row: the same work as the handler's. */
const PYTHON_CHILD = [
  'import sys, time, json', 'import numpy as np', 'import onnxruntime as ort',
  'o = ort.SessionOptions(); o.intra_op_num_threads = 1; o.inter_op_num_threads = 1',
  's = ort.InferenceSession(sys.argv[1], o, providers=["CPUExecutionProvider"])',
  'x = np.random.default_rng(0).random((1, int(sys.argv[2])), dtype=np.float32)',
  's.run(None, {"input": x})', 'print("@@cold " + json.dumps({"responded": time.time() * 1000}), flush=True)',
].join('\n');

/** ms from spawn to the child's first answer (its own clock stamp), or undefined on a failure (printed). */
async function coldSample(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<number | undefined> {
  const spawnedAt = performance.timeOrigin + performance.now();
  const child = spawn(command, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString('utf8'); });
  child.stderr.on('data', (c: Buffer) => { stderr = (stderr + c.toString('utf8')).slice(-4000); });
  const code = await new Promise<number | null>((done) => child.on('close', done));
  const line = stdout.split('\n').find((l) => l.startsWith('@@cold '));
  if (code !== 0 || !line) {
    console.error(`  ${args.join(' ')}: failed (exit ${code})\n${stderr}`);
    return undefined;
  }
  const record = JSON.parse(line.slice(7)) as { origin?: number; responded: number };
  return (record.origin ?? 0) + record.responded - spawnedAt;
}

interface ColdRow { model: string; kind: ColdKind; samples: number[] }

async function runCold(runs: number, python: string | undefined): Promise<ColdRow[]> {
  const entries = manifest();
  const dir = mkdtempSync(join(tmpdir(), 'hotpath-ff-cold-'));
  const rows: ColdRow[] = [{ model: '-', kind: 'node -e 0', samples: [] }];
  const kinds: ColdKind[] = ['kernel', 'onnxruntime-web', 'onnxruntime-node', ...(python ? ['python-onnxruntime' as const] : [])];
  for (const model of COLD_MODELS) for (const kind of kinds) rows.push({ model, kind, samples: [] });
  try {
    const events = new Map(COLD_MODELS.map((model) => {
      const file = join(dir, `${model}.json`);
      writeFileSync(file, eventFor(entries.models.find((m) => m.name === model)!));
      return [model, file];
    }));
    for (let round = 0; round < runs; round++) {
      // Rotated: each round starts one row later, so no row always follows the same one.
      for (let j = 0; j < rows.length; j++) {
        const row = rows[(round + j) % rows.length]!;
        const entry = entries.models.find((m) => m.name === row.model);
        const sample = row.kind === 'node -e 0'
          ? await coldSample(process.execPath, ['-e', 'process.stdout.write("@@cold "+JSON.stringify({origin:performance.timeOrigin,responded:performance.now()})+"\\n")'], { PATH: process.env.PATH })
          : row.kind === 'python-onnxruntime'
            ? await coldSample(python!, ['-c', PYTHON_CHILD, join(modelsDir, entry!.file), String(entry!.inputs[0]!.shape[1])], { PATH: process.env.PATH, OMP_NUM_THREADS: '1' })
            : await coldSample(process.execPath, [join(root, 'bench/cold/cold-child.mjs'), bundle, events.get(row.model as (typeof COLD_MODELS)[number])!], coldEnv(row.model, row.kind));
        if (sample !== undefined) row.samples.push(sample);
      }
      process.stdout.write(`\r  cold round ${round + 1}/${runs}`);
    }
    process.stdout.write('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

type WarmBackend = 'kernel' | 'onnxruntime-web' | 'onnxruntime-node';
interface WarmRow { model: string; batch: number; p50: Record<WarmBackend, number>; samples: number }

async function load(backend: InferenceBackend, entry: ManifestModel, file: string, optimized?: ManifestModel['optimized']): Promise<BackendSession> {
  const path = join(modelsDir, file);
  return backend.load({ name: entry.name, version: entry.version, path, bytes: new Uint8Array(readFileSync(path)), inputs: entry.inputs, outputs: entry.outputs, ...(optimized ? { optimized } : {}) });
}

async function runWarm(samples: number): Promise<WarmRow[]> {
  const entries = manifest();
  // onnxruntime-node first: the two onnxruntimes share onnxruntime-common's backend registry.
  const native = new NativeBackend({ intraOpThreads: 1 });
  const web = new WasmBackend({ ortWebDir: undefined, numThreads: 1 });
  const kernel = new KernelBackend(undefined, { threads: 1 });
  const rows: WarmRow[] = [];
  for (const model of WARM_MODELS) {
    const entry = entries.models.find((m) => m.name === model)!;
    if (!entry.kernel) throw new Error(`model '${model}' has no kernel plan in the manifest (${entry.kernelRefused ?? 'rebuild the layer'}); nothing to compare`);
    const sessions: Record<WarmBackend, BackendSession> = {
      'onnxruntime-node': await load(native, entry, entry.file),
      'onnxruntime-web': await load(web, entry, entry.file, entry.optimized),
      kernel: await load(kernel, entry, entry.kernel.file),
    };
    web.startupDone();
    for (const batch of BATCHES) {
      const inputs = [{ name: 'input', datatype: 'FP32' as const, shape: [batch, entry.inputs[0]!.shape[1]!], data: seededFloats(batch * entry.inputs[0]!.shape[1]!, batch) }];
      const order = Object.keys(sessions) as WarmBackend[];
      // TurboFan tier-up of onnxruntime-web's WASM and of the kernels: at least 1 s each (bench/serve's bounds).
      for (const name of order) await warmUp(() => sessions[name].run(inputs), { count: 200, minMs: 1000, maxMs: 5000 });
      const times: Record<WarmBackend, number[]> = { kernel: [], 'onnxruntime-web': [], 'onnxruntime-node': [] };
      const started = performance.now();
      for (let i = 0; i < samples && performance.now() - started < 20_000; i++) {
        for (let j = 0; j < order.length; j++) {
          const name = order[(i + j) % order.length]!;
          const t0 = performance.now();
          await sessions[name].run(inputs);
          times[name].push(performance.now() - t0);
        }
      }
      const p50 = Object.fromEntries(order.map((name) => [name, percentile(times[name], 0.5)])) as Record<WarmBackend, number>;
      rows.push({ model, batch, p50, samples: times.kernel.length });
      console.log(`  ${model} b${batch}: kernel ${p50.kernel.toFixed(4)} ms, web ${p50['onnxruntime-web'].toFixed(4)} ms, node ${p50['onnxruntime-node'].toFixed(4)} ms (${times.kernel.length} each)`);
    }
    for (const session of Object.values(sessions)) await session.dispose();
  }
  return rows;
}

function median(values: readonly number[]): number {
  return percentile(values, 0.5);
}

function coldResults(rows: readonly ColdRow[], pythonMissing: string | undefined): BenchResult[] {
  const results: BenchResult[] = [];
  for (const model of COLD_MODELS) {
    const of = (kind: ColdKind) => rows.find((r) => r.model === model && r.kind === kind);
    const kernel = median(of('kernel')!.samples);
    results.push(compareWithAnchor({ case: `cold/${model}/kernel`, metric: 'median_ms', value: kernel, lower_is_better: true }, 'onnxruntime-node 1.30 (HOTPATH_BACKEND=native), same run', median(of('onnxruntime-node')!.samples), COLD_TARGET));
    results.push(compareWithAnchor({ case: `cold/${model}/kernel-vs-web`, metric: 'median_ms', value: kernel, lower_is_better: true }, 'onnxruntime-web 1.30 (HOTPATH_WASM_MODELS), same run', median(of('onnxruntime-web')!.samples)));
    const python = of('python-onnxruntime');
    results.push(python && python.samples.length > 0
      ? compareWithAnchor({ case: `cold/${model}/kernel-vs-python`, metric: 'median_ms', value: kernel, lower_is_better: true }, `python3 + onnxruntime ${ORT_PYTHON_VERSION} (1 intra-op thread), same run`, median(python.samples), 1.0)
      : { case: `cold/${model}/kernel-vs-python`, metric: 'median_ms', value: kernel, lower_is_better: true, note: `python + onnxruntime not measured: ${pythonMissing ?? 'every sample failed'}` });
  }
  return results;
}

function warmResults(rows: readonly WarmRow[]): BenchResult[] {
  return rows.flatMap((row) => [
    compareWithAnchor({ case: `warm/${row.model}/b${row.batch}`, metric: 'p50_ms', value: row.p50.kernel, lower_is_better: true }, 'onnxruntime-web 1.30, 1 thread, same run', row.p50['onnxruntime-web'], WARM_TARGET[row.batch]),
    compareWithAnchor({ case: `warm/${row.model}/b${row.batch}/vs-native`, metric: 'p50_ms', value: row.p50.kernel, lower_is_better: true }, 'onnxruntime-node 1.30, 1 thread, same run', row.p50['onnxruntime-node']),
  ]);
}

function printSection(cold: readonly ColdRow[], warm: readonly WarmRow[], runs: number, samples: number): void {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown';
  const lines = [
    '## Feed-forward graphs on kernels', '',
    `\`flock /tmp/hotpath-bench.lock npm run bench:feed-forward -- --runs ${runs} --samples ${samples}\`, ${new Date().toISOString().slice(0, 16)} UTC, ${cpus().length} cores (nproc), ${cpu}, Node ${process.versions.node}; one thread everywhere.`, '',
  ];
  if (cold.length > 0) {
    lines.push(`Cold start, spawn to first answer of the built handler bundle, median of ${runs} interleaved, rotated rounds:`, '', '| model | kernel plan | onnxruntime-web | onnxruntime-node | python + onnxruntime | kernel / node | kernel / python |', '| --- | --- | --- | --- | --- | --- | --- |');
    for (const model of COLD_MODELS) {
      const m = (kind: ColdKind) => { const r = cold.find((x) => x.model === model && x.kind === kind); return r && r.samples.length > 0 ? median(r.samples) : undefined; };
      const cell = (v: number | undefined) => (v === undefined ? 'not measured' : `${v.toFixed(0)} ms`);
      lines.push(`| ${model} | ${cell(m('kernel'))} | ${cell(m('onnxruntime-web'))} | ${cell(m('onnxruntime-node'))} | ${cell(m('python-onnxruntime'))} | ${(m('kernel')! / m('onnxruntime-node')!).toFixed(2)}× | ${m('python-onnxruntime') === undefined ? 'not measured' : `${(m('kernel')! / m('python-onnxruntime')!).toFixed(2)}×`} |`);
    }
    lines.push('', `\`node -e 0\`: ${median(cold[0]!.samples).toFixed(0)} ms.`, '');
  }
  if (warm.length > 0) {
    lines.push('Warm `session.run` p50 (ms), calls rotated over the three backends:', '', '| model | batch | kernel plan | onnxruntime-web | onnxruntime-node | kernel / web | kernel / node |', '| --- | --- | --- | --- | --- | --- | --- |');
    for (const row of warm) {
      lines.push(`| ${row.model} | ${row.batch} | ${row.p50.kernel.toFixed(4)} | ${row.p50['onnxruntime-web'].toFixed(4)} | ${row.p50['onnxruntime-node'].toFixed(4)} | ${(row.p50.kernel / row.p50['onnxruntime-web']).toFixed(2)}× | ${(row.p50.kernel / row.p50['onnxruntime-node']).toFixed(2)}× |`);
    }
  }
  console.log(`\n${lines.join('\n')}\n`);
}

async function main(): Promise<void> {
  const { runs, samples, warmOnly, coldOnly } = flags();
  if (!warmOnly) {
    const built = spawnSync(process.execPath, [resolve('node_modules/tsx/dist/cli.mjs'), 'scripts/build-functions.ts'], { stdio: 'inherit' });
    if (built.status !== 0) throw new Error('build:functions failed');
  }
  const found = warmOnly ? undefined : pythonWithOnnxruntime();
  const python = found && 'python' in found ? found.python : undefined;
  const pythonMissing = found && 'reason' in found ? found.reason : undefined;
  if (!warmOnly) console.log(`bench:feed-forward: cold starts (${python ? `with python + onnxruntime ${ORT_PYTHON_VERSION} from ${python}` : `without python + onnxruntime: ${pythonMissing}`})`);
  const cold = warmOnly ? [] : await runCold(runs, python);
  console.log('bench:feed-forward: warm session.run');
  const warm = coldOnly ? [] : await runWarm(samples);
  const path = writeBenchResults('feed-forward', [...(cold.length ? coldResults(cold, pythonMissing) : []), ...warmResults(warm)]);
  console.log(`bench:feed-forward: ${path} (${describeMachine()})`);
  printSection(cold, warm, runs, samples);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack ?? error.message : error);
  process.exit(1);
});
