// k-means family: the Lloyd step (exact bounded nearest-centroid assignment: Yinyang group bounds
// below 256 dimensions, Hamerly + Elkan bounds from there, with the blocked
// search shared with the distances family, incremental per-cluster sums) and the k-means++
// potential. Pointer + length arguments only; the TypeScript bindings
// (kernels/kmeans/kmeans-kernels.ts) check every argument.
export { squaredRowNorms } from '../../distances/assembly/row-norms';
export { packCentroids, padVector } from '../../distances/assembly/centroid-packing';
export { assignNearest } from '../../distances/assembly/nearest-assignment';
export { accumulateClusterSums, moveClusterSums } from './cluster-sums';
export { boundedAssign, halfCentroidDistances, ownCentroidDistances } from './bounded-assignment';
export { groupedAssign } from './grouped-assignment';
export { minDistancePotential } from './min-distance-update';
