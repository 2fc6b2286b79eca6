/** One process-start configuration of the local cold-start benchmark. */
export interface ColdConfig {
  /** e.g. `wasm/t1/default/eager/min`; `node -e 0` and `hello-world` for the baselines. */
  readonly id: string;
  /** baseline, target (the issue's targets), model, init, bundle, flags */
  readonly group: 'baseline' | 'target' | 'model' | 'init' | 'bundle' | 'flags' | 's3';
  readonly kind: 'node-e0' | 'hello' | 'api';
  readonly backend?: 'wasm' | 'native';
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

function api(group: ColdConfig['group'], backend: 'wasm' | 'native', threads: number, models: string, init: 'eager' | 'lazy' = 'eager', bundle: 'min' | 'plain' = 'min', sourceMaps = true): ColdConfig {
  const id = `${backend}/t${threads}/${models}/${init}/${bundle}${sourceMaps ? '' : '/no-source-maps'}`;
  return { id, group, kind: 'api', backend, threads, models, init, bundle, sourceMaps };
}

/**
 * The matrix: baselines, the target rows (default models, both backends, 1 and 2 threads),
 * then one factor at a time from `wasm/t1/default/eager/min`: each model alone, lazy init,
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
    ...BENCH_MODELS.flatMap((model) => [api('model', 'wasm', 1, model), api('model', 'native', 1, model)]),
    api('init', 'wasm', 1, 'default', 'lazy'),
    api('init', 'native', 1, 'default', 'lazy'),
    api('bundle', 'wasm', 1, 'default', 'eager', 'plain'),
    api('flags', 'wasm', 1, 'default', 'eager', 'min', false),
    ...S3_COLD_MODELS.flatMap((model) => (['layer', 'download', 'warm-tmp'] as const).map((from): ColdConfig => ({
      ...api('s3', 'wasm', 1, model), id: `s3/wasm/t1/${model}/${from === 'layer' ? 'layer' : `s3-${from}`}`, ...(from === 'layer' ? {} : { s3: from }),
    }))),
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
