import { sfc32 } from '../../../kernels/seeded-random/seeded-random';

export interface IrisTrainingOptions {
  readonly seed: number;
  readonly hiddenUnits: number;
  readonly epochs: number;
  readonly learningRate: number;
  readonly momentum: number;
  readonly l2: number;
}

export const IRIS_TRAINING_DEFAULTS: IrisTrainingOptions = {
  seed: 20261126,
  hiddenUnits: 16,
  epochs: 1000,
  learningRate: 0.05,
  momentum: 0.9,
  l2: 1e-4,
};

/**
 * A trained 4→H→C MLP (ReLU hidden layer, softmax output) plus the feature scaler, all as
 * float32 in the layouts ONNX Gemm takes with transB=1 (weights [out, in], row-major).
 */
export interface IrisModelWeights {
  readonly featureMean: Float32Array;
  readonly featureStd: Float32Array;
  readonly w1: Float32Array;
  readonly b1: Float32Array;
  readonly w2: Float32Array;
  readonly b2: Float32Array;
  readonly inputs: number;
  readonly hiddenUnits: number;
  readonly classes: number;
}

export interface IrisTrainingResult {
  readonly weights: IrisModelWeights;
  /** Accuracy of the float32 weights on the training set. */
  readonly trainingAccuracy: number;
  readonly finalLoss: number;
}

/**
 * Trains the iris MLP with full-batch gradient descent with momentum, in float64 from a
 * seeded initialisation, so the result is the same on every run and machine. Features are
 * standardised with the data set's mean and (population) standard deviation; the scaler is
 * returned so the exported graph applies it itself.
 *
 * @example
 * const { weights, trainingAccuracy } = trainIrisMlp(getNumbers(), classIndices, 3);
 */
export function trainIrisMlp(
  features: readonly (readonly number[])[],
  labels: readonly number[],
  classes: number,
  options: IrisTrainingOptions = IRIS_TRAINING_DEFAULTS,
): IrisTrainingResult {
  const n = features.length;
  const d = features[0]?.length ?? 0;
  const h = options.hiddenUnits;
  if (n === 0 || labels.length !== n) throw new Error(`trainIrisMlp: ${n} rows and ${labels.length} labels; they must match and be non-empty`);

  const { mean, std } = featureScaler(features, d);
  const x = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) x[i * d + j] = (features[i]![j]! - mean[j]!) / std[j]!;

  const random = sfc32(options.seed);
  const w1 = heUniform(random, h, d);
  const b1 = new Float64Array(h);
  const w2 = heUniform(random, classes, h);
  const b2 = new Float64Array(classes);
  const params = [w1, b1, w2, b2];
  const grads = params.map((p) => new Float64Array(p.length));
  const velocity = params.map((p) => new Float64Array(p.length));

  const hidden = new Float64Array(n * h);
  const probs = new Float64Array(n * classes);
  let loss = 0;
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    loss = forward(x, n, d, h, classes, w1, b1, w2, b2, hidden, probs, labels);
    backward(x, n, d, h, classes, w2, hidden, probs, labels, grads as [Float64Array, Float64Array, Float64Array, Float64Array]);
    for (let p = 0; p < params.length; p++) {
      const param = params[p]!;
      const grad = grads[p]!;
      const v = velocity[p]!;
      const decay = p % 2 === 0 ? options.l2 : 0;
      for (let k = 0; k < param.length; k++) {
        v[k] = options.momentum * v[k]! - options.learningRate * (grad[k]! + decay * param[k]!);
        param[k]! += v[k]!;
      }
    }
  }

  const weights: IrisModelWeights = {
    featureMean: Float32Array.from(mean),
    featureStd: Float32Array.from(std),
    w1: Float32Array.from(w1),
    b1: Float32Array.from(b1),
    w2: Float32Array.from(w2),
    b2: Float32Array.from(b2),
    inputs: d,
    hiddenUnits: h,
    classes,
  };
  const predicted = predictIrisClasses(weights, features);
  const correct = predicted.reduce((sum, label, i) => sum + (label === labels[i] ? 1 : 0), 0);
  return { weights, trainingAccuracy: correct / n, finalLoss: loss };
}

/**
 * The class index the exported graph computes for each row (the plain TypeScript reference
 * the ONNX graph is tested against).
 */
export function predictIrisClasses(weights: IrisModelWeights, features: readonly (readonly number[])[]): number[] {
  const { inputs: d, hiddenUnits: h, classes } = weights;
  return features.map((row) => {
    const z = new Float64Array(d);
    for (let j = 0; j < d; j++) z[j] = (Math.fround(row[j]!) - weights.featureMean[j]!) / weights.featureStd[j]!;
    const hidden = new Float64Array(h);
    for (let u = 0; u < h; u++) {
      let s = weights.b1[u]!;
      for (let j = 0; j < d; j++) s += weights.w1[u * d + j]! * z[j]!;
      hidden[u] = Math.max(0, s);
    }
    let best = 0;
    let bestLogit = -Infinity;
    for (let c = 0; c < classes; c++) {
      let s = weights.b2[c]!;
      for (let u = 0; u < h; u++) s += weights.w2[c * h + u]! * hidden[u]!;
      if (s > bestLogit) { bestLogit = s; best = c; }
    }
    return best;
  });
}

function featureScaler(features: readonly (readonly number[])[], d: number): { mean: Float64Array; std: Float64Array } {
  const n = features.length;
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  for (const row of features) for (let j = 0; j < d; j++) mean[j]! += row[j]! / n;
  for (const row of features) for (let j = 0; j < d; j++) std[j]! += (row[j]! - mean[j]!) ** 2 / n;
  for (let j = 0; j < d; j++) std[j] = Math.sqrt(std[j]!) || 1;
  return { mean, std };
}

/** He-uniform weights [rows, cols] (rows = fan-out): keeps ReLU activations at unit scale. */
function heUniform(random: () => number, rows: number, cols: number): Float64Array {
  const limit = Math.sqrt(6 / cols);
  const w = new Float64Array(rows * cols);
  for (let k = 0; k < w.length; k++) w[k] = (random() * 2 - 1) * limit;
  return w;
}

function forward(
  x: Float64Array, n: number, d: number, h: number, c: number,
  w1: Float64Array, b1: Float64Array, w2: Float64Array, b2: Float64Array,
  hidden: Float64Array, probs: Float64Array, labels: readonly number[],
): number {
  let loss = 0;
  for (let i = 0; i < n; i++) {
    for (let u = 0; u < h; u++) {
      let s = b1[u]!;
      for (let j = 0; j < d; j++) s += w1[u * d + j]! * x[i * d + j]!;
      hidden[i * h + u] = s > 0 ? s : 0;
    }
    let max = -Infinity;
    for (let k = 0; k < c; k++) {
      let s = b2[k]!;
      for (let u = 0; u < h; u++) s += w2[k * h + u]! * hidden[i * h + u]!;
      probs[i * c + k] = s;
      if (s > max) max = s;
    }
    let sum = 0;
    for (let k = 0; k < c; k++) {
      const e = Math.exp(probs[i * c + k]! - max);
      probs[i * c + k] = e;
      sum += e;
    }
    for (let k = 0; k < c; k++) probs[i * c + k]! /= sum;
    loss -= Math.log(Math.max(probs[i * c + labels[i]!]!, 1e-300)) / n;
  }
  return loss;
}

function backward(
  x: Float64Array, n: number, d: number, h: number, c: number,
  w2: Float64Array, hidden: Float64Array, probs: Float64Array, labels: readonly number[],
  [gw1, gb1, gw2, gb2]: [Float64Array, Float64Array, Float64Array, Float64Array],
): void {
  gw1.fill(0); gb1.fill(0); gw2.fill(0); gb2.fill(0);
  const dLogits = new Float64Array(c);
  const dHidden = new Float64Array(h);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < c; k++) dLogits[k] = (probs[i * c + k]! - (labels[i] === k ? 1 : 0)) / n;
    dHidden.fill(0);
    for (let k = 0; k < c; k++) {
      gb2[k]! += dLogits[k]!;
      for (let u = 0; u < h; u++) {
        gw2[k * h + u]! += dLogits[k]! * hidden[i * h + u]!;
        dHidden[u]! += dLogits[k]! * w2[k * h + u]!;
      }
    }
    for (let u = 0; u < h; u++) {
      if (hidden[i * h + u]! <= 0) continue;
      gb1[u]! += dHidden[u]!;
      for (let j = 0; j < d; j++) gw1[u * d + j]! += dHidden[u]! * x[i * d + j]!;
    }
  }
}
