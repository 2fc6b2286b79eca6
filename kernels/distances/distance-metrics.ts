import { checkInteger, KernelArgumentError } from '../kernel-arguments/kernel-argument-checks';

/** Metrics the distance kernels compute, and how each ranks (for top-k and nearest-neighbour search). */
export const DISTANCE_METRICS = ['squared-l2', 'inner-product', 'cosine'] as const;
export type DistanceMetric = (typeof DISTANCE_METRICS)[number];

/** Kernel code of each metric (kernels/distances/assembly/distance-matrix.ts). */
export const METRIC_CODE: Readonly<Record<DistanceMetric, number>> = { 'squared-l2': 0, 'inner-product': 1, cosine: 2 };

/**
 * Whether a larger value is nearer: true for the inner product (a similarity), false for
 * squared L2 and cosine distance (1 − cos; 1 when either vector is zero).
 */
export function largerIsNearer(metric: DistanceMetric): boolean {
  return metric === 'inner-product';
}

/** Throws unless `metric` is one of DISTANCE_METRICS. */
export function checkMetric(metric: string): DistanceMetric {
  if (!(DISTANCE_METRICS as readonly string[]).includes(metric)) {
    throw new KernelArgumentError(`'metric' must be one of ${DISTANCE_METRICS.join(', ')}, got '${metric}'`);
  }
  return metric as DistanceMetric;
}

/** Rows of a row-major matrix with `d` columns held in `data`; throws when the length is not a multiple of d. */
export function rowCount(name: string, data: ArrayLike<number>, d: number): number {
  checkInteger('d', d, 1);
  if (data.length % d !== 0) throw new KernelArgumentError(`'${name}': length ${data.length} is not a multiple of d = ${d}`);
  return data.length / d;
}
