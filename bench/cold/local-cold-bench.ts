import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backendEnv, expectedRoute, type ColdConfig } from './cold-configs';
import type { BundleVariant } from './cold-bundles';
import type { SampleOutcome } from './cold-stats';
import type { S3ColdSetup } from './s3-cold-setup';

const SAMPLE_TIMEOUT_MS = 60_000;
const STDERR_TAIL = 4000;

/** Phases in the order a cold start goes through them; the chart stacks them in this order. */
export const LOCAL_PHASES = ['node start', 'module import', 'runtime init', 'read + verify', 'session create', 'warm-up', 'first response'] as const;
/** With `s3` configurations, out of `read + verify`: loading the AWS SDK and creating the client, then the download (GetObject to the last byte on disk, hashed on the way). */
export const S3_PHASES = ['node start', 'module import', 'runtime init', 'S3 client', 'S3 download', 'read + verify', 'session create', 'warm-up', 'first response'] as const;

interface ChildRecord {
  origin: number;
  runnerStart: number;
  loaded: number;
  responded: number;
  status: number;
  body?: string;
  maxRssKb: number;
  logs: Array<Record<string, unknown>>;
}

export interface LocalBenchContext {
  readonly root: string;
  readonly bundles: Partial<Record<BundleVariant, string>>;
  readonly ortWebDir: string;
  readonly modelsDir: string;
  /** The local S3 server and manifest of the `s3` configurations, when there are any. */
  readonly s3?: S3ColdSetup;
}

/** The environment the Lambda Node.js runtime gives a function, plus the configuration's HOTPATH_* variables. */
function childEnv(config: ColdConfig, context: LocalBenchContext): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    LANG: 'C.UTF-8',
    TZ: ':UTC',
    AWS_REGION: 'eu-west-1',
    AWS_LAMBDA_FUNCTION_NAME: 'cold-bench',
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1769',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    POWERTOOLS_SERVICE_NAME: 'hotpath',
    POWERTOOLS_METRICS_NAMESPACE: 'hotpath',
    POWERTOOLS_LOG_LEVEL: 'INFO',
    // No X-Ray daemon off Lambda; on Lambda the tracer only sends UDP datagrams.
    POWERTOOLS_TRACE_ENABLED: 'false',
    HOTPATH_MODELS_DIR: config.modelsDir ?? context.modelsDir,
    HOTPATH_ORT_WEB_DIR: context.ortWebDir,
  };
  if (config.sourceMaps) env.NODE_OPTIONS = '--enable-source-maps';
  if (config.kind === 'api') {
    Object.assign(env, backendEnv(config));
    env.HOTPATH_WASM_THREADS = String(config.threads);
    env.HOTPATH_MODELS = config.models;
    env.HOTPATH_INIT = config.init;
  }
  return { ...env, ...context.s3?.envFor(config) };
}

/** An API Gateway v2 infer event for `model` (events/http/infer-json.json with the model's inputs as zeros). */
export function inferEventFor(root: string, modelsDir: string, model: string): unknown {
  const template = JSON.parse(readFileSync(join(root, 'events/http/infer-json.json'), 'utf8')) as Record<string, any>;
  const manifest = JSON.parse(readFileSync(join(modelsDir, 'manifest.json'), 'utf8')) as { models: Array<Record<string, any>> };
  const entry = manifest.models.find((m) => m.name === model);
  if (!entry) throw new Error(`model '${model}' is not in ${modelsDir}/manifest.json`);
  const inputs = (entry.inputs as Array<{ name: string; datatype: string; shape: number[] }>).map((input) => {
    const shape: number[] = entry.warmupShapes?.[input.name] ?? input.shape.map((d, i) => (d === -1 ? (i === 0 ? 1 : 32) : d));
    const count = shape.reduce((a, b) => a * b, 1);
    return { name: input.name, shape, datatype: input.datatype, data: new Array(count).fill(entry.warmupFill?.[input.name] ?? 0) };
  });
  const path = `/v2/models/${model}/infer`;
  const body = JSON.stringify({ id: 'cold-bench', inputs });
  return {
    ...template,
    rawPath: path,
    pathParameters: { model },
    headers: { ...template.headers, 'content-length': String(Buffer.byteLength(body)) },
    requestContext: { ...template.requestContext, http: { ...template.requestContext.http, path } },
    body,
    isBase64Encoded: false,
  };
}

function firstModel(config: ColdConfig, modelsDir: string): string {
  if (config.models && config.models !== 'default') return config.models.split(',')[0]!;
  const manifest = JSON.parse(readFileSync(join(modelsDir, 'manifest.json'), 'utf8')) as { models: Array<{ name: string; serveByDefault?: boolean }> };
  return manifest.models.find((m) => m.serveByDefault)!.name;
}

/** The command line of one sample: `node -e` for the first baseline, else the child runner on a handler module. */
function commandFor(config: ColdConfig, context: LocalBenchContext, eventFile: string): string[] {
  if (config.kind === 'node-e0') {
    // `node -e 0` plus the one statement that reports when it got there.
    return ['-e', 'process.stdout.write("@@cold "+JSON.stringify({origin:performance.timeOrigin,runnerStart:performance.now(),loaded:performance.now(),responded:performance.now(),status:200,maxRssKb:process.resourceUsage().maxRSS,logs:[]})+"\\n")'];
  }
  const runner = join(context.root, 'bench/cold/cold-child.mjs');
  const handler = config.kind === 'hello' ? join(context.root, 'bench/cold/hello-handler.mjs') : config.bundlePath ?? context.bundles[config.bundle!];
  if (!handler) throw new Error(`no ${config.bundle} bundle was built`);
  return [runner, handler, eventFile];
}

/** Creates the event files once per configuration; returns them and a cleanup. */
export function prepareEvents(configs: readonly ColdConfig[], context: LocalBenchContext): { files: Map<string, string>; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'hotpath-cold-'));
  const files = new Map<string, string>();
  for (const config of configs) {
    const file = join(dir, `${files.size}.json`);
    const event = config.kind === 'api' ? inferEventFor(context.root, context.modelsDir, firstModel(config, context.modelsDir)) : { rawPath: '/' };
    writeFileSync(file, JSON.stringify(event));
    files.set(config.id, file);
  }
  return { files, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Spawns one fresh process for `config` and times its cold start; a crash or an error answer is a failed sample. */
export async function runColdSample(config: ColdConfig, context: LocalBenchContext, eventFile: string): Promise<SampleOutcome> {
  const args = commandFor(config, context, eventFile);
  context.s3?.beforeSample(config);
  const spawnedAt = performance.timeOrigin + performance.now();
  const child = spawn(process.execPath, args, { cwd: context.root, env: childEnv(config, context), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString('utf8'); });
  child.stderr.on('data', (c: Buffer) => { stderr = (stderr + c.toString('utf8')).slice(-STDERR_TAIL); });
  const timer = setTimeout(() => child.kill('SIGKILL'), SAMPLE_TIMEOUT_MS);
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('error', (error) => { stderr += String(error); resolve({ code: -1, signal: null }); });
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  clearTimeout(timer);
  const line = stdout.split('\n').find((l) => l.startsWith('@@cold '));
  const record = line ? (JSON.parse(line.slice(7)) as ChildRecord) : undefined;
  if (exit.code !== 0 || !record) {
    const reason = exit.signal ? `killed by ${exit.signal}${exit.signal === 'SIGKILL' ? ` (timeout ${SAMPLE_TIMEOUT_MS} ms?)` : ''}`
      : record ? `answered ${record.status}: ${record.body ?? ''}` : `exited with code ${exit.code} before answering`;
    return { ok: false, reason, stderr };
  }
  const s3Source = record.logs.find((l) => typeof l.s3 === 'string')?.s3;
  const expected = config.s3 === undefined ? undefined : config.s3 === 'download' ? 'downloaded' : 'reused';
  if (s3Source !== expected) return { ok: false, reason: `the model's artifact was ${s3Source ?? 'read from the layer'}, expected ${expected ?? 'the layer'}`, stderr };
  const route = record.logs.find((l) => l.model === firstModel(config, config.modelsDir ?? context.modelsDir) && typeof l.route === 'string' && typeof l.sessionMs === 'number')?.route;
  if (expectedRoute(config) !== undefined && route !== expectedRoute(config)) return { ok: false, reason: `the answering model was served on ${route ?? 'no route its ready line names'}, expected ${expectedRoute(config)} (${config.backend})`, stderr };
  return { ok: true, ...phasesOf(config, record, spawnedAt) };
}

/**
 * Splits spawn → first response into phases. The handler's own log lines give INIT's time
 * (`init done`, initMs) and each model's read, verify, session and warm-up times; the rest
 * comes from the runner's timestamps. Under lazy init the model phases happen inside the
 * first invocation, so they are taken out of `first response`.
 */
function phasesOf(config: ColdConfig, record: ChildRecord, spawnedAt: number): { phases: Record<string, number>; totalMs: number; peakRssMb: number } {
  const runnerAt = record.origin + record.runnerStart;
  const models = record.logs.filter((l) => typeof l.sessionMs === 'number');
  const sum = (key: string) => models.reduce((acc, l) => acc + Number(l[key] ?? 0), 0);
  const s3Client = sum('s3ClientMs');
  const s3Download = sum('s3DownloadMs');
  const readVerify = sum('readMs') + sum('verifyMs') - s3Client - s3Download;
  const session = sum('sessionMs');
  const warmup = sum('warmupMs');
  const modelTotal = sum('loadMs');
  const initLog = record.logs.find((l) => l.message === 'init done');
  const initMs = typeof initLog?.initMs === 'number' ? initLog.initMs : 0;
  const importAll = record.loaded - record.runnerStart;
  const invoke = record.responded - record.loaded;
  const lazy = config.init === 'lazy';
  const phases: Record<string, number> = {
    'node start': runnerAt - spawnedAt,
    'module import': Math.max(0, importAll - initMs),
    'runtime init': Math.max(0, initMs - (lazy ? 0 : modelTotal)),
    ...(config.s3 !== undefined ? { 'S3 client': s3Client, 'S3 download': s3Download } : {}),
    'read + verify': readVerify,
    'session create': session,
    'warm-up': warmup,
    'first response': Math.max(0, invoke - (lazy ? modelTotal : 0)),
  };
  return { phases, totalMs: record.origin + record.responded - spawnedAt, peakRssMb: record.maxRssKb / 1024 };
}
