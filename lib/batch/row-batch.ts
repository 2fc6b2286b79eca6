/** A row that could not be scored: its global row number (0-based, header excluded) and why. */
export interface RowFailure {
  readonly row: number;
  readonly reason: string;
}

/**
 * What a format reader hands the pipeline: up to one inference batch of parsed rows (their
 * global row numbers ascending, their ids where the file has them, their features row-major)
 * and the rows among them that failed to parse.
 */
export interface RowBatch {
  readonly rows: readonly number[];
  /** One per row where the format has ids (CSV id column, JSONL `id`); undefined otherwise. */
  readonly ids?: readonly (string | undefined)[];
  /** `rows.length * rowElements` values (the model input's per-row elements). */
  readonly values: Float32Array;
  /** Per-row shape after the batch dim (e.g. [4] or [3, 640, 480]). */
  readonly rowShape: readonly number[];
  readonly failures: readonly RowFailure[];
}

/** Busy time per stage in ms, added to by the readers (read, parse), the pipeline (infer) and the writer (write). */
export interface StageDurations {
  read: number;
  parse: number;
  infer: number;
  write: number;
}

export function newStageDurations(): StageDurations {
  return { read: 0, parse: 0, infer: 0, write: 0 };
}

/** What every reader reports as it goes (the progress bar's food). */
export interface ReadProgress {
  bytesRead: number;
}

/**
 * Collects parsed rows into batches of `batchSize` valid rows. Readers push one row (or one
 * failure) at a time and take the full batches out; `flush` gives the last, partial one.
 */
export class RowBatcher {
  private rows: number[] = [];
  private ids: (string | undefined)[] = [];
  private hasIds = false;
  private failures: RowFailure[] = [];
  private values: Float32Array;
  private readonly ready: RowBatch[] = [];

  constructor(private readonly batchSize: number, private readonly rowShape: readonly number[]) {
    this.values = new Float32Array(batchSize * rowElements(rowShape));
  }

  /** Where the next row's values go: write `rowElements` values at this offset of `valuesArray`, then call `commit`. */
  get valuesArray(): Float32Array {
    return this.values;
  }

  get nextOffset(): number {
    return this.rows.length * rowElements(this.rowShape);
  }

  commit(row: number, id?: string): void {
    this.rows.push(row);
    this.ids.push(id);
    if (id !== undefined) this.hasIds = true;
    if (this.rows.length === this.batchSize) this.seal();
  }

  fail(row: number, reason: string): void {
    this.failures.push({ row, reason });
    // A batch of only failures is sent on without waiting for valid rows, so memory stays bounded on a file of bad rows.
    if (this.failures.length >= this.batchSize) this.seal();
  }

  /** The batches filled so far (emptied by the call). */
  take(): RowBatch[] {
    return this.ready.splice(0, this.ready.length);
  }

  flush(): RowBatch[] {
    if (this.rows.length > 0 || this.failures.length > 0) this.seal();
    return this.take();
  }

  private seal(): void {
    const count = this.rows.length;
    this.ready.push({
      rows: this.rows,
      ids: this.hasIds ? this.ids : undefined,
      values: count === this.batchSize ? this.values : this.values.slice(0, count * rowElements(this.rowShape)),
      rowShape: this.rowShape,
      failures: this.failures,
    });
    this.rows = [];
    this.ids = [];
    this.hasIds = false;
    this.failures = [];
    this.values = new Float32Array(this.batchSize * rowElements(this.rowShape));
  }
}

export function rowElements(rowShape: readonly number[]): number {
  return rowShape.reduce((a, b) => a * b, 1);
}
