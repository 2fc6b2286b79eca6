import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildGeneratedMlp } from '../../layers/models/model-builders/generated-mlp';
import { mulberry32 } from '../../kernels/seeded-random/seeded-random';
import type { HostTensor } from '../../lib/protocol/tensor';

/** What the check runs, as the bundle (or the repository) describes it. */
export interface GpuCheckModels {
  /** The PP-OCRv4 detector as the models layer serves it. */
  readonly textDetector: { readonly file: string; readonly sha256: string };
  /** mlp-large is 63 MB of seeded random weights, which no compressor shrinks: the check makes it again from its seed and widths, and checks the bytes' sha256. */
  readonly mlpLarge: { readonly widths: readonly number[]; readonly seed: number; readonly sha256: string };
}

/** One model of the check: its file, its warm-up inputs (the model loader's defaults) and its batch-256 input. */
export interface CheckModel {
  readonly name: 'mlp-large' | 'text-detector';
  readonly path: string;
  readonly warmup: HostTensor[];
  readonly batch: (rows: number) => HostTensor;
}

export function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * The two models on disk under `workDir`: text-detector checked against its sha256, mlp-large
 * regenerated and checked against the sha256 it had when the bundle was built. A mismatch stops
 * the check: figures for another model would be figures for nothing.
 */
export function prepareCheckModels(models: GpuCheckModels, baseDir: string, workDir: string, imageSide: number): CheckModel[] {
  const detectorPath = resolve(baseDir, models.textDetector.file);
  const detector = readFileSync(detectorPath);
  if (sha256Of(detector) !== models.textDetector.sha256) throw new Error(`${detectorPath}: sha256 ${sha256Of(detector)}, expected ${models.textDetector.sha256}`);
  const mlp = buildGeneratedMlp({ name: 'mlp-large', seed: models.mlpLarge.seed, widths: models.mlpLarge.widths }).bytes;
  if (sha256Of(mlp) !== models.mlpLarge.sha256) throw new Error(`mlp-large regenerated with sha256 ${sha256Of(mlp)}, expected ${models.mlpLarge.sha256}: the generator differs from the bundle's`);
  const mlpPath = join(workDir, 'mlp-large.onnx');
  writeFileSync(mlpPath, mlp);
  const width = models.mlpLarge.widths[0]!;
  return [
    {
      name: 'mlp-large', path: mlpPath,
      warmup: [{ name: 'input', datatype: 'FP32', shape: [1, width], data: new Float32Array(width) }],
      batch: (rows) => seeded('input', [rows, width], 256),
    },
    {
      name: 'text-detector', path: detectorPath,
      warmup: [{ name: 'x', datatype: 'FP32', shape: [1, 3, 32, 32], data: new Float32Array(3 * 32 * 32) }],
      batch: (rows) => seeded('x', [rows, 3, imageSide, imageSide], 640),
    },
  ];
}

/** Uniform values in [-1, 1): roughly what a normalised image or a standardised feature vector holds. */
function seeded(name: string, shape: number[], seed: number): HostTensor {
  const random = mulberry32(seed);
  const data = new Float32Array(shape.reduce((n, d) => n * d, 1));
  for (let i = 0; i < data.length; i++) data[i] = random() * 2 - 1;
  return { name, datatype: 'FP32', shape, data };
}
