import fc from 'fast-check';
import { argmax, logSoftmax, softmax } from '../../../kernels/activations/activations-kernels';
import { argmaxReference, logSoftmaxReference, softmaxReference } from '../../../kernels/activations/activations-reference';

function expectClose(ours: Float32Array, ref: Float32Array, absolute: number, relative: number): void {
  expect(ours.length).toBe(ref.length);
  for (let i = 0; i < ours.length; i++) {
    const [a, b] = [ours[i]!, ref[i]!];
    if (Number.isNaN(b) || !Number.isFinite(b)) {
      expect(Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b))).toBe(true);
    } else if (Math.abs(a - b) > absolute + relative * Math.abs(b)) {
      throw new Error(`element ${i}: got ${a}, expected ${b}`);
    }
  }
}

const rowsArb = fc.record({ rows: fc.integer({ min: 0, max: 5 }), cols: fc.integer({ min: 1, max: 37 }) }).chain(({ rows, cols }) =>
  fc.record({
    cols: fc.constant(cols),
    x: fc.array(fc.oneof(fc.constantFrom(0, -0, 1, -1, 3.5), fc.float({ min: -80, max: 80, noNaN: true, noDefaultInfinity: true })), { minLength: rows * cols, maxLength: rows * cols }).map((v) => Float32Array.from(v)),
  }));

describe('softmax / logSoftmax / argmax', () => {
  it('match the float64 references on odd row lengths, zeros, negatives and ties', () => {
    fc.assert(fc.property(rowsArb, ({ x, cols }) => {
      expectClose(softmax(x, cols), softmaxReference(x, cols), 1e-7, 1e-5);
      expectClose(logSoftmax(x, cols), logSoftmaxReference(x, cols), 1e-5, 1e-6);
      expect(argmax(x, cols)).toEqual(argmaxReference(x, cols));
    }));
  });

  it('stays finite and sums to 1 for huge logits (max subtraction)', () => {
    const x = Float32Array.from([1e30, 1e30 - 1e24, -1e30, 3e38, 3e38, 1]);
    const p = softmax(x, 3);
    expect(Array.from(p.subarray(0, 3)).every(Number.isFinite)).toBe(true);
    expect(p[0]! + p[1]! + p[2]!).toBeCloseTo(1, 6);
    expectClose(p.subarray(3), Float32Array.from([0.5, 0.5, 0]), 1e-7, 0);
    expectClose(logSoftmax(Float32Array.from([1e6, 1e6 + 1]), 2), logSoftmaxReference(Float32Array.from([1e6, 1e6 + 1]), 2), 1e-5, 0);
  });

  it('follows the NaN policy: NaN, +Infinity or an all -Infinity row gives NaN; other -Infinity entries give 0 / -Infinity', () => {
    const x = Float32Array.from([
      1, NaN, 2, 3, 4, //
      1, Infinity, 2, 3, 4, //
      -Infinity, -Infinity, -Infinity, -Infinity, -Infinity, //
      -Infinity, 0, 0, -Infinity, 1,
    ]);
    const p = softmax(x, 5);
    const lp = logSoftmax(x, 5);
    expect(Array.from(p.subarray(0, 15)).every(Number.isNaN)).toBe(true);
    expect(Array.from(lp.subarray(0, 15)).every(Number.isNaN)).toBe(true);
    expectClose(p.subarray(15), softmaxReference(x.subarray(15), 5), 1e-7, 1e-5);
    expect(p[15]).toBe(0);
    expect(lp[15]).toBe(-Infinity);
    expectClose(p, softmaxReference(x, 5), 1e-7, 1e-5);
    expect(Array.from(argmax(x, 5))).toEqual([1, 1, 0, 4]);
    expect(argmax(x, 5)).toEqual(argmaxReference(x, 5));
  });

  it('breaks ties by the lowest index, also across SIMD lanes', () => {
    const x = Float32Array.from([0, 5, 1, 2, 3, 5, 5, 1, 0]);
    expect(Array.from(argmax(x, 9))).toEqual([1]);
    expect(Array.from(argmax(Float32Array.from([1, 1, 1, 1, 1, 1, 1]), 7))).toEqual([0]);
  });

  it('refuses a length that is not a multiple of cols, naming the argument', () => {
    expect(() => softmax(new Float32Array(5), 2)).toThrow(/'x' length 5 is not a multiple of 'cols' \(2\)/);
    expect(() => argmax(new Float32Array(4), 0)).toThrow(/'cols' must be an integer >= 1, got 0/);
  });
});
