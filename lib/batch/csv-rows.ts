import { parse } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import { BatchInputError } from './batch-errors';
import type { BatchModelInput } from './batch-model-input';
import { openSourceRange, readSourceBytes, type InputSource } from './input-source';
import { lineRowBoundaries, ownedLineBytes } from './line-ranges';
import { RowBatcher, type RowBatch } from './row-batch';
import { parseFeature, shortDecimal } from './feature-values';

/** A record with quoted fields longer than this is parsed as it stands (an unclosed quote fails it) rather than buffered on. */
const MAX_QUOTED_RECORD_CHARS = 1 << 20;

/** The header line is looked for in the object's first MiB. */
const HEADER_SEARCH_BYTES = 1 << 20;

export interface CsvOptions {
  /** Name of the id column (case-insensitive); default `id`. Absent from the header: rows have no ids. */
  readonly idColumn?: string;
  /**
   * Default true: lines without a quote, while csv-parse is between records, are split on commas
   * here instead of going through csv-parse (same rows, same failures: tested against csv-parse
   * alone on the same files); csv-parse takes every other line. False: csv-parse takes every line
   * (what the fast path is measured against in `npm run bench:batch`).
   */
  readonly numericFastPath?: boolean;
}

/** The header's meaning for a model: which column is the id, which are the features (in model order). */
export interface CsvColumns {
  readonly idIndex: number;
  readonly featureIndexes: readonly number[];
  readonly columnCount: number;
}

/**
 * Checks a CSV header against the model's input: every column but the id column is a feature,
 * in the model's order, and their count is the model's feature count.
 */
export function csvColumns(header: readonly string[], input: Extract<BatchModelInput, { kind: 'table' }>, idColumn = 'id'): CsvColumns {
  const names = header.map((name) => name.trim());
  const idIndex = names.findIndex((name) => name.toLowerCase() === idColumn.toLowerCase());
  const featureIndexes = names.map((_, i) => i).filter((i) => i !== idIndex);
  if (featureIndexes.length !== input.features) {
    throw new BatchInputError(
      `CSV header has ${featureIndexes.length} feature column(s) (${featureIndexes.map((i) => names[i]).join(', ') || 'none'})` +
        `${idIndex >= 0 ? ` besides the id column '${names[idIndex]}'` : ''}; input '${input.name}' takes ${input.features} features per row: ` +
        `give exactly ${input.features} numeric columns${idIndex >= 0 ? '' : ` and optionally an '${idColumn}' column`}`,
    );
  }
  return { idIndex, featureIndexes, columnCount: names.length };
}

/**
 * Rows of a CSV file with a header (RFC 4180, by csv-parse's streaming parser), in batches of
 * `batchSize` valid rows. A row whose column count, quoting or numbers are wrong fails alone.
 * A ranged read takes the header from the object's start and its rows by `ownedLineBytes`'s rule.
 */
export async function* readCsvRows(
  source: InputSource, input: Extract<BatchModelInput, { kind: 'table' }>, batchSize: number, options: CsvOptions = {},
): AsyncGenerator<RowBatch> {
  const { head, durations } = source;
  if (head.size === 0) throw new BatchInputError(`object '${head.key}' is empty: a CSV needs a header line and rows`);
  const ranged = source.range !== undefined && source.range.start > 0;
  let columns: CsvColumns | undefined;
  let dataStart = 0;
  if (ranged) {
    const headerBytes = await readSourceBytes(source, { start: 0, end: Math.min(head.size, HEADER_SEARCH_BYTES) });
    const newline = headerBytes.indexOf(0x0a);
    if (newline < 0) throw new BatchInputError(`object '${head.key}': no header line ending in its first ${HEADER_SEARCH_BYTES} bytes`);
    dataStart = newline + 1;
    const started = performance.now();
    const [header] = parseSync(headerBytes.subarray(0, dataStart), { bom: true, relax_column_count: true }) as string[][];
    columns = csvColumns(header ?? [], input, options.idColumn);
    durations.parse += performance.now() - started;
  }
  const ownStart = Math.max(source.range?.start ?? 0, dataStart);
  const ownEnd = Math.min(source.range?.end ?? head.size, head.size);
  let row = source.firstRow ?? 0;
  if (ranged && source.firstRow === undefined) {
    const [boundary] = await lineRowBoundaries(await openSourceRange(source, { start: dataStart, end: head.size }), dataStart, [ownStart]);
    row = boundary!.row;
  }
  if (ranged && ownStart >= ownEnd) return;
  const readStart = ranged && ownStart > dataStart ? ownStart - 1 : ownStart;
  const bytes = ownedLineBytes(await openSourceRange(source, { start: readStart, end: head.size }), readStart, ownStart, source.range ? ownEnd : Infinity, durations, source.progress);

  const batcher = new RowBatcher(batchSize, [input.features]);
  let headerSeen = ranged;
  let failure: unknown;
  const onSkip = (error: Error) => {
    if (!headerSeen) {
      failure = new BatchInputError(`CSV header of '${head.key}' cannot be parsed: ${withoutLine(error.message)}`);
      headerSeen = true;
      return;
    }
    batcher.fail(row++, withoutLine(error.message));
  };
  const onRecord = (record: string[]): null => {
    if (!headerSeen) {
      headerSeen = true;
      // Not thrown: csv-parse would turn it into a stream error emitted later.
      try {
        columns = csvColumns(record, input, options.idColumn);
      } catch (error) {
        failure = error;
      }
      return null;
    }
    if (failure) return null;
    addRow(record, row++);
    return null;
  };
  const addRow = (record: string[], rowNumber: number) => {
    const { featureIndexes, idIndex, columnCount } = columns!;
    if (record.length !== columnCount) {
      batcher.fail(rowNumber, `expected ${columnCount} columns as the header has, got ${record.length}`);
      return;
    }
    const values = batcher.valuesArray;
    const offset = batcher.nextOffset;
    for (let f = 0; f < featureIndexes.length; f++) {
      const cell = record[featureIndexes[f]!]!;
      const value = parseFeature(cell);
      if (value === undefined) {
        batcher.fail(rowNumber, `column ${featureIndexes[f]! + 1}: '${cell.length > 40 ? `${cell.slice(0, 40)}...` : cell}' is not a finite number`);
        return;
      }
      values[offset + f] = value;
    }
    batcher.commit(rowNumber, idIndex >= 0 ? record[idIndex] : undefined);
  };
  /** Per column: the feature slot it fills, or -1 for the id column. */
  let slots: Int32Array | undefined;
  /**
   * A quote-free line's row read in place (no cell strings): every feature cell of the fast
   * decimal form is stored as parseFeature would; a line with another cell, or another column
   * count, goes through addRow whole (the same values, or the same failure).
   */
  const addLineRow = (text: string, from: number, end: number, rowNumber: number) => {
    const { idIndex, featureIndexes, columnCount } = columns!;
    if (!slots) {
      slots = new Int32Array(columnCount).fill(-1);
      featureIndexes.forEach((column, f) => (slots![column] = f));
    }
    const values = batcher.valuesArray;
    const offset = batcher.nextOffset;
    let id: string | undefined;
    let start = from;
    for (let column = 0; column < columnCount; column++) {
      let comma = text.indexOf(',', start);
      if (comma < 0 || comma > end) comma = end;
      if ((comma === end) !== (column === columnCount - 1)) {
        addRow(text.slice(from, end).split(','), rowNumber);
        return;
      }
      if (column === idIndex) {
        id = text.slice(start, comma);
      } else {
        const value = shortDecimal(text, start, comma);
        if (value !== value) {
          addRow(text.slice(from, end).split(','), rowNumber);
          return;
        }
        values[offset + slots[column]!] = value;
      }
      start = comma + 1;
    }
    batcher.commit(rowNumber, id);
  };
  const parser = parse({
    bom: !ranged,
    skip_empty_lines: true,
    skip_records_with_error: true,
    relax_column_count: true,
    // Both endings, as the fast path reads them (auto-detection would fix one from the first line).
    record_delimiter: ['\r\n', '\n'],
    on_record: onRecord,
  });
  parser.on('skip', (error: Error) => onSkip(error));
  parser.on('error', (error) => {
    failure = error;
  });
  const drain = () => {
    while (parser.read() !== null);
    if (failure) throw failure;
  };
  const fastPath = options.numericFastPath !== false;
  // Fast path: quote-free lines are split here; lines holding quotes go to csv-parse (sync) as
  // one input from the record boundary on, until it parses them without an unclosed quote at
  // their end (a quoted field's newlines stay inside it; a stray quote ends with its line, as csv-parse says).
  let quoted = '';
  const parseQuoted = (final: boolean) => {
    if (quoted === '') return;
    const results: Array<{ record?: string[]; error?: Error & { code?: string } }> = [];
    parseSync(quoted, {
      bom: !headerSeen, skip_empty_lines: true, skip_records_with_error: true, relax_column_count: true, record_delimiter: ['\r\n', '\n'],
      on_record: (record: string[]) => {
        results.push({ record });
        return null;
      },
      on_skip: (error) => {
        results.push({ error: error ?? new Error('record skipped') });
        return undefined;
      },
    });
    if (!final && results.at(-1)?.error?.code === 'CSV_QUOTE_NOT_CLOSED') return;
    quoted = '';
    for (const result of results) {
      if (result.record) onRecord(result.record);
      else onSkip(result.error!);
    }
    if (failure) throw failure;
  };
  // The next quote in the current text, searched once per quote (a search per line would rescan the chunk: quadratic).
  let quoteText = '';
  let nextQuote = -1;
  const addLine = (text: string, from: number, newline: number) => {
    if (text !== quoteText || (nextQuote >= 0 && nextQuote < from)) {
      quoteText = text;
      nextQuote = text.indexOf('"', from);
    }
    if (quoted !== '' || (nextQuote >= 0 && nextQuote < newline) || !headerSeen) {
      quoted += text.slice(from, newline + 1);
      // Memory stays bounded on a stray quote early in a large file: past 1 MiB the lines are parsed as they stand.
      parseQuoted(quoted.length > MAX_QUOTED_RECORD_CHARS);
      return;
    }
    let end = newline;
    if (end > from && text.charCodeAt(end - 1) === 0x0d) end--;
    if (end === from || failure) return;
    addLineRow(text, from, end, row++);
  };
  let carry: Buffer | undefined;
  for await (const chunk of bytes) {
    const started = performance.now();
    if (!fastPath) {
      parser.write(chunk);
      drain();
    } else {
      // Whole lines only: a chunk's tail waits for the next chunk (UTF-8 is never cut inside a character at a newline).
      const data = carry ? Buffer.concat([carry, chunk]) : chunk;
      const last = data.lastIndexOf(0x0a);
      carry = last < 0 ? data : data.subarray(last + 1);
      if (last >= 0) {
        const text = data.toString('utf8', 0, last + 1);
        let from = 0;
        for (let newline = text.indexOf('\n'); newline >= 0; newline = text.indexOf('\n', from)) {
          addLine(text, from, newline);
          from = newline + 1;
        }
      }
    }
    durations.parse += performance.now() - started;
    yield* batcher.take();
  }
  if (fastPath) {
    const started = performance.now();
    if (carry && carry.length > 0) {
      const text = carry.toString('utf8');
      addLine(text, 0, text.length);
    }
    parseQuoted(true);
    durations.parse += performance.now() - started;
  }
  const finished = new Promise<void>((resolve) => {
    parser.once('finish', resolve);
    parser.once('close', resolve);
  });
  parser.end();
  await finished;
  drain();
  if (!headerSeen) throw new BatchInputError(`object '${head.key}' has no header line`);
  yield* batcher.flush();
}

/** csv-parse's messages name the line in the bytes it was fed; the row number is given beside them. */
function withoutLine(message: string): string {
  return message.replace(/ at line \d+/, '');
}
