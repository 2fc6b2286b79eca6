import { InvalidRequestError } from '../../../lib/errors/hotpath-error';
import { classifyOutput, formatPrintfFixed6 } from '../../../lib/protocol/classification';
import type { HostTensor } from '../../../lib/protocol/tensor';
import { refusal } from '../../support/expect-refusal';

const text = (tensor: HostTensor) => (tensor.data as Uint8Array[]).map((b) => Buffer.from(b).toString('utf8'));
const IRIS = ['setosa', 'versicolor', 'virginica'];

describe('classifyOutput', () => {
  it('answers the top k of each row as "score:index:label", highest first, shape [batch, k]', () => {
    // Prepare: two rows of iris-like probabilities.
    const tensor: HostTensor = { name: 'probabilities', datatype: 'FP32', shape: [2, 3], data: Float32Array.of(0.1, 0.7, 0.2, 0.97, 0.01, 0.02) };
    // Act
    const classified = classifyOutput(tensor, 2, IRIS);
    // Assess
    expect(classified).toMatchObject({ name: 'probabilities', datatype: 'BYTES', shape: [2, 2] });
    // float32 0.7 is 0.699999988079071...: printf("%f") rounds the exact value.
    expect(text(classified)).toEqual(['0.700000:1:versicolor', '0.200000:2:virginica', '0.970000:0:setosa', '0.020000:2:virginica']);
  });

  it('answers "score:index" without labels, and the extension document example as Triton prints it', () => {
    // extension_classification.md: output [1.1, 3.3, 0.5, 2.4], classification 2 → "3.3:1", "2.4:3" (Triton writes %f).
    const tensor: HostTensor = { name: 'output0', datatype: 'FP32', shape: [1, 4], data: Float32Array.of(1.1, 3.3, 0.5, 2.4) };
    expect(text(classifyOutput(tensor, 2))).toEqual(['3.300000:1', '2.400000:3']);
  });

  it('compares integers in their own type and prints them as decimals', () => {
    const u8: HostTensor = { name: 'o', datatype: 'UINT8', shape: [1, 4], data: Uint8Array.of(1, 5, 10, 4) };
    expect(text(classifyOutput(u8, 4))).toEqual(['10:2', '5:1', '4:3', '1:0']);
    const i64: HostTensor = { name: 'o', datatype: 'INT64', shape: [1, 3], data: BigInt64Array.of(-(2n ** 63n), 2n ** 62n + 1n, 2n ** 62n) };
    expect(text(classifyOutput(i64, 2))).toEqual(['4611686018427387905:1', '4611686018427387904:2']);
    const u64: HostTensor = { name: 'o', datatype: 'UINT64', shape: [1, 2], data: BigUint64Array.of(2n ** 64n - 1n, 3n) };
    expect(text(classifyOutput(u64, 1))).toEqual(['18446744073709551615:0']);
  });

  it('answers min(k, classes) when k is larger than a row, as Triton does', () => {
    const tensor: HostTensor = { name: 'p', datatype: 'FP64', shape: [1, 3], data: Float64Array.of(0.2, 0.5, 0.3) };
    const classified = classifyOutput(tensor, 10, IRIS);
    expect(classified.shape).toEqual([1, 3]);
    expect(text(classified)).toEqual(['0.500000:1:versicolor', '0.300000:2:virginica', '0.200000:0:setosa']);
  });

  it('classifies all non-batch elements of a row together: [B, 1, C] → [B, k]', () => {
    const tensor: HostTensor = { name: 'p', datatype: 'INT32', shape: [2, 1, 3], data: Int32Array.of(3, 1, 2, 7, 9, 8) };
    const classified = classifyOutput(tensor, 2);
    expect(classified.shape).toEqual([2, 2]);
    expect(text(classified)).toEqual(['3:0', '2:2', '9:1', '8:2']);
  });

  it('treats the whole tensor as one row for a model without a batch dimension: shape [k]', () => {
    const tensor: HostTensor = { name: 'p', datatype: 'INT32', shape: [2, 3], data: Int32Array.of(3, 1, 2, 7, 9, 8) };
    const classified = classifyOutput(tensor, 2, undefined, { batched: false });
    expect(classified.shape).toEqual([2]);
    expect(text(classified)).toEqual(['9:4', '8:5']);
    // A scalar, or a batch of 0 rows, is one row too (Triton: batch size 0 takes the unbatched path).
    expect(classifyOutput({ name: 's', datatype: 'FP32', shape: [], data: Float32Array.of(4) }, 3).shape).toEqual([1]);
    expect(classifyOutput({ name: 'z', datatype: 'FP32', shape: [0, 3], data: new Float32Array(0) }, 2).shape).toEqual([0]);
  });

  it('orders ties by index and NaN last; prints nan, inf and signed zeros as printf does', () => {
    const tensor: HostTensor = { name: 'p', datatype: 'FP32', shape: [1, 6], data: Float32Array.of(NaN, 0.5, -Infinity, 0.5, Infinity, -0) };
    expect(text(classifyOutput(tensor, 6))).toEqual(['inf:4', '0.500000:1', '0.500000:3', '-0.000000:5', '-inf:2', 'nan:0']);
    const negativeNaN = new Float32Array(new Uint32Array([0xffc00000]).buffer);
    expect(text(classifyOutput({ name: 'p', datatype: 'FP32', shape: [1, 1], data: negativeNaN }, 1))).toEqual(['-nan:0']);
  });

  it('picks the same top k by partial insertion and by full sort (k either side of the switch)', () => {
    const n = 1000;
    const values = Float32Array.from({ length: n }, (_, i) => ((i * 7919) % 997) / 997);
    const expectedOrder = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[b]! - values[a]! || a - b);
    for (const k of [1, 5, 16, 17, 40]) {
      const indices = text(classifyOutput({ name: 'p', datatype: 'FP32', shape: [1, n], data: values }, k)).map((s) => Number(s.split(':')[1]));
      expect(indices).toEqual(expectedOrder.slice(0, k));
    }
  });

  it('leaves out a label that is missing or empty', () => {
    const tensor: HostTensor = { name: 'p', datatype: 'FP32', shape: [1, 3], data: Float32Array.of(0.3, 0.2, 0.5) };
    expect(text(classifyOutput(tensor, 3, ['a', '']))).toEqual(['0.500000:2', '0.300000:0:a', '0.200000:1']);
  });

  it.each([[0], [-1], [1.5], [NaN]])('refuses a classification count of %p', (k) => {
    const error = refusal(() => classifyOutput({ name: 'p', datatype: 'FP32', shape: [1, 3], data: new Float32Array(3) }, k));
    expect(error.message).toBe(`output 'p': the classification count must be an integer of at least 1, got ${k}`);
  });

  it.each<[HostTensor['datatype'], HostTensor['data']]>([
    ['BYTES', [Buffer.from('a')]],
    ['BOOL', Uint8Array.of(1)],
    ['FP16', Uint16Array.of(0x3c00)],
  ])('refuses a %s output, as Triton does', (datatype, data) => {
    const error = refusal(() => classifyOutput({ name: 'o', datatype, shape: [1, 1], data }, 1));
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.message).toContain(`this output is ${datatype}`);
  });

  it('refuses rows of more than 1,000,000 elements', () => {
    const error = refusal(() => classifyOutput({ name: 'big', datatype: 'UINT8', shape: [1, 1_000_001], data: new Uint8Array(1_000_001) }, 1));
    expect(error.message).toContain('past the limit of 1000000');
  });
});

describe('formatPrintfFixed6', () => {
  it.each<[number, string]>([
    [0.97, '0.970000'],
    [1 / 128, '0.007812'], // exact tie 0.0078125: printf rounds to even, toFixed would give 0.007813
    [3 / 128, '0.023438'], // 0.0234375: tie, to even
    [0.0000005, '0.000000'], // the double is just below the tie 5e-7
    [-0.0000004, '-0.000000'],
    [123456789.123456789, '123456789.123457'],
    [1e20, '100000000000000000000.000000'],
    [1e300, `${BigInt(1e300)}.000000`], // the double's exact integer value
    [5e-324, '0.000000'],
    [2.5, '2.500000'],
  ])('writes %p as %p', (x, expected) => {
    expect(formatPrintfFixed6(x)).toBe(expected);
  });
});

