/**
 * Cold-start benchmark.
 *
 * Local (default): for each configuration, N fresh processes that import the built handler
 * bundle with the built layers, as Lambda's INIT does, and answer one sample event.
 * AWS (`--aws --function NAME`): per memory size, force a new instance, invoke, and read the
 * REPORT line and our EMF metrics from the log tail.
 *
 * @example
 * npm run bench:cold                                  # full local matrix, 10 runs each (~6 min on 2 cores)
 * npm run bench:cold -- --runs 3 --group target       # quick: baselines + the target rows
 * npm run bench:cold -- --only wasm/t1/default,native/t1/default --runs 5
 * npm run bench:cold -- --list                        # configuration ids
 * npm run bench:cold -- --group target --compare-bundle /tmp/old/api-handler.mjs --compare-label before
 *   [--compare-models-dir /tmp/old-models]               # the earlier revision's models layer too
 * npm run bench:cold -- --aws --function hotpath-dev-api --memory 512,1024,1769 --runs 5
 * npm run bench:cold -- --group s3 --name cold-s3 --runs 10  # models from a local S3 server vs the layer
 */
import { writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeBenchResults, describeMachine, compareWithAnchor, type BenchResult } from '../bench-results';
import { buildColdBundles, type BundleVariant } from './cold-bundles';
import { coldConfigs, selectConfigs, withComparisonBundle, type ColdConfig } from './cold-configs';
import { renderColdChart } from './cold-chart';
import { formatColdMarkdown, formatColdTable } from './cold-report';
import { summarize, type ColdSummary, type SampleOutcome } from './cold-stats';
import { LOCAL_PHASES, S3_PHASES, prepareEvents, runColdSample, type LocalBenchContext } from './local-cold-bench';
import { startS3ColdSetup } from './s3-cold-setup';
import { s3Results } from './s3-cold-report';
import { runAwsColdBench } from './aws-cold-bench';

const root = resolve(__dirname, '../..');
const resultsDir = join(root, 'bench', 'results');

const TARGET_ROW = 'wasm/t1/default/eager/min';
const NATIVE_ROW = 'native/t1/default/eager/min';

function parseFlags() {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '10' },
      only: { type: 'string', default: '' },
      group: { type: 'string', default: '' },
      list: { type: 'boolean', default: false },
      name: { type: 'string', default: 'cold' },
      aws: { type: 'boolean', default: false },
      function: { type: 'string' },
      memory: { type: 'string', default: '512,1024,1769,3008' },
      region: { type: 'string' },
      endpoint: { type: 'string' },
      architecture: { type: 'string' },
      model: { type: 'string', default: 'iris-classifier' },
      'compare-bundle': { type: 'string' },
      'compare-label': { type: 'string', default: 'compare' },
      'compare-models-dir': { type: 'string' },
    },
    allowPositionals: false,
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: '${values.runs}' is not a positive integer`);
  const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
  return { ...values, runs, only: list(values.only), groups: list(values.group) };
}

async function runLocal(flags: ReturnType<typeof parseFlags>): Promise<void> {
  const selected = selectConfigs(coldConfigs(), flags.only, flags.groups);
  const compare = flags['compare-bundle'];
  const compareModels = flags['compare-models-dir'];
  if (compareModels && !compare) throw new Error('--compare-models-dir goes with --compare-bundle');
  const configs = compare ? withComparisonBundle(selected, resolve(compare), flags['compare-label'], compareModels ? resolve(compareModels) : undefined) : selected;
  if (flags.list) {
    for (const c of coldConfigs()) console.log(`${c.group.padEnd(9)} ${c.id}`);
    return;
  }
  const variants = [...new Set(configs.filter((c) => c.kind === 'api').map((c) => c.bundle!))] as BundleVariant[];
  console.log(`bench:cold: building ${variants.join(' + ') || 'no'} bundle(s)...`);
  const modelsDir = join(root, 'layers/models/build/models');
  const s3 = configs.some((c) => c.s3 !== undefined) ? await startS3ColdSetup(configs, modelsDir) : undefined;
  const context: LocalBenchContext = {
    root,
    bundles: await buildColdBundles(root, variants),
    ortWebDir: join(root, 'layers/onnxruntime-web/build/nodejs/node_modules/onnxruntime-web'),
    modelsDir,
    ...(s3 ? { s3 } : {}),
  };
  const { files, cleanup } = prepareEvents(configs, context);
  const outcomes = new Map<string, SampleOutcome[]>(configs.map((c) => [c.id, []]));
  const started = Date.now();
  try {
    // Round-robin: one sample of every configuration per round, so a noisy minute on a shared
    // machine spreads over all rows instead of skewing one.
    for (let round = 0; round < flags.runs; round++) {
      for (const config of configs) {
        const outcome = await runColdSample(config, context, files.get(config.id)!);
        outcomes.get(config.id)!.push(outcome);
        if (!outcome.ok) console.error(`  ${config.id} run ${round + 1}: FAILED (${outcome.reason})\n${indent(outcome.stderr)}`);
      }
      process.stdout.write(`\r  round ${round + 1}/${flags.runs} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    }
  } finally {
    cleanup();
    await s3?.stop();
  }
  process.stdout.write('\n');
  const rows = configs.map((c) => summarize(c.id, outcomes.get(c.id)!));
  const extra = s3 ? s3Results(rows, configs, s3.bytes) : [];
  report(flags.name, rows, s3 ? [...S3_PHASES] : [...LOCAL_PHASES], [...localResults(rows, configs), ...extra], `local: ${flags.runs} fresh processes per configuration`);
}

function indent(text: string): string {
  return text.trim().split('\n').slice(-15).map((l) => `    ${l}`).join('\n');
}

/** Per-row figures plus the issue's targets, each against its anchor from the same run. */
function localResults(rows: readonly ColdSummary[], configs: readonly ColdConfig[]): BenchResult[] {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const results: BenchResult[] = [];
  for (const row of rows) {
    const group = configs.find((c) => c.id === row.id)?.group;
    const note = row.failed > 0 ? `${row.failed} of ${row.samples} samples failed` : undefined;
    results.push({ case: row.id, metric: 'median_ms', value: round(row.medianMs), lower_is_better: true, ...(note ? { note } : {}) });
    results.push({ case: row.id, metric: 'p90_ms', value: round(row.p90Ms), lower_is_better: true });
    results.push({ case: row.id, metric: 'peak_rss_mb', value: round(row.peakRssMb), lower_is_better: true });
    if (group === 'target') {
      results.push({ case: row.id, metric: 'p90_over_median', value: round(row.p90Ms / row.medianMs, 3), lower_is_better: true, target_ratio: 1.3, met: row.p90Ms / row.medianMs <= 1.3 });
    }
  }
  const wasm = byId.get(TARGET_ROW);
  const native = byId.get(NATIVE_ROW);
  const nodeE0 = byId.get('node -e 0');
  if (wasm && native) {
    results.push(compareWithAnchor({ case: `${TARGET_ROW} vs native`, metric: 'median_ms', value: round(wasm.medianMs), lower_is_better: true }, NATIVE_ROW, round(native.medianMs), 1.3));
  }
  // Issue 11: silero-vad alone on its kernel plan (HOTPATH_BACKEND=wasm serves it from the kernels) vs native onnxruntime-node.
  const sileroKernel = byId.get('kernel/t1/silero-vad/eager/min');
  const sileroNative = byId.get('native/t1/silero-vad/eager/min');
  if (sileroKernel && sileroNative) {
    results.push(compareWithAnchor({ case: 'silero-vad alone: kernels vs native', metric: 'median_ms', value: round(sileroKernel.medianMs), lower_is_better: true, note: 'kernel/t1/silero-vad: served by kernel:silero-vad-v5 (route checked on every sample)' }, 'native/t1/silero-vad/eager/min', round(sileroNative.medianMs), 1.3));
  }
  // Issue 13: the default set as deployed (iris-classifier and silero-vad on kernel plans, text-detector on onnxruntime-web) vs native.
  const kernelDefault = byId.get('kernel/t1/default/eager/min');
  if (kernelDefault && native) {
    results.push(compareWithAnchor({ case: 'kernel/t1/default/eager/min vs native', metric: 'median_ms', value: round(kernelDefault.medianMs), lower_is_better: true }, NATIVE_ROW, round(native.medianMs), 1.3));
  }
  if (wasm && nodeE0) {
    const above = wasm.medianMs - nodeE0.medianMs;
    results.push({ case: `${TARGET_ROW} above node -e 0`, metric: 'ms_above_anchor', value: round(above), anchor: 'node -e 0', anchor_value: round(nodeE0.medianMs), lower_is_better: true, met: above <= 120, note: 'target: at most 120 ms above the anchor' });
  }
  if (wasm) {
    results.push({ case: `${TARGET_ROW} peak RSS`, metric: 'peak_rss_mb', value: round(wasm.peakRssMb), lower_is_better: true, met: wasm.peakRssMb <= 150, note: 'target: at most 150 MB' });
  }
  return results;
}

function round(value: number, digits = 1): number {
  return Number.isFinite(value) ? Number(value.toFixed(digits)) : value;
}

/** Table on stdout, bench/results/<name>.json, .svg and .md (the table for BENCHMARKS.md). */
export function report(name: string, rows: readonly ColdSummary[], phases: readonly string[], results: readonly BenchResult[], subtitle: string): void {
  console.log(formatColdTable(rows, phases));
  for (const r of results.filter((x) => x.met !== undefined)) {
    console.log(`target ${r.met ? 'MET    ' : 'NOT MET'} ${r.case}: ${r.metric} ${r.value}${r.anchor ? ` (anchor ${r.anchor} ${r.anchor_value}${r.ratio !== undefined ? `, ratio ${r.ratio}` : ''})` : ''}${r.note ? ` — ${r.note}` : ''}`);
  }
  const jsonPath = writeBenchResults(name, results);
  const nodeE0 = rows.find((r) => r.id === 'node -e 0');
  const svg = renderColdChart(rows, {
    title: `Cold start: process spawn to first response (${name})`,
    subtitle: `${subtitle} · ${describeMachine()} · ${new Date().toISOString().slice(0, 10)}`,
    phases,
    label: (r) => `${r.medianMs.toFixed(0)} ms · p90 ${r.p90Ms.toFixed(0)} · ${r.peakRssMb.toFixed(0)} MB`,
    markers: nodeE0 && Number.isFinite(nodeE0.medianMs) ? [{ ms: nodeE0.medianMs + 120, label: 'node -e 0 + 120 ms' }] : [],
  });
  const svgPath = join(resultsDir, `${name}.svg`);
  writeFileSync(svgPath, svg);
  const mdPath = join(resultsDir, `${name}.md`);
  writeFileSync(mdPath, `${formatColdMarkdown(rows, phases)}\n`);
  console.log(`wrote ${relative(root, jsonPath)}, ${relative(root, svgPath)}, ${relative(root, mdPath)}`);
}

async function main(): Promise<void> {
  const flags = parseFlags();
  if (flags.aws) {
    if (!flags.function) throw new Error('--aws needs --function NAME (the deployed function, e.g. hotpath-dev-api)');
    await runAwsColdBench({
      functionName: flags.function,
      memorySizes: flags.memory.split(',').map((m) => Number(m.trim())),
      runs: flags.runs,
      region: flags.region,
      endpoint: flags.endpoint,
      architecture: flags.architecture as 'arm64' | 'x86_64' | undefined,
      event: JSON.parse(JSON.stringify(await import('./local-cold-bench').then((m) => m.inferEventFor(root, join(root, 'layers/models/build/models'), flags.model)))),
      report: (rows, phases, results, subtitle) => report(flags.name === 'cold' ? 'cold-aws' : flags.name, rows, phases, results, subtitle),
    });
    return;
  }
  await runLocal(flags);
}

main().catch((error: unknown) => {
  console.error(`bench:cold: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
