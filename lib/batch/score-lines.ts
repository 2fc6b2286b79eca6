import type { HostTensor } from '../protocol/tensor';
import type { RowFailure } from './row-batch';

/**
 * The scores file's lines for one batch: `{"row":12,"id":"a7","outputs":{"probabilities":[0.9,0.07,0.03],"label":0}}`,
 * one per row in row order. Per output, a row's slice is a number where the output has no dims
 * after the batch dim, a flat array for one, and `{"shape":[...],"data":[...]}` for more (an image
 * model's map). Numbers print as JSON prints the float (FP32 in full double precision); NaN and
 * infinities as null. `id` only where the input has one.
 *
 * Built by appending to one string per batch, with each output's constant text (name, brackets,
 * shape) made once per batch and its values appended by a loop chosen for its datatype and rank
 * (this is the encode stage's hot loop: no per-value closures or template strings).
 */
export const encodeScoreLines: (rows: readonly number[], ids: readonly (string | undefined)[] | undefined, outputs: readonly HostTensor[]) => string = scoreLineEncoder();

/** The row-errors file's lines: `{"row":5,"reason":"column 2: 'abc' is not a finite number"}`. */
export function encodeFailureLines(failures: readonly RowFailure[]): string {
  let text = '';
  for (const failure of failures) text += `{"row":${failure.row},"reason":${JSON.stringify(failure.reason)}}\n`;
  return text;
}

/**
 * Makes `encodeScoreLines`. Self-contained (no reference outside its body) so that the encoding
 * worker (score-line-worker.ts) runs this same function from its source text.
 */
export function scoreLineEncoder(): typeof encodeScoreLines {
  function encodeScoreLines(rows: readonly number[], ids: readonly (string | undefined)[] | undefined, outputs: readonly HostTensor[]): string {
    const count = rows.length;
    const appenders = outputs.map((tensor) => sliceAppender(tensor, count));
    const prefixes = outputs.map((tensor, o) => `${o === 0 ? '' : ','}${JSON.stringify(tensor.name)}:`);
    const outputCount = appenders.length;
    let text = '';
    for (let i = 0; i < count; i++) {
      text += '{"row":' + rows[i];
      const id = ids === undefined ? undefined : ids[i];
      if (id !== undefined) text += ',"id":' + JSON.stringify(id);
      text += ',"outputs":{';
      for (let o = 0; o < outputCount; o++) text = appenders[o]!(text + prefixes[o], i);
      text += '}}\n';
    }
    return text;
  }

  /** Appends row `row`'s slice of one output to `text` and answers the longer text. */
  type Appender = (text: string, row: number) => string;

  function sliceAppender(tensor: HostTensor, count: number): Appender {
    if (tensor.shape[0] !== count) {
      throw new Error(`output '${tensor.name}' has ${tensor.shape[0]} rows for a batch of ${count}`);
    }
    const rowShape = tensor.shape.slice(1);
    const per = rowShape.reduce((a, b) => a * b, 1);
    const element = elementText(tensor);
    if (rowShape.length === 0) return (text, row) => text + element(row);
    const open = rowShape.length === 1 ? '[' : `{"shape":${JSON.stringify(rowShape)},"data":[`;
    const close = rowShape.length === 1 ? ']' : ']}';
    if (per === 0) return (text) => text + open + close;
    if (isFloat(tensor)) {
      const data = tensor.data as Float32Array;
      return (text, row) => {
        const base = row * per;
        let v = data[base]!;
        text += open + (v - v === 0 ? '' + v : 'null');
        for (let j = 1; j < per; j++) {
          v = data[base + j]!;
          text += v - v === 0 ? ',' + v : ',null';
        }
        return text + close;
      };
    }
    return (text, row) => {
      const base = row * per;
      text += open + element(base);
      for (let j = 1; j < per; j++) text += ',' + element(base + j);
      return text + close;
    };
  }

  function isFloat(tensor: HostTensor): boolean {
    return tensor.datatype !== 'BOOL' && tensor.datatype !== 'BYTES' && tensor.datatype !== 'INT64' && tensor.datatype !== 'UINT64';
  }

  /** Small integers (class labels) printed once, not per row. */
  const SMALL_INTEGERS = Array.from({ length: 1024 }, (_, i) => String(i));

  /** The JSON text of the element at `index`. */
  function elementText(tensor: HostTensor): (index: number) => string {
    switch (tensor.datatype) {
      case 'BOOL': {
        const data = tensor.data as Uint8Array;
        return (index) => (data[index] ? 'true' : 'false');
      }
      case 'BYTES': {
        const data = tensor.data as Uint8Array[];
        return (index) => JSON.stringify(Buffer.from(data[index]!).toString('utf8'));
      }
      case 'INT64':
      case 'UINT64': {
        const data = tensor.data as BigInt64Array | BigUint64Array;
        return (index) => {
          const v = data[index]!;
          return v >= 0n && v < 1024n ? SMALL_INTEGERS[Number(v)]! : String(v);
        };
      }
      default: {
        const data = tensor.data as Float32Array;
        return (index) => {
          const v = data[index]!;
          return v - v === 0 ? '' + v : 'null';
        };
      }
    }
  }

  return encodeScoreLines;
}
