/**
 * Plain TypeScript reference of a feed-forward plan: every step in float64 arithmetic, rounded to
 * float32 where the kernels store, with Math.exp/Math.tanh. The kernels are tested against it on
 * odd sizes, negatives, zeros and NaN (test/unit/kernels/feed-forward-kernels.test.ts).
 */
import { ACTIVATIONS, BINARY_KINDS, countFor, type ActivationKind, type BinaryKind, type FeedForwardPlan, type PlanStep } from './feed-forward-plan';

type Buffers = (Float32Array | Int32Array)[];

function binary(kind: BinaryKind, a: number, b: number): number {
  if (kind === BINARY_KINDS.Add) return a + b;
  if (kind === BINARY_KINDS.Sub) return a - b;
  if (kind === BINARY_KINDS.Mul) return a * b;
  return a / b;
}

/** The activation of one value; NaN stays NaN. */
export function activationReference(kind: ActivationKind, x: number): number {
  if (kind === ACTIVATIONS.Relu) return Number.isNaN(x) ? x : Math.max(x, 0);
  if (kind === ACTIVATIONS.Sigmoid) return 1 / (1 + Math.exp(-x));
  if (kind === ACTIVATIONS.Tanh) return Math.tanh(x);
  return x;
}

function runStep(step: PlanStep, buffers: Buffers, rows: number, c: Float32Array): void {
  switch (step.op) {
    case 'dense': {
      const x = buffers[step.x]!;
      const y = buffers[step.y]!;
      const m = countFor(step.rows, rows);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < step.n; j++) {
          let s = step.bias < 0 ? 0 : c[step.bias + j]!;
          for (let t = 0; t < step.k; t++) s += x[i * step.k + t]! * c[step.weight + j * step.k + t]!;
          y[i * step.n + j] = activationReference(step.activation, Math.fround(s));
        }
      }
      return;
    }
    case 'transpose': {
      const x = buffers[step.x]!;
      const y = buffers[step.y]!;
      for (let r = 0; r < step.rows; r++) for (let col = 0; col < step.cols; col++) y[col * step.rows + r] = x[r * step.cols + col]!;
      return;
    }
    case 'binaryConstant': {
      const x = buffers[step.x]!;
      const y = buffers[step.y]!;
      const m = countFor(step.rows, rows);
      for (let r = 0; r < m; r++) {
        for (let i = 0; i < step.n; i++) {
          const v = x[r * step.n + i]!;
          const w = c[step.constant + (step.constantLength === 1 ? 0 : i)]!;
          y[r * step.n + i] = step.constantFirst ? binary(step.kind, w, v) : binary(step.kind, v, w);
        }
      }
      return;
    }
    case 'binary': {
      const [a, b, y] = [buffers[step.a]!, buffers[step.b]!, buffers[step.y]!];
      for (let i = 0; i < countFor(step.length, rows); i++) y[i] = binary(step.kind, a[i]!, b[i]!);
      return;
    }
    case 'unary': {
      const [x, y] = [buffers[step.x]!, buffers[step.y]!];
      for (let i = 0; i < countFor(step.length, rows); i++) y[i] = activationReference(step.kind, x[i]!);
      return;
    }
    case 'softmax': {
      const [x, y] = [buffers[step.x]!, buffers[step.y]!];
      for (let r = 0; r < countFor(step.rows, rows); r++) {
        let max = -Infinity;
        let nan = false;
        for (let i = 0; i < step.n; i++) {
          const v = x[r * step.n + i]!;
          if (Number.isNaN(v)) nan = true;
          max = Math.max(max, v);
        }
        let sum = 0;
        for (let i = 0; i < step.n; i++) sum += Math.exp(x[r * step.n + i]! - max);
        for (let i = 0; i < step.n; i++) y[r * step.n + i] = nan ? NaN : Math.exp(x[r * step.n + i]! - max) / sum;
      }
      return;
    }
    case 'argmax': {
      const [x, y] = [buffers[step.x]!, buffers[step.y]!];
      for (let r = 0; r < countFor(step.rows, rows); r++) {
        let best = 0;
        for (let i = 0; i < step.n; i++) {
          const v = x[r * step.n + i]!;
          if (Number.isNaN(v)) { best = i; break; }
          if (v > x[r * step.n + best]!) best = i;
        }
        y[r] = best;
      }
      return;
    }
    case 'intToFloat': {
      const [x, y] = [buffers[step.x]!, buffers[step.y]!];
      for (let i = 0; i < countFor(step.length, rows); i++) y[i] = x[i]!;
      return;
    }
  }
}

/** Runs `plan` for `rows` batch rows; inputs and outputs as FeedForwardProgram.run's. */
export function runFeedForwardReference(plan: FeedForwardPlan, inputs: readonly Float32Array[], rows: number): (Float32Array | Int32Array)[] {
  const { header, constants } = plan;
  const buffers: Buffers = header.buffers.map((b) => (b.type === 'f32' ? new Float32Array(countFor(b.elements, rows)) : new Int32Array(countFor(b.elements, rows))));
  header.inputs.forEach((input, i) => (buffers[input.buffer] as Float32Array).set(inputs[i]!));
  for (const step of header.steps) runStep(step, buffers, rows, constants);
  return header.outputs.map((o) => buffers[o.buffer]!.slice());
}
