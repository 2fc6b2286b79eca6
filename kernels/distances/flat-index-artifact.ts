import { KernelArgumentError } from '../kernel-arguments/kernel-argument-checks';
import { DISTANCE_METRICS, METRIC_CODE, type DistanceMetric } from './distance-metrics';

/**
 * The nearest-neighbour index artifact (`*.flat-index.bin`): a 32-byte little-endian header
 * then the index vectors as float32, row-major.
 *
 * | bytes | field |
 * | 0–7   | magic `HPFLAT01` |
 * | 8–11  | metric code (0 squared-l2, 1 inner-product, 2 cosine) |
 * | 12–15 | rows |
 * | 16–19 | d |
 * | 20–23 | default k (results per query when the request gives none) |
 * | 24–31 | reserved, 0 |
 */
export const FLAT_INDEX_MAGIC = 'HPFLAT01';
const HEADER_BYTES = 32;

export interface FlatIndexArtifact {
  readonly metric: DistanceMetric;
  readonly rows: number;
  readonly d: number;
  readonly defaultK: number;
  readonly vectors: Float32Array;
}

export function encodeFlatIndex(artifact: FlatIndexArtifact): Uint8Array {
  const { metric, rows, d, defaultK, vectors } = artifact;
  if (vectors.length !== rows * d) throw new KernelArgumentError(`flat index: 'vectors' must hold rows × d = ${rows * d} floats, got ${vectors.length}`);
  const out = new Uint8Array(HEADER_BYTES + vectors.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) out[i] = FLAT_INDEX_MAGIC.charCodeAt(i);
  view.setUint32(8, METRIC_CODE[metric], true);
  view.setUint32(12, rows, true);
  view.setUint32(16, d, true);
  view.setUint32(20, defaultK, true);
  for (let i = 0; i < vectors.length; i++) view.setFloat32(HEADER_BYTES + 4 * i, vectors[i]!, true);
  return out;
}

export function decodeFlatIndex(bytes: Uint8Array): FlatIndexArtifact {
  const magic = String.fromCharCode(...bytes.subarray(0, 8));
  if (bytes.length < HEADER_BYTES || magic !== FLAT_INDEX_MAGIC) throw new KernelArgumentError(`flat index: bad magic '${magic}', expected '${FLAT_INDEX_MAGIC}'`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const code = view.getUint32(8, true);
  const metric = DISTANCE_METRICS.find((m) => METRIC_CODE[m] === code);
  if (!metric) throw new KernelArgumentError(`flat index: unknown metric code ${code}`);
  const rows = view.getUint32(12, true);
  const d = view.getUint32(16, true);
  const defaultK = view.getUint32(20, true);
  if (rows < 1 || d < 1) throw new KernelArgumentError(`flat index: rows and d must be ≥ 1, got ${rows} × ${d}`);
  if (bytes.length !== HEADER_BYTES + rows * d * 4) throw new KernelArgumentError(`flat index: expected ${HEADER_BYTES + rows * d * 4} bytes for ${rows} × ${d}, got ${bytes.length}`);
  const vectors = new Float32Array(rows * d);
  for (let i = 0; i < vectors.length; i++) vectors[i] = view.getFloat32(HEADER_BYTES + 4 * i, true);
  return { metric, rows, d, defaultK: Math.max(1, Math.min(defaultK || 10, rows)), vectors };
}
