import { StringDecoder } from 'node:string_decoder';
import { BatchInputError } from './batch-errors';
import type { BatchModelInput } from './batch-model-input';
import { openSourceRange, type InputSource } from './input-source';
import { lineRowBoundaries, ownedLineBytes } from './line-ranges';
import { RowBatcher, type RowBatch } from './row-batch';

const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Rows of a JSONL file, one JSON value per line, in batches of `batchSize` valid rows. A line is
 * a plain feature array (`[5.1, 3.5, 1.4, 0.2]`) or an OIP-style object whose `inputs` holds the
 * model's input tensor (`{"id": "a", "inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32", "data": [...]}]}`),
 * `data` flat or nested. A line that is not JSON, or holds the wrong number of values, fails alone.
 */
export async function* readJsonlRows(source: InputSource, input: Extract<BatchModelInput, { kind: 'table' }>, batchSize: number): AsyncGenerator<RowBatch> {
  const { head, durations } = source;
  if (head.size === 0) throw new BatchInputError(`object '${head.key}' is empty: a JSONL file needs one JSON row per line`);
  const ownStart = source.range?.start ?? 0;
  const ownEnd = Math.min(source.range?.end ?? head.size, head.size);
  let row = source.firstRow ?? 0;
  if (ownStart > 0 && source.firstRow === undefined) {
    const [boundary] = await lineRowBoundaries(await openSourceRange(source, { start: 0, end: head.size }), 0, [ownStart]);
    row = boundary!.row;
  }
  if (ownStart >= ownEnd) return;
  const readStart = ownStart > 0 ? ownStart - 1 : 0;
  const bytes = ownedLineBytes(await openSourceRange(source, { start: readStart, end: head.size }), readStart, ownStart, source.range ? ownEnd : Infinity, durations, source.progress);
  const batcher = new RowBatcher(batchSize, [input.features]);
  const decoder = new StringDecoder('utf8');
  let carry = '';
  const addLine = (line: string) => {
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (text.length === 0) return;
    const rowNumber = row++;
    const reason = parseJsonRow(text, input, batcher);
    if (reason === undefined) return;
    if (typeof reason === 'string') batcher.fail(rowNumber, reason);
    else batcher.commit(rowNumber, reason.id);
  };
  for await (const chunk of bytes) {
    const started = performance.now();
    const text = carry + decoder.write(chunk);
    let from = 0;
    for (let newline = text.indexOf('\n'); newline >= 0; newline = text.indexOf('\n', from)) {
      addLine(text.slice(from, newline));
      from = newline + 1;
    }
    carry = text.slice(from);
    durations.parse += performance.now() - started;
    yield* batcher.take();
  }
  const started = performance.now();
  addLine(carry + decoder.end());
  durations.parse += performance.now() - started;
  yield* batcher.flush();
}

/** Writes the row's values into the batcher; answers the failure reason, or `{ id }` when the row is good. */
function parseJsonRow(text: string, input: Extract<BatchModelInput, { kind: 'table' }>, batcher: RowBatcher): string | { id?: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return `not JSON: ${(error as Error).message}`;
  }
  let data: unknown;
  let id: string | undefined;
  if (Array.isArray(value)) {
    data = value;
  } else if (value !== null && typeof value === 'object' && Array.isArray((value as { inputs?: unknown }).inputs)) {
    const { inputs, id: rawId } = value as { inputs: unknown[]; id?: unknown };
    const tensor = (inputs.find((t) => (t as { name?: unknown })?.name === input.name) ?? (inputs.length === 1 ? inputs[0] : undefined)) as { data?: unknown } | undefined;
    if (tensor === undefined || !Array.isArray(tensor.data)) return `'inputs' holds no tensor named '${input.name}' with a 'data' array`;
    data = tensor.data;
    if (typeof rawId === 'string' || typeof rawId === 'number') id = String(rawId);
  } else {
    return `expected an array of ${input.features} numbers or an object with 'inputs', got ${value === null ? 'null' : typeof value}`;
  }
  const flat = (data as unknown[]).some(Array.isArray) ? (data as unknown[]).flat(Infinity) : (data as unknown[]);
  if (flat.length !== input.features) return `expected ${input.features} values for input '${input.name}', got ${flat.length}`;
  const values = batcher.valuesArray;
  const offset = batcher.nextOffset;
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i];
    if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > FLOAT32_MAX) return `value ${i} (${JSON.stringify(v)}) is not a finite FP32 number`;
    values[offset + i] = v;
  }
  return { id };
}
