import { existsSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError } from '../errors/hotpath-error';
import { engineSupportsRelaxedSimd } from '../../kernels/runtime/load-kernel-module';
import { DEFAULT_TASK_PRICE } from '../serving/route-cost';

export type OnnxBackendName = 'wasm' | 'native';

/** Everything the serving path reads from the environment, typed and validated once at INIT. */
export interface ServingConfig {
  readonly modelsDir: string;
  /**
   * A Triton-style model repository (HOTPATH_MODEL_REPOSITORY) that `npm start` builds into
   * `modelsDir` before it serves (scripts/start-server.ts), and `npm run build:layers` builds the
   * models layer from. Never on Lambda, where the models come from the built layer.
   */
  readonly modelRepository: string | undefined;
  /** `default`, `*`, or explicit model names. */
  readonly models: 'default' | '*' | readonly string[];
  readonly onnxBackend: OnnxBackendName;
  /**
   * Models onnxruntime-web serves although the build gave them a kernel plan (manifest `kernel`):
   * HOTPATH_WASM_MODELS, `*` for all or model names; default none. Read only with HOTPATH_BACKEND=wasm.
   */
  readonly wasmModels: '*' | readonly string[];
  readonly wasmThreads: number;
  /** onnxruntime-web package folder, or undefined to resolve it from node_modules. */
  readonly ortWebDir: string | undefined;
  /** Folder of the kernel `.wasm` files (kernels/build in the repo; beside the bundle on Lambda). */
  readonly kernelsDir: string;
  /** SIMD level of the kernel builds: `auto` (relaxed SIMD when the engine supports it, as Node 22 does), `simd` or `relaxed-simd`. */
  readonly kernelSimd: KernelSimdSetting;
  readonly maxBodyBytes: number;
  /** Largest body after Content-Encoding is undone; inflation stops there (413), so a zip bomb costs at most this. */
  readonly maxDecompressedBytes: number;
  /** OIP server only: address and port it listens on (`npm start -- --host/--port` override them). */
  readonly host: string;
  readonly port: number;
  /** OIP server only: requests admitted at once (queued or running); past it 503 with Retry-After. */
  readonly maxInflight: number;
  /** OIP server only: a request not answered within this many ms gets 504 (Triton's parameters.timeout can only shorten it). */
  readonly requestTimeoutMs: number;
  /** OIP server only: on SIGTERM, how long requests in flight may take to finish before the server exits anyway. */
  readonly drainMs: number;
  /** The remote route (the GPU task, or any Open Inference Protocol server such as Triton); undefined when HOTPATH_REMOTE_URL is unset: every request runs locally. */
  readonly remote: RemoteRoutingConfig | undefined;
  /** What each route costs and the latency it must meet (lib/serving/route-cost.ts); read only by the remote route's router. */
  readonly routeCost: RouteCostSettings;
  readonly apiKey: string | undefined;
  readonly warmup: boolean;
  /** `eager`: load and warm the selected models during INIT; `lazy`: on the first request (which pays for it). */
  readonly initStrategy: InitStrategy;
  /**
   * Native backend only: onnxruntime execution providers to try, in order (HOTPATH_PROVIDERS,
   * default `cuda,webgpu,cpu`). The first one whose self-test every selected model passes serves
   * (lib/backends/execution-provider-selftest.ts).
   */
  readonly providers: readonly ExecutionProviderName[];
  /** How close a provider's outputs must be to the CPU provider's to pass its self-test. */
  readonly providerTolerance: ProviderTolerance;
  /** OIP server only: queue and batch the requests of models whose manifest has `dynamicBatching` (HOTPATH_DYNAMIC_BATCHING, default true). */
  readonly dynamicBatching: boolean;
  /** Where models whose manifest entry has `s3Prefix` are downloaded at INIT, and how (lib/models/s3-model-artifacts.ts). */
  readonly s3Models: S3ModelsConfig;
}

/** HOTPATH_S3_MODELS_*: the artifacts the manifest places in S3 (`s3Prefix`), fetched at INIT. */
export interface S3ModelsConfig {
  /** HOTPATH_S3_MODELS_CACHE_DIR, default `<os tmpdir>/hotpath-s3-models` (Lambda's /tmp, kept across INITs of one sandbox). */
  readonly cacheDir: string;
  /** HOTPATH_S3_MODELS_TIMEOUT_MS: one artifact's download, request to last byte, default 60,000 ms. */
  readonly timeoutMs: number;
  /** HOTPATH_S3_ENDPOINT: an S3-compatible server (path-style requests) instead of AWS S3, e.g. a local one in tests. */
  readonly endpoint: string | undefined;
  /**
   * Build only (`npm run build:layers`, `npm run package`; `--s3-models`/`--s3-prefix` win):
   * HOTPATH_S3_MODELS, the models whose artifacts the layer build moves to S3, and
   * HOTPATH_S3_PREFIX, the s3://bucket/prefix/ they are uploaded under. Not read at INIT.
   */
  readonly buildMoves: readonly string[];
  readonly buildPrefix: string | undefined;
}

/** Execution providers onnxruntime-node can be asked for (the npm package bundles cpu and, on linux x64, webgpu; cuda and tensorrt libraries install separately). */
export const EXECUTION_PROVIDER_NAMES = ['cuda', 'tensorrt', 'webgpu', 'cpu'] as const;
export type ExecutionProviderName = (typeof EXECUTION_PROVIDER_NAMES)[number];

/**
 * A float output passes when every element is within `atol + rtol * max|cpu|` of the CPU
 * provider's (the output's own scale, so TF32 or reordered sums on a GPU pass and a wrong kernel
 * does not); integer and BOOL outputs must be equal.
 */
export interface ProviderTolerance {
  readonly atol: number;
  readonly rtol: number;
}

export type InitStrategy = 'eager' | 'lazy';

/** How requests reach the remote route and when they stop trying (lib/serving/remote-routing-router.ts). */
export interface RemoteRoutingConfig {
  /** Base URL of the Open Inference Protocol server, no trailing slash (`http://gpu-task.internal:8000`). */
  readonly url: string;
  /** `binary`: tensors in Triton's binary extension (default); `json`: plain JSON. */
  readonly encoding: 'binary' | 'json';
  /** gzip request bodies of 1 KB and more and accept gzip answers. */
  readonly gzip: boolean;
  /** Sent as `x-api-key` when the remote server requires one. */
  readonly apiKey: string | undefined;
  /** Longest one remote call may take (the request's deadline can only shorten it); past it the call counts as a failure and the request falls back. */
  readonly timeoutMs: number;
  /** Consecutive remote failures that open the circuit. */
  readonly breakerFailures: number;
  /** How long the circuit stays open before one request probes the remote again (half-open). */
  readonly breakerHalfOpenMs: number;
  /** Most rows a request may have to run locally while the remote route is unavailable; undefined: the model's max batch size. */
  readonly fallbackMaxBatch: number | undefined;
  /** Derive the remote threshold of models without manifest `routing.preferRemoteAboveBatch` from costs measured at start-up. */
  readonly calibrate: boolean;
}

/** Lambda's two architectures, as its pricing names them. */
export type LambdaArchitecture = 'arm64' | 'x86_64';

/** The prices and the latency budget the remote route's threshold is chosen from (lib/serving/route-cost.ts). */
export interface RouteCostSettings {
  /** The function's memory (AWS_LAMBDA_FUNCTION_MEMORY_SIZE on Lambda; off Lambda serverless.yml's 1,769 MB). */
  readonly memoryMb: number;
  /** The architecture this instance runs on (process.arch): the one whose price chooses the route. */
  readonly architecture: LambdaArchitecture;
  /** USD an hour of one GPU task (HOTPATH_REMOTE_TASK_USD_PER_HOUR; default DEFAULT_TASK_PRICE, a g5.xlarge on-demand price). */
  readonly taskUsdPerHour: number;
  /**
   * ms a route may take for a batch (HOTPATH_REMOTE_LATENCY_BUDGET_MS): the cheaper route within
   * it serves; undefined (the default): the faster route serves, the latency crossover.
   */
  readonly latencyBudgetMs: number | undefined;
}

export type KernelSimdSetting = 'auto' | 'simd' | 'relaxed-simd';

type Env = Readonly<Record<string, string | undefined>>;

const LAMBDA_MODELS_DIR = '/opt/models';
const LAMBDA_ORT_WEB_DIR = '/opt/nodejs/node_modules/onnxruntime-web';
/**
 * Lambda gives one vCPU's worth of CPU time per 1,769 MB (6 vCPUs visible at 10,240 MB, but
 * only 5.79 vCPUs of time). Threads default to the whole vCPUs of time the memory buys:
 * an extra thread on a fractional vCPU only contends with the others.
 */
const MB_PER_VCPU = 1769;
const MAX_LAMBDA_VCPUS = 6;

/**
 * Reads the HOTPATH_* variables (documented in README.md, Configuration). Order: explicit
 * override, then environment variable, then default. A bad value throws a ConfigError that
 * names the variable, which fails the cold start loudly instead of serving wrongly.
 *
 * @example
 * const config = loadServingConfig(process.env);
 */
export function loadServingConfig(env: Env = process.env, overrides: Partial<ServingConfig> = {}): ServingConfig {
  return {
    modelsDir: overrides.modelsDir ?? readModelsDir(env),
    modelRepository: overrides.modelRepository ?? readModelRepository(env),
    models: overrides.models ?? readModelSelection(env),
    onnxBackend: overrides.onnxBackend ?? readEnum(env, 'HOTPATH_BACKEND', ['wasm', 'native'], 'wasm'),
    wasmModels: overrides.wasmModels ?? readWasmModels(env),
    wasmThreads: overrides.wasmThreads ?? readInteger(env, 'HOTPATH_WASM_THREADS', 1, 64, defaultWasmThreads(env)),
    ortWebDir: overrides.ortWebDir ?? readOrtWebDir(env),
    kernelsDir: overrides.kernelsDir ?? readKernelsDir(env),
    kernelSimd: overrides.kernelSimd ?? readKernelSimd(env),
    maxBodyBytes: overrides.maxBodyBytes ?? readInteger(env, 'HOTPATH_MAX_BODY_BYTES', 1024, 256 * 1024 * 1024, 6 * 1024 * 1024),
    maxDecompressedBytes: overrides.maxDecompressedBytes ?? readInteger(env, 'HOTPATH_MAX_DECOMPRESSED_BYTES', 1024, 1024 * 1024 * 1024, 32 * 1024 * 1024),
    host: overrides.host ?? (nonEmpty(env.HOTPATH_HOST) ? env.HOTPATH_HOST.trim() : '127.0.0.1'),
    port: overrides.port ?? readInteger(env, 'HOTPATH_PORT', 0, 65535, 3000),
    maxInflight: overrides.maxInflight ?? readInteger(env, 'HOTPATH_MAX_INFLIGHT', 1, 100_000, 256),
    requestTimeoutMs: overrides.requestTimeoutMs ?? readInteger(env, 'HOTPATH_REQUEST_TIMEOUT_MS', 1, 3_600_000, 30_000),
    drainMs: overrides.drainMs ?? readInteger(env, 'HOTPATH_DRAIN_MS', 0, 600_000, 10_000),
    remote: 'remote' in overrides ? overrides.remote : readRemoteRouting(env),
    routeCost: overrides.routeCost ?? readRouteCost(env),
    apiKey: overrides.apiKey ?? (nonEmpty(env.HOTPATH_API_KEY) ? env.HOTPATH_API_KEY : undefined),
    warmup: overrides.warmup ?? readBoolean(env, 'HOTPATH_WARMUP', true),
    initStrategy: overrides.initStrategy ?? readEnum(env, 'HOTPATH_INIT', ['eager', 'lazy'], 'eager'),
    providers: overrides.providers ?? readProviders(env),
    providerTolerance: overrides.providerTolerance ?? {
      atol: readNumber(env, 'HOTPATH_PROVIDER_ATOL', 0, 1, 1e-5),
      rtol: readNumber(env, 'HOTPATH_PROVIDER_RTOL', 0, 1, 1e-2),
    },
    dynamicBatching: overrides.dynamicBatching ?? readBoolean(env, 'HOTPATH_DYNAMIC_BATCHING', true),
    s3Models: overrides.s3Models ?? readS3Models(env),
  };
}

function readS3Models(env: Env): S3ModelsConfig {
  const endpoint = env.HOTPATH_S3_ENDPOINT?.trim();
  if (endpoint && !/^https?:\/\/[^/?#]+\/?$/.test(endpoint)) {
    throw new ConfigError(`HOTPATH_S3_ENDPOINT: '${endpoint}' is not an http:// or https:// server URL without a path, e.g. http://127.0.0.1:4568`);
  }
  return {
    cacheDir: nonEmpty(env.HOTPATH_S3_MODELS_CACHE_DIR) ? resolve(env.HOTPATH_S3_MODELS_CACHE_DIR) : join(tmpdir(), 'hotpath-s3-models'),
    timeoutMs: readInteger(env, 'HOTPATH_S3_MODELS_TIMEOUT_MS', 1, 900_000, 60_000),
    endpoint: endpoint ? endpoint.replace(/\/$/, '') : undefined,
    buildMoves: readS3BuildMoves(env),
    buildPrefix: nonEmpty(env.HOTPATH_S3_PREFIX) ? env.HOTPATH_S3_PREFIX.trim() : undefined,
  };
}

function readS3BuildMoves(env: Env): readonly string[] {
  const raw = env.HOTPATH_S3_MODELS?.trim();
  if (!raw) return [];
  const names = raw.split(',').map((n) => n.trim()).filter((n) => n.length > 0);
  if (names.length === 0 || names.some((n) => !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(n))) {
    throw new ConfigError(`HOTPATH_S3_MODELS: '${raw}' is not a comma-separated list of model names`);
  }
  if (!nonEmpty(env.HOTPATH_S3_PREFIX)) throw new ConfigError('HOTPATH_S3_MODELS needs HOTPATH_S3_PREFIX: the s3://bucket/prefix/ the artifacts are uploaded under');
  return names;
}

/** The vCPUs Lambda gives the configured memory size; off Lambda, the cores this process may use. */
/** HOTPATH_REMOTE_*: undefined unless HOTPATH_REMOTE_URL is set (the other variables are read only then). */
function readRemoteRouting(env: Env): RemoteRoutingConfig | undefined {
  if (!nonEmpty(env.HOTPATH_REMOTE_URL)) return undefined;
  return {
    url: readRemoteUrl(env.HOTPATH_REMOTE_URL.trim()),
    encoding: readEnum(env, 'HOTPATH_REMOTE_ENCODING', ['binary', 'json'], 'binary'),
    gzip: readBoolean(env, 'HOTPATH_REMOTE_GZIP', false),
    apiKey: nonEmpty(env.HOTPATH_REMOTE_API_KEY) ? env.HOTPATH_REMOTE_API_KEY : undefined,
    timeoutMs: readInteger(env, 'HOTPATH_REMOTE_TIMEOUT_MS', 1, 600_000, 5_000),
    breakerFailures: readInteger(env, 'HOTPATH_REMOTE_BREAKER_FAILURES', 1, 1_000, 5),
    breakerHalfOpenMs: readInteger(env, 'HOTPATH_REMOTE_BREAKER_HALF_OPEN_MS', 1, 3_600_000, 5_000),
    fallbackMaxBatch: nonEmpty(env.HOTPATH_REMOTE_FALLBACK_MAX_BATCH) ? readInteger(env, 'HOTPATH_REMOTE_FALLBACK_MAX_BATCH', 0, 2 ** 31 - 1, 0) : undefined,
    calibrate: readBoolean(env, 'HOTPATH_REMOTE_CALIBRATE', true),
  };
}

/** The function's memory where AWS_LAMBDA_FUNCTION_MEMORY_SIZE is unset (off Lambda): serverless.yml's memorySize. */
const DEFAULT_FUNCTION_MEMORY_MB = 1769;

/** Like the other HOTPATH_REMOTE_* variables, the task price and the budget are read only when HOTPATH_REMOTE_URL is set. */
function readRouteCost(env: Env): RouteCostSettings {
  const remote = nonEmpty(env.HOTPATH_REMOTE_URL);
  return {
    // Priced as at most Lambda's largest size, whatever an emulator reports.
    memoryMb: Math.min(10_240, lambdaMemoryMb(env) ?? DEFAULT_FUNCTION_MEMORY_MB),
    architecture: process.arch === 'arm64' ? 'arm64' : 'x86_64',
    taskUsdPerHour: remote ? readNumber(env, 'HOTPATH_REMOTE_TASK_USD_PER_HOUR', 0, 10_000, DEFAULT_TASK_PRICE.usdPerHour) : DEFAULT_TASK_PRICE.usdPerHour,
    latencyBudgetMs: remote && nonEmpty(env.HOTPATH_REMOTE_LATENCY_BUDGET_MS) ? readInteger(env, 'HOTPATH_REMOTE_LATENCY_BUDGET_MS', 1, 900_000, 1) : undefined,
  };
}

function readRemoteUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`HOTPATH_REMOTE_URL: '${raw}' is not a URL; give the server's base URL, e.g. http://gpu-task.internal:8000`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new ConfigError(`HOTPATH_REMOTE_URL: '${raw}' must be an http:// or https:// base URL without query, fragment or credentials (the API key goes in HOTPATH_REMOTE_API_KEY)`);
  }
  return url.href.replace(/\/+$/, '');
}

function defaultWasmThreads(env: Env): number {
  const memoryMb = lambdaMemoryMb(env);
  if (memoryMb !== undefined) return Math.min(MAX_LAMBDA_VCPUS, Math.max(1, Math.floor(memoryMb / MB_PER_VCPU)));
  return Math.max(1, availableParallelism());
}

/**
 * The memory Lambda (or an emulator) says the function has: AWS_LAMBDA_FUNCTION_MEMORY_SIZE is
 * the platform's variable, not ours, so a value no real function has (serverless-offline
 * passes what serverless.yml says, an emulator may report 20000) is taken as far as it makes
 * sense, never refused: any positive number. Undefined off Lambda.
 */
function lambdaMemoryMb(env: Env): number | undefined {
  const memoryMb = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  return Number.isFinite(memoryMb) && memoryMb > 0 ? memoryMb : undefined;
}

function readModelsDir(env: Env): string {
  if (nonEmpty(env.HOTPATH_MODELS_DIR)) return resolve(env.HOTPATH_MODELS_DIR);
  if (existsSync(LAMBDA_MODELS_DIR)) return LAMBDA_MODELS_DIR;
  return resolve(repoRoot(), 'layers/models/build/models');
}

/** A folder that exists; refused on Lambda, whose models dir is the layer built from the repository at build time. */
function readModelRepository(env: Env): string | undefined {
  if (!nonEmpty(env.HOTPATH_MODEL_REPOSITORY)) return undefined;
  if (nonEmpty(env.AWS_LAMBDA_FUNCTION_NAME)) {
    throw new ConfigError('HOTPATH_MODEL_REPOSITORY: on Lambda the models come from the models layer; build it with `npm run build:layers -- --repository DIR` and unset the variable in the function');
  }
  const dir = resolve(env.HOTPATH_MODEL_REPOSITORY);
  if (!existsSync(dir)) throw new ConfigError(`HOTPATH_MODEL_REPOSITORY: folder '${dir}' does not exist; give the folder that holds <model>/<version>/model.onnx`);
  return dir;
}

/** The function bundle ships the kernels in dist/functions/kernels (scripts/build-functions.ts); on Lambda that is under LAMBDA_TASK_ROOT. */
function readKernelsDir(env: Env): string {
  if (nonEmpty(env.HOTPATH_KERNELS_DIR)) {
    const dir = resolve(env.HOTPATH_KERNELS_DIR);
    if (!existsSync(dir)) throw new ConfigError(`HOTPATH_KERNELS_DIR: folder '${dir}' does not exist`);
    return dir;
  }
  const bundled = nonEmpty(env.LAMBDA_TASK_ROOT) ? resolve(env.LAMBDA_TASK_ROOT, 'dist/functions/kernels') : undefined;
  if (bundled !== undefined && existsSync(bundled)) return bundled;
  return resolve(repoRoot(), 'kernels/build');
}

/** An explicit `relaxed-simd` on an engine without relaxed SIMD fails INIT here, naming the variable. */
function readKernelSimd(env: Env): KernelSimdSetting {
  const setting = readEnum<KernelSimdSetting>(env, 'HOTPATH_KERNEL_SIMD', ['auto', 'simd', 'relaxed-simd'], 'auto');
  if (setting === 'relaxed-simd' && !engineSupportsRelaxedSimd()) {
    throw new ConfigError(`HOTPATH_KERNEL_SIMD: 'relaxed-simd' needs an engine with relaxed SIMD (Node >= 22, or Node 20 with --experimental-wasm-relaxed-simd); this is Node ${process.versions.node}. Use 'auto' or 'simd'`);
  }
  return setting;
}

function readOrtWebDir(env: Env): string | undefined {
  if (nonEmpty(env.HOTPATH_ORT_WEB_DIR)) {
    const dir = resolve(env.HOTPATH_ORT_WEB_DIR);
    if (!existsSync(dir)) throw new ConfigError(`HOTPATH_ORT_WEB_DIR: folder '${dir}' does not exist`);
    return dir;
  }
  return existsSync(LAMBDA_ORT_WEB_DIR) ? LAMBDA_ORT_WEB_DIR : undefined;
}

function readModelSelection(env: Env): ServingConfig['models'] {
  const raw = env.HOTPATH_MODELS?.trim();
  if (!raw || raw === 'default') return 'default';
  if (raw === '*') return '*';
  const names = raw.split(',').map((n) => n.trim()).filter((n) => n.length > 0);
  const bad = names.find((n) => !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(n));
  if (bad !== undefined || names.length === 0) {
    throw new ConfigError(`HOTPATH_MODELS: '${raw}' is not 'default', '*' or a comma-separated list of model names`);
  }
  return names;
}

/** `*` or a comma-separated list of model names (unknown names are harmless: they match no model). */
function readWasmModels(env: Env): ServingConfig['wasmModels'] {
  const raw = env.HOTPATH_WASM_MODELS?.trim();
  if (!raw) return [];
  if (raw === '*') return '*';
  const names = raw.split(',').map((n) => n.trim()).filter((n) => n.length > 0);
  if (names.length === 0 || names.some((n) => !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(n))) {
    throw new ConfigError(`HOTPATH_WASM_MODELS: '${raw}' is not '*' or a comma-separated list of model names`);
  }
  return names;
}

/** A comma-separated list of distinct provider names, in the order to try them. */
function readProviders(env: Env): readonly ExecutionProviderName[] {
  const raw = env.HOTPATH_PROVIDERS?.trim();
  if (!raw) return ['cuda', 'webgpu', 'cpu'];
  const names = raw.split(',').map((n) => n.trim().toLowerCase()).filter((n) => n.length > 0);
  const bad = names.find((n) => !(EXECUTION_PROVIDER_NAMES as readonly string[]).includes(n));
  if (bad !== undefined || names.length === 0 || new Set(names).size !== names.length) {
    throw new ConfigError(`HOTPATH_PROVIDERS: '${raw}' is not a comma-separated list of distinct providers from ${EXECUTION_PROVIDER_NAMES.join(', ')}`);
  }
  return names as ExecutionProviderName[];
}

function readNumber(env: Env, name: string, min: number, max: number, fallback: number, kind: 'number' | 'integer' = 'number'): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  const valid = kind === 'integer' ? Number.isInteger(value) : Number.isFinite(value);
  if (!valid || value < min || value > max) {
    throw new ConfigError(`${name}: '${raw}' is not ${kind === 'integer' ? 'an integer' : 'a number'} between ${min} and ${max}`);
  }
  return value;
}

function readEnum<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name}: '${raw}' is not one of ${allowed.join(', ')}`);
  }
  return raw as T;
}

function readInteger(env: Env, name: string, min: number, max: number, fallback: number): number {
  return readNumber(env, name, min, max, fallback, 'integer');
}

function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${name}: '${env[name]}' is not true or false`);
}

function nonEmpty(value: string | undefined): value is string {
  return value !== undefined && value.trim().length > 0;
}

/** Off Lambda the models are found relative to the working directory (the repo root for npm scripts). */
function repoRoot(): string {
  return process.cwd();
}

/** The batch functions' settings (functions/batch/, lib/batch/s3-event-scoring.ts): HOTPATH_BATCH_*. */
export interface BatchCloudConfig {
  /** HOTPATH_BATCH_BUCKET: where SQS inference requests' answers go unless a message names its own `output`. */
  readonly bucket: string | undefined;
  /** HOTPATH_BATCH_INPUT_PREFIX, default `input/`: objects created under it are scored; the first key segment after it names the model. */
  readonly inputPrefix: string;
  /** HOTPATH_BATCH_OUTPUT_PREFIX, default `output/`. */
  readonly outputPrefix: string;
  /** HOTPATH_S3_ENDPOINT (as for the models): an S3-compatible server instead of AWS S3. */
  readonly s3Endpoint: string | undefined;
  /** HOTPATH_BATCH_PROBE_BYTES, default 4 MiB: objects larger than this are probed (scored in part, outputs discarded) to measure rows/s before planning. */
  readonly probeBytes: number;
  /** The planner's rules (lib/batch/shard-planner.ts). */
  readonly shards: {
    /** HOTPATH_BATCH_RESERVE_MS, default 60,000. */
    readonly reserveMs: number;
    /** HOTPATH_BATCH_SHARD_SECONDS, default 600. */
    readonly shardTargetSeconds: number;
    /** HOTPATH_BATCH_MAX_SHARDS, default 1,000 (at most 10,000). */
    readonly maxShards: number;
    /** HOTPATH_BATCH_MIN_SHARD_BYTES, default 64 MiB. */
    readonly minShardBytes: number;
    /** HOTPATH_BATCH_GPU_ABOVE_BYTES, default 20 GiB; 0 turns the size rule off. */
    readonly gpuTaskAboveBytes: number;
  };
  /** HOTPATH_BATCH_STATE_MACHINE_ARN: the shard state machine; unset: no Step Functions. */
  readonly stateMachineArn: string | undefined;
  /**
   * HOTPATH_BATCH_LOCAL_LAMBDA_ENDPOINT (serverless-offline's Lambda endpoint): run the shard plan
   * locally, invoking HOTPATH_BATCH_WORKER_FUNCTION per shard and HOTPATH_BATCH_ASSEMBLE_FUNCTION
   * there; wins over the state machine.
   */
  readonly local: { readonly lambdaEndpoint: string; readonly workerFunction: string; readonly assembleFunction: string } | undefined;
  /** HOTPATH_BATCH_MIN_PART_BYTES, default 5 MiB (S3's minimum part): the assembly's; only tests against a local server lower it. */
  readonly assemblyMinPartBytes: number;
  /** The GPU task's batch mode through ECS RunTask; all of HOTPATH_BATCH_GPU_CLUSTER, _TASK_DEFINITION, _SUBNETS set, or none. */
  readonly gpuTask: {
    readonly cluster: string;
    readonly taskDefinition: string;
    readonly subnets: readonly string[];
    readonly securityGroups: readonly string[];
    readonly taskRoleArn: string | undefined;
    /** HOTPATH_BATCH_GPU_CONTAINER, default `gpu-task` (serverless.yml's container name). */
    readonly container: string;
  } | undefined;
}

/**
 * Reads HOTPATH_BATCH_* (documented in lib/config/ENV.md) once at INIT of a batch function;
 * a bad value throws a ConfigError naming the variable.
 */
export function loadBatchCloudConfig(env: Env = process.env): BatchCloudConfig {
  const list = (name: string): string[] => (env[name] ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const text = (name: string): string | undefined => (nonEmpty(env[name]) ? env[name].trim() : undefined);
  const gpuNames = ['HOTPATH_BATCH_GPU_CLUSTER', 'HOTPATH_BATCH_GPU_TASK_DEFINITION', 'HOTPATH_BATCH_GPU_SUBNETS'];
  const gpuSet = gpuNames.filter((name) => nonEmpty(env[name]));
  if (gpuSet.length > 0 && gpuSet.length < gpuNames.length) {
    throw new ConfigError(`${gpuNames.filter((name) => !gpuSet.includes(name)).join(', ')}: required with ${gpuSet.join(', ')} (the GPU task's batch mode needs its cluster, task definition and subnets)`);
  }
  const lambdaEndpoint = text('HOTPATH_BATCH_LOCAL_LAMBDA_ENDPOINT');
  if (lambdaEndpoint && !/^https?:\/\/[^/?#]+\/?$/.test(lambdaEndpoint)) {
    throw new ConfigError(`HOTPATH_BATCH_LOCAL_LAMBDA_ENDPOINT: '${lambdaEndpoint}' is not an http:// URL without a path, e.g. http://127.0.0.1:3002`);
  }
  return {
    bucket: text('HOTPATH_BATCH_BUCKET'),
    inputPrefix: text('HOTPATH_BATCH_INPUT_PREFIX') ?? 'input/',
    outputPrefix: text('HOTPATH_BATCH_OUTPUT_PREFIX') ?? 'output/',
    s3Endpoint: readS3Models(env).endpoint,
    probeBytes: readInteger(env, 'HOTPATH_BATCH_PROBE_BYTES', 1024, 1024 ** 3, 4 * 1024 * 1024),
    shards: {
      reserveMs: readInteger(env, 'HOTPATH_BATCH_RESERVE_MS', 0, 900_000, 60_000),
      shardTargetSeconds: readNumber(env, 'HOTPATH_BATCH_SHARD_SECONDS', 0.001, 900, 600),
      maxShards: readInteger(env, 'HOTPATH_BATCH_MAX_SHARDS', 2, 10_000, 1_000),
      minShardBytes: readInteger(env, 'HOTPATH_BATCH_MIN_SHARD_BYTES', 1, 2 ** 50, 64 * 1024 * 1024),
      gpuTaskAboveBytes: readInteger(env, 'HOTPATH_BATCH_GPU_ABOVE_BYTES', 0, 2 ** 50, 20 * 1024 ** 3),
    },
    stateMachineArn: text('HOTPATH_BATCH_STATE_MACHINE_ARN'),
    local: lambdaEndpoint
      ? {
          lambdaEndpoint: lambdaEndpoint.replace(/\/$/, ''),
          workerFunction: text('HOTPATH_BATCH_WORKER_FUNCTION') ?? 'hotpath-dev-batchShardWorker',
          assembleFunction: text('HOTPATH_BATCH_ASSEMBLE_FUNCTION') ?? 'hotpath-dev-batchAssemble',
        }
      : undefined,
    assemblyMinPartBytes: readInteger(env, 'HOTPATH_BATCH_MIN_PART_BYTES', 1, 5 * 1024 * 1024, 5 * 1024 * 1024),
    gpuTask: gpuSet.length === gpuNames.length
      ? {
          cluster: text('HOTPATH_BATCH_GPU_CLUSTER')!,
          taskDefinition: text('HOTPATH_BATCH_GPU_TASK_DEFINITION')!,
          subnets: list('HOTPATH_BATCH_GPU_SUBNETS'),
          securityGroups: list('HOTPATH_BATCH_GPU_SECURITY_GROUPS'),
          taskRoleArn: text('HOTPATH_BATCH_GPU_TASK_ROLE_ARN'),
          container: text('HOTPATH_BATCH_GPU_CONTAINER') ?? 'gpu-task',
        }
      : undefined,
  };
}
