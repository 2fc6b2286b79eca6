// Fits k-means on a file of vectors (.npy float32/float64 [N, D], or CSV with one vector per line
// and an optional header) and writes the centroids as a new version of a `kmeans-assign` kernel
// model: <out>/<name>.centroids.npy plus fit-report.json. The next `npm run build:layers` puts it in
// the models layer's manifest (layers/models/model-builders/fitted-kmeans-models.ts); the manifest
// entry is printed too.
//
//   npx tsx scripts/kmeans-fit.ts vectors.npy --k 32 --name product-clusters [--version 3]
//     [--out layers/models/kernels/<name>/<version>/] [--seed 0] [--max-iterations 300]
//     [--tolerance 1e-4] [--threads 1]
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fitKMeans } from '../kernels/kmeans/kmeans-kernels';
import { readNpy, writeNpy } from '../kernels/runtime/npy-file-format';

const MODELS_DIR = resolve(__dirname, '..', 'layers', 'models');

/** Rows of a CSV of numbers; a first line that is not numeric is taken as a header. */
function readCsv(text: string): { rows: number; d: number; data: Float32Array } {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length > 0 && lines[0]!.split(',').some((f) => Number.isNaN(Number(f)))) lines.shift();
  const d = lines[0]?.split(',').length ?? 0;
  const data = new Float32Array(lines.length * d);
  lines.forEach((line, i) => {
    const fields = line.split(',');
    if (fields.length !== d) throw new Error(`CSV line ${i + 1}: expected ${d} values, got ${fields.length}`);
    fields.forEach((f, j) => {
      const v = Number(f);
      if (f.trim() === '' || !Number.isFinite(v)) throw new Error(`CSV line ${i + 1}, column ${j + 1}: '${f}' is not a finite number`);
      data[i * d + j] = v;
    });
  });
  return { rows: lines.length, d, data };
}

function readVectors(path: string): { rows: number; d: number; data: Float32Array } {
  const bytes = readFileSync(path);
  if (path.endsWith('.npy')) {
    const { shape, data } = readNpy(bytes);
    if (shape.length !== 2) throw new Error(`${path}: expected a 2-D array [N, D], got shape (${shape.join(', ')})`);
    return { rows: shape[0]!, d: shape[1]!, data };
  }
  return readCsv(bytes.toString('utf8'));
}

/** One past the largest integer version folder under layers/models/kernels/<name>/ (1 when none). */
function nextVersion(name: string): string {
  const dir = join(MODELS_DIR, 'kernels', name);
  const versions = existsSync(dir) ? readdirSync(dir).map(Number).filter(Number.isInteger) : [];
  return String(Math.max(0, ...versions) + 1);
}

function progressBar(done: number, total: number, text: string): void {
  const width = 30;
  const filled = Math.round((done / total) * width);
  process.stderr.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${text}   `);
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      k: { type: 'string' }, name: { type: 'string' }, version: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string', default: '0' },
      'max-iterations': { type: 'string', default: '300' }, tolerance: { type: 'string', default: '1e-4' }, threads: { type: 'string', default: '1' },
    },
  });
  const input = positionals[0];
  if (!input || !values.k || !values.name) {
    throw new Error('usage: kmeans-fit <vectors.npy|vectors.csv> --k K --name NAME [--version V] [--out DIR] [--seed S] [--max-iterations N] [--tolerance T] [--threads T]');
  }
  if (!/^[a-z0-9][a-z0-9._-]*$/i.test(values.name)) throw new Error(`--name '${values.name}': use letters, digits, '.', '_' or '-'`);
  const k = Number(values.k);
  const maxIterations = Number(values['max-iterations']);
  const version = values.version ?? nextVersion(values.name);
  const outDir = resolve(values.out ?? join(MODELS_DIR, 'kernels', values.name, version));
  const { rows, d, data } = readVectors(input);
  process.stderr.write(`kmeans-fit: ${rows} vectors of ${d} dims from ${input}, k = ${k}\n`);
  const started = performance.now();
  const result = fitKMeans(data, d, {
    k, seed: Number(values.seed), maxIterations, tolerance: Number(values.tolerance), threads: Number(values.threads),
    onIteration: ({ iteration, shift }) => progressBar(iteration, maxIterations, `shift ${shift.toExponential(2)}`),
  });
  progressBar(result.iterations, result.iterations, result.converged ? 'converged' : 'stopped at --max-iterations');
  process.stderr.write('\n');
  mkdirSync(outDir, { recursive: true });
  const file = `${values.name}.centroids.npy`;
  const artifact = writeNpy(result.centroids, [k, d]);
  writeFileSync(join(outDir, file), artifact);
  const report = {
    input, rows, d, k, seed: Number(values.seed), iterations: result.iterations, converged: result.converged,
    inertia: result.inertia, emptyClustersRepaired: result.emptyClustersRepaired, seconds: (performance.now() - started) / 1000,
  };
  writeFileSync(join(outDir, 'fit-report.json'), `${JSON.stringify(report, null, 2)}\n`);
  const manifestEntry = {
    name: values.name, version, platform: 'hotpath_kernel', file: relative(MODELS_DIR, join(outDir, file)),
    sha256: createHash('sha256').update(artifact).digest('hex'), bytes: artifact.length,
    inputs: [{ name: 'vectors', datatype: 'FP32', shape: [-1, d] }],
    outputs: [{ name: 'label', datatype: 'INT32', shape: [-1] }, { name: 'distance', datatype: 'FP32', shape: [-1] }],
    maxBatchSize: 65536, description: `k-means assignment to ${k} centroids (squared L2)`,
    metrics: { inertia: result.inertia, iterations: result.iterations, trainingRows: rows },
  };
  process.stderr.write(`kmeans-fit: wrote ${join(outDir, file)} (inertia ${result.inertia.toFixed(4)}, ${result.iterations} iterations); run npm run build:layers to serve it as ${values.name} version ${version}\n`);
  process.stdout.write(`${JSON.stringify(manifestEntry, null, 2)}\n`);
}

try {
  main();
  process.exit(0);
} catch (error) {
  process.stderr.write(`kmeans-fit: ${(error as Error).message}\n`);
  process.exit(1);
}
