/** One batch size of the routing phase: the median time of one request on each route. */
export interface RoutePoint {
  readonly rows: number;
  readonly localMs: number;
  readonly remoteMs: number;
}

/** How the measured crossover compares with the router's threshold. */
export interface CrossoverComparison {
  /**
   * Fewest rows at which the remote route is faster and stays faster at every larger size
   * measured, interpolated between the two sizes around the switch; 1 when remote is faster
   * from one row, Infinity when it never is up to the largest size measured.
   */
  readonly measuredRows: number;
  /** Fewest rows the router sends remote (threshold + 1); Infinity when none up to the largest size measured. */
  readonly routerRows: number;
  /** max(a/b, b/a) of the two; 1 when both are Infinity, Infinity when only one is. */
  readonly factor: number;
  readonly withinFactor2: boolean;
}

/**
 * The measured crossover from the points (ascending rows): the remote route's time minus the
 * local one's is a straight line in the rows between two measured sizes, so the switch is
 * placed where that line crosses 0.
 */
export function measuredCrossover(points: readonly RoutePoint[]): number {
  if (points.length === 0) throw new Error('crossover of no points');
  let first = points.length;
  while (first > 0 && points[first - 1]!.remoteMs <= points[first - 1]!.localMs) first--;
  if (first === points.length) return Infinity;
  if (first === 0) return 1;
  const a = points[first - 1]!;
  const b = points[first]!;
  const da = a.remoteMs - a.localMs;
  const db = b.remoteMs - b.localMs;
  return a.rows + ((b.rows - a.rows) * da) / (da - db);
}

/**
 * Compares the measured crossover with the router's threshold (requests of more rows go
 * remote). A threshold at or past the largest size measured sends nothing remote there: it
 * agrees with a crossover that was not reached.
 */
export function compareCrossover(points: readonly RoutePoint[], threshold: number): CrossoverComparison {
  const largest = points[points.length - 1]!.rows;
  const measuredRows = measuredCrossover(points);
  const routerRows = threshold >= largest ? Infinity : threshold + 1;
  let factor: number;
  if (measuredRows === Infinity && routerRows === Infinity) factor = 1;
  else if (measuredRows === Infinity || routerRows === Infinity) factor = Infinity;
  else factor = Math.max(measuredRows / routerRows, routerRows / measuredRows);
  return { measuredRows, routerRows, factor, withinFactor2: factor <= 2 };
}

/** Batch sizes 1, 2, 4, ... up to min(limit, maxBatch), and maxBatch itself when it is not a power of two. */
export function routingBatchSizes(maxBatch: number, limit = 1024): number[] {
  const top = Math.min(limit, maxBatch);
  const sizes: number[] = [];
  for (let n = 1; n <= top; n *= 2) sizes.push(n);
  if (sizes[sizes.length - 1] !== top) sizes.push(top);
  return sizes;
}
