import { FeedForwardProgram } from '../../../kernels/feed-forward/feed-forward-kernels';
import {
  ACTIVATIONS, BINARY_KINDS, decodeFeedForwardPlan, encodeFeedForwardPlan, type ActivationKind, type FeedForwardPlan, type PlanStep,
} from '../../../kernels/feed-forward/feed-forward-plan';
import { activationReference, runFeedForwardReference } from '../../../kernels/feed-forward/feed-forward-reference';
import { sfc32 } from '../../../kernels/seeded-random/seeded-random';
import type { KernelSimdLevel } from '../../../kernels/runtime/load-kernel-module';
import { engineSupportsRelaxedSimd } from '../../../kernels/runtime/load-kernel-module';

const LEVELS: KernelSimdLevel[] = engineSupportsRelaxedSimd() ? ['simd', 'relaxed-simd'] : ['simd'];

function values(count: number, seed: number, special: readonly number[] = []): Float32Array {
  const random = sfc32(seed);
  const out = Float32Array.from({ length: count }, () => (random() * 2 - 1) * 3);
  special.forEach((v, i) => { if (i < count) out[(i * 7919) % count] = v; });
  return out;
}

/** Every element within `tolerance` of the reference's largest magnitude; NaN exactly where the reference has NaN. */
function expectClose(actual: Float32Array | Int32Array, expected: Float32Array | Int32Array, tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  let scale = 0;
  for (const v of expected) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < expected.length; i++) {
    const [a, b] = [actual[i]!, expected[i]!];
    if (Number.isNaN(b)) {
      if (!Number.isNaN(a)) throw new Error(`element ${i}: ${a}, reference NaN`);
    } else if (a === b) {
      continue;
    } else if (!(Math.abs(a - b) <= tolerance * Math.max(scale, 1e-30))) {
      throw new Error(`element ${i}: ${a}, reference ${b} (scale ${scale})`);
    }
  }
}

/** A plan of one dense layer: input [rows, k] -> [rows, n]. */
function densePlan(k: number, n: number, bias: boolean, activation: ActivationKind, seed: number): FeedForwardPlan {
  const weights = values(n * k, seed);
  const constants = new Float32Array(Math.ceil((n * k) / 4) * 4 + n);
  constants.set(weights);
  const biasAt = Math.ceil((n * k) / 4) * 4;
  constants.set(values(n, seed + 1), biasAt);
  return {
    header: {
      format: 'hotpath-feed-forward',
      inputs: [{ name: 'x', buffer: 0, datatype: 'FP32', shape: [-1, k] }],
      outputs: [{ name: 'y', buffer: 1, datatype: 'FP32', shape: [-1, n] }],
      buffers: [{ type: 'f32', elements: { n: k, batched: true } }, { type: 'f32', elements: { n, batched: true } }],
      steps: [{ op: 'dense', x: 0, y: 1, rows: { n: 1, batched: true }, k, n, weight: 0, bias: bias ? biasAt : -1, activation }],
      constantFloats: constants.length,
    },
    constants,
  };
}

/** A plan of one step over an input [rows, n] (f32 buffers 0 and 1; buffer 2 i32 for argmax). */
function stepPlan(n: number, step: PlanStep, constants: Float32Array, output: { buffer: number; datatype: 'FP32' | 'INT64' }): FeedForwardPlan {
  return {
    header: {
      format: 'hotpath-feed-forward',
      inputs: [{ name: 'x', buffer: 0, datatype: 'FP32', shape: [-1, n] }],
      outputs: [{ name: 'y', buffer: output.buffer, datatype: output.datatype, shape: output.datatype === 'INT64' ? [-1] : [-1, n] }],
      buffers: [{ type: 'f32', elements: { n, batched: true } }, { type: 'f32', elements: { n, batched: true } }, { type: 'i32', elements: { n: 1, batched: true } }],
      steps: [step],
      constantFloats: constants.length,
    },
    constants,
  };
}

const rowsOf = (n: number) => ({ n: 1, batched: true as const });
const lengthOf = (n: number) => ({ n, batched: true as const });

describe('feed-forward kernels', () => {
  describe.each(LEVELS)('dense layer (%s)', (simd) => {
    it.each([
      [1, 1, 1], [1, 5, 3], [3, 17, 7], [4, 4, 4], [5, 3, 1], [9, 513, 65], [33, 30, 10], [2, 1030, 129],
    ])('matches the reference for %i rows, %i inputs, %i units, with and without bias and activation', (rows, k, n) => {
      for (const bias of [true, false]) {
        // Prepare
        const seed = rows * 31 + k;
        const linear = densePlan(k, n, bias, ACTIVATIONS.none, seed);
        const x = values(rows * k, k + n, [0, -0, 1e-8, -1e-8]);

        // Act
        const [sums] = new FeedForwardProgram(linear, { simd }).run([x], rows) as Float32Array[];

        // Assess: float32 sums within 2e-6 of the layer's scale; a fused activation is the activation of those sums.
        expectClose(sums!, runFeedForwardReference(linear, [x], rows)[0]!, 2e-6);
        for (const activation of [ACTIVATIONS.Relu, ACTIVATIONS.Sigmoid, ACTIVATIONS.Tanh]) {
          const fused = new FeedForwardProgram(densePlan(k, n, bias, activation, seed), { simd }).run([x], rows)[0]!;
          for (let i = 0; i < sums!.length; i++) {
            const expected = activationReference(activation, sums![i]!);
            expect(Math.abs(fused[i]! - expected)).toBeLessThanOrEqual(3e-7 * Math.max(Math.abs(expected), 1e-3));
          }
        }
      }
    });

    it('gives NaN in the rows whose input holds NaN and leaves the others finite', () => {
      // Prepare
      const plan = densePlan(6, 5, true, ACTIVATIONS.Relu, 3);
      const program = new FeedForwardProgram(plan, { simd });
      const x = values(6 * 6, 4);
      x[2 * 6 + 3] = NaN;

      // Act
      const [y] = program.run([x], 6) as Float32Array[];

      // Assess
      expect(Array.from(y!.subarray(10, 15)).every(Number.isNaN)).toBe(true);
      expect(Array.from(y!.subarray(0, 10)).concat(Array.from(y!.subarray(15))).every(Number.isFinite)).toBe(true);
      expectClose(y!, runFeedForwardReference(plan, [x], 6)[0]!, 2e-6);
    });
  });

  describe('element-wise steps', () => {
    const n = 11;
    const rows = 3;
    const x = values(rows * n, 9, [0, -0, NaN, 1e-6, -1e-6, 0.29, -0.31, 40, -40, 100, -100, Infinity, -Infinity]);

    it.each(Object.entries(BINARY_KINDS))('%s with a constant row, a scalar, and the constant first', (_name, kind) => {
      for (const [constantLength, constantFirst] of [[n, false], [1, false], [n, true], [1, true]] as const) {
        const constants = values(12, 17, [0, -2]);
        const plan = stepPlan(n, { op: 'binaryConstant', kind, x: 0, y: 1, rows: rowsOf(n), n, constant: 0, constantLength, constantFirst }, constants, { buffer: 1, datatype: 'FP32' });
        expectClose(new FeedForwardProgram(plan).run([x], rows)[0]!, runFeedForwardReference(plan, [x], rows)[0]!, 1e-6);
      }
    });

    it.each(Object.entries(BINARY_KINDS))('%s of two computed tensors', (_name, kind) => {
      const plan = stepPlan(n, { op: 'binary', kind, a: 0, b: 0, y: 1, length: lengthOf(n) }, new Float32Array(0), { buffer: 1, datatype: 'FP32' });
      expectClose(new FeedForwardProgram(plan).run([x], rows)[0]!, runFeedForwardReference(plan, [x], rows)[0]!, 1e-6);
    });

    it.each([['Relu', ACTIVATIONS.Relu], ['Sigmoid', ACTIVATIONS.Sigmoid], ['Tanh', ACTIVATIONS.Tanh]] as const)('%s within 3e-7 of Math (relative), NaN and infinities kept', (_name, kind) => {
      // Prepare: the whole range, the series/formula switch of tanh at 0.3 and the tails.
      const wide = Float32Array.from([...x, ...Array.from({ length: 401 }, (_, i) => (i - 200) / 50), 0.3, -0.3, 0.2999, 1e-30]);
      const plan = stepPlan(wide.length, { op: 'unary', kind, x: 0, y: 1, length: lengthOf(wide.length) }, new Float32Array(0), { buffer: 1, datatype: 'FP32' });

      // Act
      const [actual] = new FeedForwardProgram(plan).run([wide], 1);
      const expected = runFeedForwardReference(plan, [wide], 1)[0]!;

      // Assess: per element, relative to the value itself where it is not tiny.
      for (let i = 0; i < wide.length; i++) {
        const [a, b] = [actual![i]!, expected[i]!];
        if (Number.isNaN(b)) expect(a).toBeNaN();
        else if (!Number.isFinite(b)) expect(a).toBe(b);
        else expect(Math.abs(a - b)).toBeLessThanOrEqual(3e-7 * Math.max(Math.abs(b), 1e-3));
      }
    });

    it('softmax and argmax along the last axis, argmax as int64 indices', () => {
      const finite = values(rows * n, 21);
      const softmax = stepPlan(n, { op: 'softmax', x: 0, y: 1, rows: rowsOf(n), n }, new Float32Array(0), { buffer: 1, datatype: 'FP32' });
      const argmax = stepPlan(n, { op: 'argmax', x: 0, y: 2, rows: rowsOf(n), n }, new Float32Array(0), { buffer: 2, datatype: 'INT64' });
      expectClose(new FeedForwardProgram(softmax).run([finite], rows)[0]!, runFeedForwardReference(softmax, [finite], rows)[0]!, 1e-6);
      expect(Array.from(new FeedForwardProgram(argmax).run([finite], rows)[0]!)).toEqual(Array.from(runFeedForwardReference(argmax, [finite], rows)[0]!));
    });
  });

  describe('FeedForwardProgram', () => {
    it('runs a batch of 0 rows to empty outputs and refuses inputs of the wrong length', () => {
      const program = new FeedForwardProgram(densePlan(3, 2, true, ACTIVATIONS.none, 1));
      expect(program.run([new Float32Array(0)], 0)[0]).toHaveLength(0);
      expect(() => program.run([new Float32Array(5)], 2)).toThrow("input 'x': expected 6 values for 2 row(s), got 5");
      program.dispose();
      expect(() => program.run([new Float32Array(3)], 1)).toThrow('run after dispose');
    });

    it('gives the same rows whatever the batch they come in (a row does not depend on the others)', () => {
      for (const k of [37, 1030]) {
        const program = new FeedForwardProgram(densePlan(k, 9, true, ACTIVATIONS.Relu, 2));
        const x = values(13 * k, 5);
        const batch = program.run([x], 13)[0]!;
        for (const row of [0, 5, 12]) expect(Array.from(program.run([x.slice(row * k, row * k + k)], 1)[0]!)).toEqual(Array.from(batch.subarray(row * 9, row * 9 + 9)));
      }
    });
  });

  describe('plan file', () => {
    it('round-trips a plan, and refuses another file or version', () => {
      const plan = densePlan(5, 3, true, ACTIVATIONS.Sigmoid, 8);
      const bytes = encodeFeedForwardPlan(plan);
      const decoded = decodeFeedForwardPlan(bytes);
      expect(decoded.header).toEqual(plan.header);
      expect(Array.from(decoded.constants)).toEqual(Array.from(plan.constants));
      // Also from an unaligned copy (a file read into a larger buffer).
      const unaligned = new Uint8Array(bytes.length + 1).subarray(1);
      unaligned.set(bytes);
      expect(Array.from(decodeFeedForwardPlan(unaligned).constants)).toEqual(Array.from(plan.constants));
      expect(() => decodeFeedForwardPlan(new Uint8Array(32))).toThrow('bad magic');
      const other = bytes.slice();
      other[8] = 9;
      expect(() => decodeFeedForwardPlan(other)).toThrow('version 9, this executor reads version 1; rebuild the models layer');
    });
  });
});
