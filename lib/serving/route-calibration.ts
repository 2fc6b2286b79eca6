import type { ManifestModel } from '../models/model-manifest-types';
import { allocateNumeric, isFloatDatatype } from '../protocol/datatypes';
import { elementCount, type HostTensor } from '../protocol/tensor';

/**
 * Time of one run as a straight line in the work it does: `fixedMs` (dispatch, encoding, the
 * round trip) plus `perElementMs` for each element of the model's first input. Elements rather
 * than rows, so that a text-detector image 20× the calibration's area is estimated 20× dearer;
 * for models whose rows have a fixed width (the MLPs, iris) it is the same as per row.
 */
export interface LinearCost {
  readonly fixedMs: number;
  readonly perElementMs: number;
  /** Elements per row of the first input in the calibration runs. */
  readonly elementsPerRow: number;
}

/**
 * Runs a route measures: the first is not timed (connection set-up, V8 tier-up), the median of the rest is.
 * 7, not 3: with 3, bench:gpu-task saw mlp-large's threshold come out 0, 10, 12 and 7 rows across
 * four start-ups at load ~5 (measured crossover 16); the 4 extra runs cost a few ms at INIT.
 */
const TIMED_RUNS = 7;
/** Largest batch a calibration runs: enough rows for the per-row slope to stand out of the noise, little INIT time. */
const CALIBRATION_ROWS = 64;

/** Estimated ms of a run on this route for inputs whose first input has `elements` elements. */
export function estimateMs(cost: LinearCost, elements: number): number {
  return cost.fixedMs + cost.perElementMs * elements;
}

/**
 * The batch size above which the remote route is faster: remote pays when
 * `fR + cR·n < fL + cL·n`, i.e. for `n > (fR − fL) / (cL − cR)` rows (per-row costs at the
 * calibration's row width). 0 when the remote is faster even for one row, Infinity when its
 * per-row cost is no lower than the local one (it never catches up).
 */
export function crossoverRows(local: LinearCost, remote: LinearCost): number {
  const localPerRow = local.perElementMs * local.elementsPerRow;
  const remotePerRow = remote.perElementMs * remote.elementsPerRow;
  if (remote.fixedMs + remotePerRow <= local.fixedMs + localPerRow) return 0;
  if (remotePerRow >= localPerRow) return Infinity;
  return Math.floor((remote.fixedMs - local.fixedMs) / (localPerRow - remotePerRow));
}

/** Rows of the larger calibration run for a model; under 2 the model has no batch to route by. */
export function calibrationRows(model: ManifestModel): number {
  return Math.min(model.maxBatchSize, CALIBRATION_ROWS);
}

/**
 * Fits a LinearCost from the median time of `run` at 1 row and at `calibrationRows(model)`
 * rows, on inputs shaped as the model's warm-up (variable dims other than the batch are 32, or
 * the manifest's warmupShapes) and filled with a ramp (floats) or the warm-up fill.
 */
export async function measureCost(model: ManifestModel, run: (inputs: HostTensor[]) => Promise<unknown>, now: () => number = () => performance.now()): Promise<LinearCost> {
  const large = calibrationRows(model);
  const small = calibrationInputs(model, 1);
  const big = calibrationInputs(model, large);
  const smallMs = await medianMs(() => run(small), now);
  const largeMs = await medianMs(() => run(big), now);
  const smallElements = elementCount(small[0]!.shape);
  const largeElements = elementCount(big[0]!.shape);
  const perElementMs = Math.max(0, (largeMs - smallMs) / (largeElements - smallElements));
  return { fixedMs: Math.max(0, smallMs - perElementMs * smallElements), perElementMs, elementsPerRow: smallElements };
}

async function medianMs(run: () => Promise<unknown>, now: () => number): Promise<number> {
  await run();
  const times: number[] = [];
  for (let i = 0; i < TIMED_RUNS; i++) {
    const started = now();
    await run();
    times.push(now() - started);
  }
  return times.sort((a, b) => a - b)[Math.floor(TIMED_RUNS / 2)]!;
}

/** The warm-up's inputs with `rows` in every batched (declared -1) first dim. */
export function calibrationInputs(model: ManifestModel, rows: number): HostTensor[] {
  return model.inputs.map((signature) => {
    const base = model.warmupShapes?.[signature.name] ?? signature.shape.map((d, i) => (d === -1 ? (i === 0 ? 1 : 32) : d));
    const shape = base.map((d, i) => (i === 0 && signature.shape[0] === -1 ? rows : d));
    const count = elementCount(shape);
    if (signature.datatype === 'BYTES') return { name: signature.name, datatype: 'BYTES', shape, data: Array.from({ length: count }, () => new Uint8Array(0)) };
    const data = allocateNumeric(signature.datatype, count);
    const fill = model.warmupFill?.[signature.name];
    if (fill !== undefined) (data as { fill(v: number | bigint): unknown }).fill(data instanceof BigInt64Array || data instanceof BigUint64Array ? BigInt(fill) : fill);
    else if (isFloatDatatype(signature.datatype) && signature.datatype !== 'FP16') for (let i = 0; i < count; i++) data[i] = (i % 97) / 97;
    return { name: signature.name, datatype: signature.datatype, shape, data };
  });
}
