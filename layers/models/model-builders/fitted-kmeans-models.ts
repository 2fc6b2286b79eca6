import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelArtifactSpec } from '../model-artifact-spec';

/** Where `scripts/kmeans-fit.ts` writes fitted models: `<name>/<version>/<name>.centroids.npy` + `fit-report.json`. */
export const FITTED_KMEANS_DIR = join(__dirname, '..', 'kernels');

interface FitReport {
  readonly rows: number;
  readonly d: number;
  readonly k: number;
  readonly inertia: number;
  readonly iterations: number;
  readonly input?: string;
}

/**
 * Every k-means model fitted with `scripts/kmeans-fit.ts`, one spec per version folder, so a
 * fit becomes a served model version at the next `npm run build:layers` with no hand edit.
 */
export function fittedKmeansModels(root = FITTED_KMEANS_DIR): ModelArtifactSpec[] {
  if (!existsSync(root)) return [];
  const specs: ModelArtifactSpec[] = [];
  const folders = (dir: string) => readdirSync(dir).filter((entry) => statSync(join(dir, entry)).isDirectory());
  for (const name of folders(root).sort()) {
    const nameDir = join(root, name);
    for (const version of folders(nameDir).sort((a, b) => Number(a) - Number(b))) {
      const dir = join(nameDir, version);
      const file = `${name}.centroids.npy`;
      const reportPath = join(dir, 'fit-report.json');
      if (!existsSync(join(dir, file)) || !existsSync(reportPath)) continue;
      const report = JSON.parse(readFileSync(reportPath, 'utf8')) as FitReport;
      specs.push({
        name,
        version,
        platform: 'hotpath_kernel',
        file,
        fingerprint: { sourceFiles: [__filename, join(dir, file), reportPath] },
        build: () => ({ bytes: readFileSync(join(dir, file)) }),
        manifest: {
          inputs: [{ name: 'vectors', datatype: 'FP32', shape: [-1, report.d] }],
          outputs: [
            { name: 'label', datatype: 'INT32', shape: [-1] },
            { name: 'distance', datatype: 'FP32', shape: [-1] },
          ],
          maxBatchSize: 65536,
          serveByDefault: true,
          description: `k-means assignment to ${report.k} centroids (squared L2), fitted by scripts/kmeans-fit.ts on ${report.rows} vectors`,
          source: { origin: `fitted by scripts/kmeans-fit.ts${report.input ? ` from ${report.input}` : ''}`, license: 'as the training data' },
          finiteInputs: ['vectors'],
          metrics: { clusters: report.k, inertia: report.inertia, iterations: report.iterations, trainingRows: report.rows },
        },
      });
    }
  }
  return specs;
}
