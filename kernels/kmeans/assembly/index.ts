// k-means family: the Lloyd step (fused nearest-centroid assignment shared with the distances
// family, then per-cluster sums) and the k-means++ potential. Pointer + length arguments only;
// the TypeScript bindings (kernels/kmeans/kmeans-kernels.ts) check every argument.
export { squaredRowNorms } from '../../distances/assembly/row-norms';
export { packCentroids, padVector } from '../../distances/assembly/centroid-packing';
export { assignNearest } from '../../distances/assembly/nearest-assignment';
export { accumulateClusterSums } from './cluster-sums';
export { minDistancePotential } from './min-distance-update';
