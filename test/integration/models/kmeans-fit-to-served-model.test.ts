import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KernelBackend } from '../../../lib/backends/kernel-backend';
import { fittedKmeansModels } from '../../../layers/models/model-builders/fitted-kmeans-models';

describe('kmeans-fit CLI to a served model version', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'hotpath-fit-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('fits a CSV of vectors and the models layer serves the centroids as the new version', async () => {
    // Prepare: three well-separated blobs of 8-D vectors, with a header line.
    let seed = 3;
    const noise = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 0.5;
    const lines = ['f0,f1,f2,f3,f4,f5,f6,f7'];
    for (let c = 0; c < 3; c++) for (let i = 0; i < 100; i++) lines.push(Array.from({ length: 8 }, () => (c * 10 + noise()).toFixed(4)).join(','));
    const csv = join(root, 'vectors.csv');
    writeFileSync(csv, lines.join('\n'));

    // Act: the CLI writes version 2 of 'blobs'; the layer build's spec reads it back.
    execFileSync(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'scripts/kmeans-fit.ts', csv, '--k', '3', '--name', 'blobs', '--version', '2', '--out', join(root, 'blobs', '2')], { stdio: 'pipe' });
    const [spec] = fittedKmeansModels(root);
    const built = await spec!.build();
    const session = await new KernelBackend().load({ name: 'blobs', version: '2', path: join(root, 'blobs', '2', spec!.file), bytes: built.bytes, inputs: spec!.manifest.inputs, outputs: spec!.manifest.outputs });
    const [labels] = await session.run([{ name: 'vectors', datatype: 'FP32', shape: [3, 8], data: Float32Array.from([0, 10, 20].flatMap((v) => new Array(8).fill(v))) }], ['label']);

    // Assess
    expect(spec).toMatchObject({ name: 'blobs', version: '2', platform: 'hotpath_kernel', file: 'blobs.centroids.npy' });
    expect(spec!.manifest.inputs).toEqual([{ name: 'vectors', datatype: 'FP32', shape: [-1, 8] }]);
    expect(new Set(labels!.data as Int32Array).size).toBe(3);
  });
});
