import type { InputFormat } from './input-format';
import type { ByteRange } from './object-storage';

/**
 * What a run wrote last, atomically (`putIfAbsent`): what was scored, by what, with what result.
 * `rows.in = rows.scored + rows.failed` always; on a failed run they count what was read before
 * the failure, and `outputs` is null (the scores and row errors are not kept), except when
 * every row failed: then the row-errors file is kept and named.
 */
export interface BatchManifest {
  readonly schemaVersion: 1;
  readonly status: 'succeeded' | 'failed';
  /** Failed runs: what happened and what to fix. */
  readonly reason?: string;
  /** Failed runs: whether the same input may succeed on a later run (storage or service trouble) rather than never (the input's fault). */
  readonly retryable?: boolean;
  readonly input: {
    readonly key: string;
    readonly etag?: string;
    readonly versionId?: string;
    readonly size?: number;
    readonly format?: InputFormat;
    /** Shards: the byte range this run owned, and its first row's global number. */
    readonly range?: ByteRange;
    readonly firstRow?: number;
  };
  readonly model: { readonly name: string; readonly version?: string };
  /** The route(s) inference took (`local-wasm`, `local-native`, `remote`...), comma-separated when a run used several. */
  readonly route?: string;
  readonly batchSize?: number;
  readonly rows: { readonly in: number; readonly scored: number; readonly failed: number };
  readonly outputs: { readonly scores?: string; readonly rowErrors: string } | null;
  /**
   * ms, each net of the others, so they add up to about `total`: read, the pipeline waiting for
   * the object's bytes; parse, turning bytes into features; infer, the model (through `infer()`);
   * write, encoding the outputs and waiting for the storage to take them. A job whose read or
   * write dominates is I/O-bound: faster compute does nothing for it.
   */
  readonly durationsMs: { readonly read: number; readonly parse: number; readonly infer: number; readonly write: number; readonly total: number };
  readonly storage: string;
  readonly startedAt: string;
  readonly finishedAt: string;
}
