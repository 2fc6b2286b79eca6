/**
 * `npm run bench:batch` (run it under the bench lock: `flock /tmp/hotpath-bench.lock npm run bench:batch`):
 * rows/s through the local batch pipeline (lib/batch/score-object.ts, filesystem storage) for
 * 1M rows of iris CSV, JSONL and NPY (iris-classifier) and 100k rows of NPY for mlp-small; for each,
 * every stage alone (read + parse, infer, encode + write) and the whole pipeline in the same run,
 * with the pipeline's ratio to its slowest stage (target >= 0.85). The CSV parse is measured with
 * the numeric fast path and with csv-parse alone. Anchor: bench/batch/python-anchor.py (pandas
 * read_csv + onnxruntime at batch 1024 + pandas JSONL) in a venv this script creates from the
 * machine's Python index (skipped, saying why, where pandas or onnxruntime do not install).
 * Peak RSS of `npm run score` for 1M and 10M iris CSV rows (target <= 300 MB, within 10 %).
 * Data are generated (seeded) under $HOTPATH_BENCH_BATCH_DIR or /tmp/hotpath-bench-batch.
 * Writes bench/results/batch.json; prints a markdown summary.
 *
 * Options: --quick (100k/10k rows, 1M for RSS) for a smoke run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { writeNpy } from '../../kernels/runtime/npy-file-format';
import { batchModelInput, preferredBatchSize } from '../../lib/batch/batch-model-input';
import { FilesystemObjectStorage } from '../../lib/batch/filesystem-object-storage';
import { detectInputFormat } from '../../lib/batch/input-format';
import { OutputWriter } from '../../lib/batch/output-writer';
import { newStageDurations, type RowBatch } from '../../lib/batch/row-batch';
import { readRows, scoreObject } from '../../lib/batch/score-object';
import { encodeFailureLines, encodeScoreLines } from '../../lib/batch/score-lines';
import { loadServingConfig } from '../../lib/config/serving-config';
import { infer, type InferAnswer } from '../../lib/serving/infer';
import { createServingRuntime, type ServingRuntime } from '../../lib/serving/serving-runtime';
import { compareWithAnchor, describeMachine, writeBenchResults, type BenchResult } from '../bench-results';
import { readCsvRows } from '../../lib/batch/csv-rows';

const repoRoot = path.join(__dirname, '../..');
const quick = process.argv.includes('--quick');
const dataDir = process.env.HOTPATH_BENCH_BATCH_DIR ?? path.join(os.tmpdir(), 'hotpath-bench-batch');
const IRIS_ROWS = quick ? 100_000 : 1_000_000;
const MLP_ROWS = quick ? 10_000 : 100_000;
const RSS_ROWS = quick ? [100_000, 1_000_000] : [1_000_000, 10_000_000];
const log = (message: string) => console.error(`[bench:batch ${new Date().toISOString().slice(11, 19)}] ${message}`);

/** Seeded uniform numbers (a 32-bit LCG): the same files every run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function irisRow(next: () => number): number[] {
  return [4.3 + next() * 3.6, 2 + next() * 2.4, 1 + next() * 5.9, 0.1 + next() * 2.4].map((v) => Math.round(v * 10) / 10);
}

async function writeLines(file: string, header: string | undefined, rows: number, line: (next: () => number) => string): Promise<void> {
  if (existsSync(file)) return;
  const out = createWriteStream(`${file}.partial`);
  const next = seeded(rows);
  let text = header === undefined ? '' : `${header}\n`;
  for (let i = 0; i < rows; i++) {
    text += `${line(next)}\n`;
    if (text.length > 1 << 20) {
      if (!out.write(text)) await once(out, 'drain');
      text = '';
    }
  }
  out.end(text);
  await once(out, 'finish');
  execFileSync('mv', [`${file}.partial`, file]);
}

function writeNpyFile(file: string, rows: number, columns: number, value: (next: () => number) => number): void {
  if (existsSync(file)) return;
  const next = seeded(rows * columns);
  const data = new Float32Array(rows * columns);
  for (let i = 0; i < data.length; i++) data[i] = value(next);
  require('node:fs').writeFileSync(file, writeNpy(data, [rows, columns]));
}

interface Case {
  readonly name: string;
  readonly model: string;
  readonly key: string;
  readonly rows: number;
}

interface StageFigures {
  readParseMs: number;
  csvParseOnlyMs?: number;
  inferMs: number;
  writeMs: number;
  pipelineMs: number;
  pipelineSplit: Record<string, number>;
}

async function measureCase(runtime: ServingRuntime, storage: FilesystemObjectStorage, c: Case): Promise<StageFigures> {
  const model = runtime.registry.findReady(c.model).manifest;
  const head = await storage.head(c.key);
  const format = detectInputFormat(c.key);
  const input = batchModelInput(model, format);
  const batchSize = preferredBatchSize(model);
  const source = () => ({ storage, head, durations: newStageDurations(), progress: { bytesRead: 0 } });

  // Stage 1 alone: read + parse, every batch kept for the next stages.
  let started = performance.now();
  const batches: RowBatch[] = [];
  for await (const batch of readRows(source(), format, input, batchSize)) batches.push(batch);
  const readParseMs = performance.now() - started;
  let csvParseOnlyMs: number | undefined;
  if (format === 'csv' && input.kind === 'table') {
    started = performance.now();
    let rows = 0;
    for await (const batch of readCsvRows(source(), input, batchSize, { numericFastPath: false })) rows += batch.rows.length;
    csvParseOnlyMs = performance.now() - started;
    if (rows !== c.rows) throw new Error(`csv-parse alone read ${rows} rows, expected ${c.rows}`);
  }
  log(`${c.name}: read+parse ${(readParseMs / 1000).toFixed(2)} s${csvParseOnlyMs ? ` (csv-parse alone ${(csvParseOnlyMs / 1000).toFixed(2)} s)` : ''}`);

  // Stage 2 alone: infer every batch.
  started = performance.now();
  const answers: InferAnswer[] = [];
  for (const batch of batches) {
    answers.push(await infer(runtime, { model: c.model, inputs: [{ name: input.name, datatype: 'FP32', shape: [batch.rows.length, ...batch.rowShape], data: batch.values }] }));
  }
  const inferMs = performance.now() - started;
  log(`${c.name}: infer ${(inferMs / 1000).toFixed(2)} s`);

  // Stage 3 alone: encode + write the outputs of every batch.
  const durations = newStageDurations();
  started = performance.now();
  const scores = new OutputWriter(storage, `stage-write/${c.key}/scores.jsonl`, 'application/x-ndjson', durations);
  const errors = new OutputWriter(storage, `stage-write/${c.key}/row-errors.jsonl`, 'application/x-ndjson', durations);
  for (let i = 0; i < batches.length; i++) {
    await scores.write(encodeScoreLines(batches[i]!.rows, batches[i]!.ids, answers[i]!.outputs));
    await errors.write(encodeFailureLines(batches[i]!.failures));
  }
  await Promise.all([scores.finish(), errors.finish()]);
  const writeMs = performance.now() - started;
  log(`${c.name}: encode+write ${(writeMs / 1000).toFixed(2)} s`);
  batches.length = 0;
  answers.length = 0;

  // The whole pipeline.
  started = performance.now();
  const outputPrefix = `pipeline-${Date.now()}`;
  const { manifest } = await scoreObject({ core: runtime, storage }, { key: c.key, model: c.model, outputPrefix });
  const pipelineMs = performance.now() - started;
  rmSync(path.join(dataDir, outputPrefix), { recursive: true, force: true });
  rmSync(path.join(dataDir, 'stage-write'), { recursive: true, force: true });
  if (manifest.status !== 'succeeded' || manifest.rows.scored !== c.rows) throw new Error(`${c.name}: pipeline run ${JSON.stringify(manifest)}`);
  log(`${c.name}: pipeline ${(pipelineMs / 1000).toFixed(2)} s ${JSON.stringify(manifest.durationsMs)}`);
  return { readParseMs, csvParseOnlyMs, inferMs, writeMs, pipelineMs, pipelineSplit: manifest.durationsMs };
}

/** A venv with pandas and onnxruntime from the machine's index, or the reason there is none. */
function pythonAnchorVenv(): { python: string } | { skipped: string } {
  const venv = path.join(dataDir, 'venv');
  const python = path.join(venv, 'bin/python');
  if (!existsSync(python)) {
    const made = spawnSync('python3', ['-m', 'venv', venv], { encoding: 'utf8' });
    if (made.status !== 0) return { skipped: `python3 -m venv failed: ${made.stderr.trim().split('\n').at(-1)}` };
  }
  const installed = spawnSync(path.join(venv, 'bin/pip'), ['install', '--quiet', 'pandas', 'onnxruntime'], { encoding: 'utf8', timeout: 300_000 });
  if (installed.status !== 0) return { skipped: `pip install pandas onnxruntime failed: ${(installed.stderr || installed.stdout).trim().split('\n').at(-1)}` };
  return { python };
}

function peakRssMb(file: string): { rssMb: number; seconds: number } {
  const out = path.join(dataDir, `rss-out-${path.basename(file)}`);
  rmSync(out, { recursive: true, force: true });
  const started = performance.now();
  const run = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, '--import', 'tsx', path.join(repoRoot, 'scripts/score.ts'), '--quiet', '--model', 'iris-classifier', '--out', out, file], {
    cwd: repoRoot, encoding: 'utf8', maxBuffer: 1 << 26,
  });
  const seconds = (performance.now() - started) / 1000;
  if (run.status !== 0) throw new Error(`score ${file} failed: ${run.stderr}`);
  const kb = Number(run.stderr.trim().split('\n').at(-1));
  rmSync(out, { recursive: true, force: true });
  return { rssMb: kb / 1024, seconds };
}

async function main(): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  log(`data in ${dataDir}; machine ${describeMachine()}; load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const iris = (next: () => number) => irisRow(next).join(',');
  await writeLines(path.join(dataDir, `iris-${IRIS_ROWS}.csv`), 'sepal_length,sepal_width,petal_length,petal_width', IRIS_ROWS, iris);
  await writeLines(path.join(dataDir, `iris-${IRIS_ROWS}.jsonl`), undefined, IRIS_ROWS, (next) => JSON.stringify(irisRow(next)));
  writeNpyFile(path.join(dataDir, `iris-${IRIS_ROWS}.npy`), IRIS_ROWS, 4, (next) => Math.round((1 + next() * 6) * 10) / 10);
  writeNpyFile(path.join(dataDir, `mlp-${MLP_ROWS}.npy`), MLP_ROWS, 256, (next) => next() * 2 - 1);
  for (const rows of RSS_ROWS) await writeLines(path.join(dataDir, `iris-${rows}.csv`), 'sepal_length,sepal_width,petal_length,petal_width', rows, iris);
  log('data ready');

  const storage = new FilesystemObjectStorage(dataDir);
  for (const stale of ['stage-write']) rmSync(path.join(dataDir, stale), { recursive: true, force: true });
  const quiet = { info() {}, warn: log, error: log };
  const runtime = await createServingRuntime(loadServingConfig(process.env, { models: ['iris-classifier', 'mlp-small'] }), quiet);
  const cases: Case[] = [
    { name: 'iris CSV', model: 'iris-classifier', key: `iris-${IRIS_ROWS}.csv`, rows: IRIS_ROWS },
    { name: 'iris JSONL', model: 'iris-classifier', key: `iris-${IRIS_ROWS}.jsonl`, rows: IRIS_ROWS },
    { name: 'iris NPY', model: 'iris-classifier', key: `iris-${IRIS_ROWS}.npy`, rows: IRIS_ROWS },
    { name: 'mlp-small NPY', model: 'mlp-small', key: `mlp-${MLP_ROWS}.npy`, rows: MLP_ROWS },
  ];
  const results: BenchResult[] = [];
  const table: string[] = ['| case | rows | read+parse rows/s | infer rows/s | encode+write rows/s | pipeline rows/s | pipeline / slowest stage (target 0.85) | pipeline split read/parse/infer/write ms |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |'];
  const rate = (rows: number, ms: number) => Math.round(rows / (ms / 1000));
  let irisCsvPipelineRate = 0;
  for (const c of cases) {
    const f = await measureCase(runtime, storage, c);
    const stages = { 'read+parse': f.readParseMs, infer: f.inferMs, 'encode+write': f.writeMs };
    const slowest = Math.max(...Object.values(stages));
    const ratio = slowest / f.pipelineMs;
    const slowestName = Object.entries(stages).find(([, ms]) => ms === slowest)![0];
    for (const [stage, ms] of Object.entries(stages)) results.push({ case: `${c.name}/${stage}`, metric: 'rows_per_s', value: rate(c.rows, ms), lower_is_better: false });
    if (f.csvParseOnlyMs) results.push({ case: `${c.name}/read+parse csv-parse alone`, metric: 'rows_per_s', value: rate(c.rows, f.csvParseOnlyMs), lower_is_better: false });
    results.push({ case: `${c.name}/pipeline`, metric: 'rows_per_s', value: rate(c.rows, f.pipelineMs), lower_is_better: false });
    results.push({ case: `${c.name}/pipeline vs slowest stage`, metric: 'ratio', value: Number(ratio.toFixed(3)), lower_is_better: false, target_ratio: 0.85, met: ratio >= 0.85, note: `slowest stage: ${slowestName}` });
    if (c.name === 'iris CSV') irisCsvPipelineRate = rate(c.rows, f.pipelineMs);
    const split = f.pipelineSplit;
    table.push(`| ${c.name} | ${c.rows} | ${rate(c.rows, f.readParseMs)}${f.csvParseOnlyMs ? ` (csv-parse alone ${rate(c.rows, f.csvParseOnlyMs)})` : ''} | ${rate(c.rows, f.inferMs)} | ${rate(c.rows, f.writeMs)} | ${rate(c.rows, f.pipelineMs)} | ${ratio.toFixed(2)} (${slowestName}) ${ratio >= 0.85 ? 'met' : 'not met'} | ${split.read}/${split.parse}/${split.infer}/${split.write} of ${split.total} |`);
  }
  await runtime.registry.dispose();

  log('python anchor');
  const venv = pythonAnchorVenv();
  if ('skipped' in venv) {
    results.push({ case: 'iris CSV/pipeline vs python', metric: 'rows_per_s', value: irisCsvPipelineRate, lower_is_better: false, note: `anchor skipped: ${venv.skipped}` });
    table.push('', `Python anchor skipped: ${venv.skipped}`);
  } else {
    const versions = execFileSync(venv.python, ['-c', 'import pandas, onnxruntime; print(pandas.__version__, onnxruntime.__version__)'], { encoding: 'utf8' }).trim().split(' ');
    const anchorOut = path.join(dataDir, 'python-anchor.jsonl');
    const run = JSON.parse(execFileSync(venv.python, [path.join(__dirname, 'python-anchor.py'), path.join(repoRoot, 'layers/models/build/models/iris-classifier/1/model.onnx'), path.join(dataDir, `iris-${IRIS_ROWS}.csv`), anchorOut], { encoding: 'utf8' })) as Record<string, number>;
    rmSync(anchorOut, { force: true });
    const anchorRate = Math.round(run.rows! / run.total_s!);
    const anchorName = `pandas ${versions[0]} read_csv + onnxruntime ${versions[1]} batch 1024 (1 thread) + pandas to_json lines`;
    results.push(compareWithAnchor({ case: 'iris CSV/pipeline vs python', metric: 'rows_per_s', value: irisCsvPipelineRate, lower_is_better: false, note: `python read ${run.read_s!.toFixed(2)} s, infer ${run.infer_s!.toFixed(2)} s, write ${run.write_s!.toFixed(2)} s` }, anchorName, anchorRate, 1.0));
    table.push('', `Python anchor (${anchorName}) on the same ${IRIS_ROWS}-row CSV: ${anchorRate} rows/s end to end (read ${run.read_s!.toFixed(2)} s, infer ${run.infer_s!.toFixed(2)} s, write ${run.write_s!.toFixed(2)} s); ours ${irisCsvPipelineRate} rows/s = ${(irisCsvPipelineRate / anchorRate).toFixed(2)}x (target 1.0).`);
  }

  const rss: Array<{ rows: number; rssMb: number; seconds: number }> = [];
  for (const rows of RSS_ROWS) {
    log(`peak RSS, ${rows} rows`);
    rss.push({ rows, ...peakRssMb(path.join(dataDir, `iris-${rows}.csv`)) });
  }
  for (const r of rss) results.push({ case: `iris CSV ${r.rows} rows/npm run score peak RSS`, metric: 'rss_mb', value: Number(r.rssMb.toFixed(1)), lower_is_better: true, target_ratio: 300, met: r.rssMb <= 300, note: `${r.seconds.toFixed(1)} s wall, ${Math.round(r.rows / r.seconds)} rows/s including start-up` });
  const growth = rss[1]!.rssMb / rss[0]!.rssMb;
  results.push({ case: 'iris CSV peak RSS large/small', metric: 'ratio', value: Number(growth.toFixed(3)), lower_is_better: true, target_ratio: 1.1, met: growth <= 1.1 });
  table.push('', ...rss.map((r) => `Peak RSS of \`npm run score\` on ${r.rows} iris CSV rows (${(statSync(path.join(dataDir, `iris-${r.rows}.csv`)).size / 2 ** 20).toFixed(0)} MiB): ${r.rssMb.toFixed(0)} MB, ${r.seconds.toFixed(1)} s wall with start-up.`), `Ratio ${growth.toFixed(3)} (target <= 1.1), ${rss.every((r) => r.rssMb <= 300) ? 'both <= 300 MB (met)' : 'over 300 MB (not met)'}.`);
  const written = writeBenchResults(quick ? 'batch-quick' : 'batch', results);
  log(`wrote ${written}`);
  console.log(`machine: ${describeMachine()}, load at end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  console.log(table.join('\n'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
