import { InvalidRequestError } from '../errors/hotpath-error';
import type { InputFormat } from './input-format';
import type { ByteRange } from './object-storage';

/** Step Functions Distributed Map runs at most 10,000 children at once. */
export const DISTRIBUTED_MAP_MAX_CHILDREN = 10_000;

/** How the planner cuts and where it sends a job; from the batch config (lib/config/serving-config.ts). */
export interface ShardSettings {
  /** Time kept back from the invocation's remaining time for the outputs' completion and the manifest (ms). */
  readonly reserveMs: number;
  /** How long one shard worker should score for (s): under the worker's timeout, with room for a slow start. */
  readonly shardTargetSeconds: number;
  /** At most this many shards (at most 10,000, Distributed Map's limit). */
  readonly maxShards: number;
  /**
   * Smallest shard, in input bytes: S3 joins the shards' outputs by server-side part copies,
   * and every part but the last must be 5 MiB or more; smaller outputs are joined in the
   * function, so shards are kept large enough that this stays rare.
   */
  readonly minShardBytes: number;
  /** Objects above this size go to the GPU task's batch mode (ECS RunTask); 0 turns the size rule off. */
  readonly gpuTaskAboveBytes: number;
}

export interface PlanInput {
  readonly objectBytes: number;
  readonly format: InputFormat;
  /** Bytes before the first row (CSV header line, NPY header); 0 for JSONL. */
  readonly dataStart: number;
  /** NPY only: bytes per row (the cuts fall on row boundaries exactly). */
  readonly npyRowBytes?: number;
  /** Rows per second this function scored on a sample of this object (the probe). */
  readonly measuredRowsPerSecond: number;
  /** Input bytes per row on that sample. */
  readonly measuredBytesPerRow: number;
  /** What is left of this invocation (ms), from Lambda's context. */
  readonly remainingMs: number;
  /** The model is one the manifest routes to the GPU tier (its routing hint covers batch scoring's batches). */
  readonly gpuModel: boolean;
  /** Whether the GPU task's batch mode is configured here; when not, a GPU rule that matched is the plan's `fallback` and the job is planned without it. Default true. */
  readonly gpuAvailable?: boolean;
  readonly settings: ShardSettings;
}

/** One shard: its bytes (rows whose first byte is in them) and, where the format says it without reading, its first row's number. */
export interface PlannedShard extends ByteRange {
  readonly index: number;
  readonly firstRow?: number;
}

export type ShardPlan = (
  | { readonly route: 'single'; readonly reason: string; readonly estimatedSeconds: number }
  | { readonly route: 'sharded'; readonly reason: string; readonly estimatedSeconds: number; readonly shards: readonly PlannedShard[] }
  | { readonly route: 'gpu-task'; readonly reason: string; readonly estimatedSeconds: number }
) & {
  /** A GPU rule matched but the GPU task is not configured here: why it would have gone there. */
  readonly fallback?: string;
};

/**
 * Where a batch job runs, from what this invocation measured: the whole object here when its
 * rows at the measured rate fit the remaining time (less the reserve); else cut into byte-range
 * shards for the Distributed Map, each about `shardTargetSeconds` of work and at least
 * `minShardBytes`; the GPU task instead when the model is marked GPU, the object is above
 * `gpuTaskAboveBytes`, or even `maxShards` shards would each overrun their time. Images are
 * one row: always here. The reason says which rule decided, with its numbers (it is logged).
 *
 * JSONL and CSV shards are byte cuts: a shard owns the rows whose first byte it holds
 * (lib/batch/line-ranges.ts), so a cut may fall anywhere; their first row numbers come from
 * `countShardRows`. NPY cuts fall on row boundaries, so their first rows are known here.
 *
 * @example
 * planShards({ objectBytes: 8e9, format: 'csv', dataStart: 60, measuredRowsPerSecond: 4e5,
 *   measuredBytesPerRow: 20, remainingMs: 880_000, gpuModel: false, settings });
 * // { route: 'sharded', shards: [{ index: 0, start: 60, end: ... }, ...], reason: '...' }
 */
export function planShards(input: PlanInput): ShardPlan {
  const { objectBytes, format, dataStart, settings } = input;
  checkInput(input);
  const dataBytes = Math.max(0, objectBytes - dataStart);
  const rows = format === 'npy' && input.npyRowBytes ? Math.floor(dataBytes / input.npyRowBytes) : dataBytes / input.measuredBytesPerRow;
  const estimatedSeconds = rows / input.measuredRowsPerSecond;
  const rate = `${Math.round(rows)} rows at ${Math.round(input.measuredRowsPerSecond)} rows/s measured = ${estimatedSeconds.toFixed(1)} s`;

  if (format === 'png' || format === 'jpeg') return { route: 'single', reason: `${format} image: one row`, estimatedSeconds };
  const gpuAvailable = input.gpuAvailable ?? true;
  const budgetSeconds = (input.remainingMs - settings.reserveMs) / 1000;
  const byTime = Math.ceil(estimatedSeconds / settings.shardTargetSeconds);
  const bySize = Math.max(1, Math.floor(dataBytes / settings.minShardBytes));
  const maxShards = Math.min(settings.maxShards, DISTRIBUTED_MAP_MAX_CHILDREN);
  const count = Math.max(2, Math.min(byTime, bySize, maxShards));
  const perShardSeconds = estimatedSeconds / count;
  const gpuReason = input.gpuModel
    ? `the model's manifest routes batches of its size to the GPU tier (${rate})`
    : settings.gpuTaskAboveBytes > 0 && objectBytes > settings.gpuTaskAboveBytes
      ? `${objectBytes} bytes is above the GPU task threshold of ${settings.gpuTaskAboveBytes} bytes (${rate})`
      : estimatedSeconds > budgetSeconds && perShardSeconds > settings.shardTargetSeconds * 1.5 && byTime > maxShards
        ? `${rate}: even ${maxShards} shards would take ${perShardSeconds.toFixed(1)} s each, over the ${settings.shardTargetSeconds} s a shard worker has`
        : undefined;
  if (gpuReason !== undefined && gpuAvailable) return { route: 'gpu-task', reason: gpuReason, estimatedSeconds };
  const fallback = gpuReason === undefined ? {} : { fallback: `${gpuReason}; the GPU task is not configured here` };
  if (estimatedSeconds <= budgetSeconds) {
    return { route: 'single', reason: `${rate}, within the ${budgetSeconds.toFixed(1)} s this invocation has left`, estimatedSeconds, ...fallback };
  }
  const shards = format === 'npy' && input.npyRowBytes ? npyCuts(dataStart, Math.floor(dataBytes / input.npyRowBytes), input.npyRowBytes, count) : byteCuts(dataStart, objectBytes, count);
  return {
    route: 'sharded',
    reason: `${rate}, over the ${budgetSeconds.toFixed(1)} s this invocation has left: ${shards.length} shards of ~${perShardSeconds.toFixed(1)} s (target ${settings.shardTargetSeconds} s, at least ${settings.minShardBytes} bytes each)`,
    estimatedSeconds,
    shards,
    ...fallback,
  };
}

function checkInput(input: PlanInput): void {
  for (const name of ['measuredRowsPerSecond', 'measuredBytesPerRow'] as const) {
    if (!(input[name] > 0) || !Number.isFinite(input[name])) throw new InvalidRequestError(`shard plan: '${name}' must be a positive number, got ${input[name]}`);
  }
  const { settings } = input;
  if (!(settings.shardTargetSeconds > 0)) throw new InvalidRequestError(`shard plan: 'shardTargetSeconds' must be positive, got ${settings.shardTargetSeconds}`);
  if (!(settings.minShardBytes > 0)) throw new InvalidRequestError(`shard plan: 'minShardBytes' must be positive, got ${settings.minShardBytes}`);
  if (!Number.isInteger(settings.maxShards) || settings.maxShards < 2) throw new InvalidRequestError(`shard plan: 'maxShards' must be an integer of at least 2, got ${settings.maxShards}`);
}

/** `count` nearly equal byte ranges covering `[dataStart, objectBytes)`. */
function byteCuts(dataStart: number, objectBytes: number, count: number): PlannedShard[] {
  const dataBytes = objectBytes - dataStart;
  return Array.from({ length: count }, (_, index) => ({
    index,
    start: dataStart + Math.floor((dataBytes * index) / count),
    end: index === count - 1 ? objectBytes : dataStart + Math.floor((dataBytes * (index + 1)) / count),
  }));
}

/** `count` ranges of whole rows; the last one runs to the end of the rows. */
function npyCuts(dataStart: number, rows: number, rowBytes: number, count: number): PlannedShard[] {
  return Array.from({ length: count }, (_, index) => {
    const firstRow = Math.floor((rows * index) / count);
    const endRow = Math.floor((rows * (index + 1)) / count);
    return { index, start: dataStart + firstRow * rowBytes, end: dataStart + endRow * rowBytes, firstRow };
  });
}
