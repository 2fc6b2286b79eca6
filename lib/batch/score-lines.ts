import type { HostTensor } from '../protocol/tensor';
import type { RowFailure } from './row-batch';

/**
 * The scores file's lines for one batch: `{"row":12,"id":"a7","outputs":{"probabilities":[0.9,0.07,0.03],"label":0}}`,
 * one per row in row order. Per output, a row's slice is a number where the output has no dims
 * after the batch dim, a flat array for one, and `{"shape":[...],"data":[...]}` for more (an image
 * model's map). Numbers print as JSON prints the float (FP32 in full double precision); NaN and
 * infinities as null. `id` only where the input has one.
 */
export function encodeScoreLines(rows: readonly number[], ids: readonly (string | undefined)[] | undefined, outputs: readonly HostTensor[]): string {
  const count = rows.length;
  const encoders = outputs.map((tensor) => sliceEncoder(tensor, count));
  const names = outputs.map((tensor) => JSON.stringify(tensor.name));
  let text = '';
  for (let i = 0; i < count; i++) {
    const id = ids?.[i];
    text += `{"row":${rows[i]}${id === undefined ? '' : `,"id":${JSON.stringify(id)}`},"outputs":{`;
    for (let o = 0; o < encoders.length; o++) text += `${o === 0 ? '' : ','}${names[o]}:${encoders[o]!(i)}`;
    text += '}}\n';
  }
  return text;
}

/** The row-errors file's lines: `{"row":5,"reason":"column 2: 'abc' is not a finite number"}`. */
export function encodeFailureLines(failures: readonly RowFailure[]): string {
  let text = '';
  for (const failure of failures) text += `{"row":${failure.row},"reason":${JSON.stringify(failure.reason)}}\n`;
  return text;
}

function sliceEncoder(tensor: HostTensor, count: number): (row: number) => string {
  const rowShape = tensor.shape.slice(1);
  const per = rowShape.reduce((a, b) => a * b, 1);
  const data = tensor.data;
  const element = elementEncoder(tensor);
  if (tensor.shape[0] !== count) {
    throw new Error(`output '${tensor.name}' has ${tensor.shape[0]} rows for a batch of ${count}`);
  }
  const flat = (row: number) => {
    let text = '[';
    for (let j = 0, base = row * per; j < per; j++) text += (j === 0 ? '' : ',') + element(data, base + j);
    return `${text}]`;
  };
  if (rowShape.length === 0) return (row) => element(data, row);
  if (rowShape.length === 1) return flat;
  const shape = JSON.stringify(rowShape);
  return (row) => `{"shape":${shape},"data":${flat(row)}}`;
}

type Element = (data: HostTensor['data'], index: number) => string;

function elementEncoder(tensor: HostTensor): Element {
  switch (tensor.datatype) {
    case 'BOOL':
      return (data, index) => ((data as Uint8Array)[index] ? 'true' : 'false');
    case 'BYTES':
      return (data, index) => JSON.stringify(Buffer.from((data as Uint8Array[])[index]!).toString('utf8'));
    case 'INT64':
    case 'UINT64':
      return (data, index) => String((data as BigInt64Array)[index]);
    default:
      return (data, index) => {
        const v = (data as Float32Array)[index]!;
        return Number.isFinite(v) ? String(v) : 'null';
      };
  }
}
