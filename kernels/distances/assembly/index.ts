// Distances family: distance matrices (squared L2, inner product, cosine), nearest-centroid
// assignment, top-k per row. Pointer + length arguments only; arguments are checked by the
// TypeScript bindings (kernels/distances/distances-kernels.ts), never here.
export { squaredRowNorms, inverseSqrtNorms } from './row-norms';
export { packCentroids, padVector } from './centroid-packing';
export { distanceMatrix } from './distance-matrix';
export { assignNearest } from './nearest-assignment';
export { topKRows } from './top-k-rows';
