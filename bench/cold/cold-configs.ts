/** One process-start configuration of the local cold-start benchmark. */
export interface ColdConfig {
  /** e.g. `wasm/t1/default/eager/min`; `node -e 0` and `hello-world` for the baselines. */
  readonly id: string;
  /** baseline, target (the issue's targets), model, init, bundle, flags */
  readonly group: 'baseline' | 'target' | 'model' | 'init' | 'bundle' | 'flags' | 's3';
  readonly kind: 'node-e0' | 'hello' | 'api';
  /**
   * `wasm`: every ONNX model on onnxruntime-web (HOTPATH_BACKEND=wasm, HOTPATH_WASM_MODELS=*);
   * `kernel`: HOTPATH_BACKEND=wasm as deployed, each ONNX model on its kernel plan where the
   * manifest has one (in the default set only iris-classifier has one: silero-vad and text-detector stay on onnxruntime-web);
   * `native`: onnxruntime-node. The answering model's route is checked on every sample (expectedRoute).
   */
  readonly backend?: 'wasm' | 'kernel' | 'native';
  readonly threads?: number;
  /** HOTPATH_MODELS: `default` or one model name. */
  readonly models?: string;
  readonly init?: 'eager' | 'lazy';
  readonly bundle?: 'min' | 'plain';
  /** NODE_OPTIONS=--enable-source-maps, as serverless.yml deploys it. */
  readonly sourceMaps: boolean;
  /** A handler bundle built elsewhere (`--compare-bundle`, e.g. from an earlier revision) instead of `bundle`. */
  readonly bundlePath?: string;
  /** A models layer built elsewhere (`--compare-models-dir`, e.g. by an earlier revision) instead of layers/models/build/models. */
  readonly modelsDir?: string;
  /**
   * The model's artifact from a local S3 server (bench/cold/s3-cold-setup.ts) instead of the
   * layer: `download` with /tmp emptied before each sample (a first INIT), `warm-tmp` with the
   * file already in the cache (a re-INIT in the same sandbox). Absent: from the layer.
   */
  readonly s3?: 'download' | 'warm-tmp';
}

export const BENCH_MODELS = ['iris-classifier', 'silero-vad', 'text-detector', 'mlp-small', 'mlp-medium', 'mlp-large'] as const;
/**
 * The benchmark models with a kernel plan in the manifest (issue 13): they get a `kernel` row too.
 * silero-vad is kept on onnxruntime-web (its manifest kernelRefused, issue 11's p99 finding); add it
 * back when the layer gives it a plan. A model listed here without one fails every kernel sample (route check).
 */
export const KERNEL_PLAN_MODELS: ReadonlySet<string> = new Set(['iris-classifier', 'mlp-small', 'mlp-medium', 'mlp-large']);

/** The HOTPATH_* variables that pick `config.backend`. */
export function backendEnv(config: ColdConfig): Record<string, string> {
  if (config.backend === undefined) return {};
  return config.backend === 'native' ? { HOTPATH_BACKEND: 'native' } : { HOTPATH_BACKEND: 'wasm', ...(config.backend === 'wasm' ? { HOTPATH_WASM_MODELS: '*' } : {}) };
}

/** The `route` the answering model's `ready` log line must carry for the sample to count. */
export function expectedRoute(config: ColdConfig): string | undefined {
  return config.backend === undefined ? undefined : { wasm: 'local-wasm', kernel: 'local-kernel', native: 'local-native' }[config.backend];
}

function api(group: ColdConfig['group'], backend: 'wasm' | 'kernel' | 'native', threads: number, models: string, init: 'eager' | 'lazy' = 'eager', bundle: 'min' | 'plain' = 'min', sourceMaps = true): ColdConfig {
  const id = `${backend}/t${threads}/${models}/${init}/${bundle}${sourceMaps ? '' : '/no-source-maps'}`;
  return { id, group, kind: 'api', backend, threads, models, init, bundle, sourceMaps };
}

/**
 * The matrix: baselines, the target rows (default models, both onnxruntimes, 1 and 2 threads;
 * the default as deployed, `kernel`), then one factor at a time from `wasm/t1/default/eager/min`:
 * each model alone (also on its kernel plan where it has one), lazy init,
 * the unminified bundle, no source maps. A full cross product would be 96 rows and ~30 min
 * on two cores; one factor at a time answers the same questions.
 */
export function coldConfigs(): ColdConfig[] {
  return [
    { id: 'node -e 0', group: 'baseline', kind: 'node-e0', sourceMaps: false },
    { id: 'hello-world', group: 'baseline', kind: 'hello', sourceMaps: true },
    api('target', 'wasm', 1, 'default'),
    api('target', 'wasm', 2, 'default'),
    api('target', 'native', 1, 'default'),
    api('target', 'native', 2, 'default'),
    api('target', 'kernel', 1, 'default'),
    ...BENCH_MODELS.flatMap((model) => [api('model', 'wasm', 1, model), ...(KERNEL_PLAN_MODELS.has(model) ? [api('model', 'kernel', 1, model)] : []), api('model', 'native', 1, model)]),
    api('init', 'wasm', 1, 'default', 'lazy'),
    api('init', 'native', 1, 'default', 'lazy'),
    api('bundle', 'wasm', 1, 'default', 'eager', 'plain'),
    api('flags', 'wasm', 1, 'default', 'eager', 'min', false),
    // As deployed (kernel where the model has a plan): s3-cold-setup counts the file that route downloads.
    ...S3_COLD_MODELS.flatMap((model) => (['layer', 'download', 'warm-tmp'] as const).map((from): ColdConfig => {
      const backend = KERNEL_PLAN_MODELS.has(model) ? 'kernel' : 'wasm';
      return { ...api('s3', backend, 1, model), id: `s3/${backend}/t1/${model}/${from === 'layer' ? 'layer' : `s3-${from}`}`, ...(from === 'layer' ? {} : { s3: from }) };
    })),
  ];
}

/** Models of the `s3` group: a default model and the largest benchmark model, each from the layer, from S3 into an empty /tmp, and from a warm /tmp. */
export const S3_COLD_MODELS = ['text-detector', 'mlp-large'] as const;

/** Configs whose id contains one of `only` (all when empty) and whose group is in `groups` (all when empty). Baselines are always kept. */
export function selectConfigs(all: readonly ColdConfig[], only: readonly string[], groups: readonly string[]): ColdConfig[] {
  return all.filter((c) => c.group === 'baseline'
    || ((only.length === 0 || only.some((o) => c.id.includes(o))) && (groups.length === 0 || groups.includes(c.group))));
}

/**
 * The api configurations again, each on another bundle (`--compare-bundle FILE --compare-label before`)
 * and optionally another models layer (`--compare-models-dir DIR`), run in the same rounds.
 */
export function withComparisonBundle(configs: readonly ColdConfig[], bundlePath: string, label: string, modelsDir?: string): ColdConfig[] {
  return configs.flatMap((c) => (c.kind === 'api' ? [c, { ...c, id: `${c.id} @${label}`, bundlePath, ...(modelsDir ? { modelsDir } : {}) }] : [c]));
}
