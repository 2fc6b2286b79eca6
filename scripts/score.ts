/**
 * `npm run score -- --model iris-classifier data.csv`: scores a local file with the batch
 * pipeline (lib/batch/score-object.ts) over the filesystem storage backend, writing what the S3
 * door writes (scores JSONL, row errors, manifest) under `--out` (default `scored/<model>/`
 * beside the file): `<out>/<file name>/etag-<etag>/`. A progress bar on stderr shows rows/s and the ETA;
 * the manifest is printed on stdout at the end. Exit code 0 when the run succeeded, 1 when its
 * manifest says failed, 2 for a usage error.
 *
 * Options: --model NAME (required), --version V, --out DIR, --batch-size N, --id-column NAME,
 * --rerun (score again over a failed manifest), --quiet (no progress bar).
 * Models and backends as the server: HOTPATH_BACKEND=native runs onnxruntime-node.
 *
 * @example
 * npm run score -- --model iris-classifier --out /tmp/scored data/iris.csv
 */
import { SingleBar } from 'cli-progress';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FilesystemObjectStorage } from '../lib/batch/filesystem-object-storage';
import { scoreObject, type BatchProgress } from '../lib/batch/score-object';
import { loadServingConfig } from '../lib/config/serving-config';
import { readModelManifest } from '../lib/models/model-manifest';
import { createServingRuntime } from '../lib/serving/serving-runtime';

const USAGE = 'usage: npm run score -- --model NAME [--version V] [--out DIR] [--batch-size N] [--id-column NAME] [--rerun] [--quiet] FILE';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: {
      model: { type: 'string' }, version: { type: 'string' }, out: { type: 'string' }, 'batch-size': { type: 'string' },
      'id-column': { type: 'string' }, rerun: { type: 'boolean' }, quiet: { type: 'boolean' },
    },
  });
  if (!values.model || positionals.length !== 1) {
    console.error(USAGE);
    return 2;
  }
  const batchSize = values['batch-size'] === undefined ? undefined : Number(values['batch-size']);
  if (batchSize !== undefined && !(Number.isInteger(batchSize) && batchSize > 0)) {
    console.error(`--batch-size: '${values['batch-size']}' is not a positive integer\n${USAGE}`);
    return 2;
  }
  const file = path.resolve(positionals[0]!);
  const input = new FilesystemObjectStorage(path.dirname(file));
  const output = new FilesystemObjectStorage(path.resolve(values.out ?? path.join(path.dirname(file), 'scored', values.model)));
  const config = loadServingConfig(process.env, {});
  // Load only the named model (when the manifest has it): an unknown name still ends in a failed manifest saying so.
  const known = (await readModelManifest(config.modelsDir)).models.some((m) => m.name === values.model);
  const quiet = { info() {}, warn: (message: string) => console.error(message), error: (message: string) => console.error(message) };
  const runtime = await createServingRuntime(loadServingConfig(process.env, { models: known ? [values.model] : [] }), quiet);
  const bar = values.quiet ? undefined : new SingleBar({
    format: 'scoring [{bar}] {percentage}% | {rows} rows | {rate} rows/s | ETA {etaText}',
    hideCursor: true,
    etaBuffer: 50,
  });
  const started = performance.now();
  let lastDrawn = 0;
  const onProgress = (progress: BatchProgress) => {
    if (!bar) return;
    const now = performance.now();
    if (barStarted && now - lastDrawn < 100) return; // redrawn at most 10 times a second
    lastDrawn = now;
    const rows = progress.rowsScored + progress.rowsFailed;
    const seconds = (now - started) / 1000;
    // ETA from bytes (the only total known before the end) at the rate so far; bytes arrive in 1 MiB reads.
    const etaSeconds = progress.bytesRead > 0 ? ((progress.bytesTotal - progress.bytesRead) * seconds) / progress.bytesRead : undefined;
    const payload = { rows, rate: Math.round(rows / Math.max(seconds, 1e-3)), etaText: etaSeconds === undefined ? '-' : `${Math.ceil(etaSeconds)}s` };
    if (!barStarted) {
      bar.start(Math.max(1, progress.bytesTotal), 0, payload);
      barStarted = true;
    }
    bar.update(progress.bytesRead, payload);
  };
  let barStarted = false;
  try {
    const { manifest, duplicate } = await scoreObject(
      { core: runtime, storage: input, outputStorage: output },
      { key: path.basename(file), model: values.model, version: values.version, outputPrefix: '', batchSize, idColumn: values['id-column'], rerunFailed: values.rerun, onProgress },
    );
    if (barStarted && bar) {
      const seconds = (performance.now() - started) / 1000;
      bar.update(bar.getTotal(), { rows: manifest.rows.in, rate: Math.round(manifest.rows.in / Math.max(seconds, 1e-3)), etaText: '0s' });
      bar.stop();
    }
    if (duplicate) console.error(`already scored (this file's manifest was there; --rerun scores a failed one again)`);
    console.log(JSON.stringify(manifest, null, 2));
    if (manifest.status === 'failed') console.error(`failed: ${manifest.reason}`);
    return manifest.status === 'succeeded' ? 0 : 1;
  } finally {
    await runtime.registry.dispose();
  }
}

main().then((code) => process.exit(code), (error: unknown) => {
  console.error(error);
  process.exit(1);
});
