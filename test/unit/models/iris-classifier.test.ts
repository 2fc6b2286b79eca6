import { createHash } from 'node:crypto';
import { buildIrisClassifier, IRIS_CLASS_NAMES, loadIrisData } from '../../../layers/models/model-builders/iris-classifier';
import { IRIS_TRAINING_DEFAULTS, predictIrisClasses, trainIrisMlp } from '../../../layers/models/model-builders/iris-training';

/**
 * The iris model's bytes. It changes only when the training, the data or the writer
 * changes: then check the new accuracy and update this pin in the same commit.
 */
const IRIS_MODEL_SHA256 = 'fbeb740a88bf5966089708860f4fdfb121e969d83166af1ae5feeb1b1b5844d6';

describe('trainIrisMlp', () => {
  const { features, labels } = loadIrisData();

  it('fits the iris training set to at least 96% accuracy', () => {
    // Act
    const result = trainIrisMlp(features, labels, 3);

    // Assess
    expect(result.trainingAccuracy).toBeGreaterThanOrEqual(0.96);
    expect(result.finalLoss).toBeLessThan(0.1);
  });

  it('gives identical weights for the same seed and different ones for another seed', () => {
    // Act
    const first = trainIrisMlp(features, labels, 3);
    const second = trainIrisMlp(features, labels, 3);
    const otherSeed = trainIrisMlp(features, labels, 3, { ...IRIS_TRAINING_DEFAULTS, seed: 7 });

    // Assess
    expect(Array.from(second.weights.w1)).toEqual(Array.from(first.weights.w1));
    expect(Array.from(second.weights.w2)).toEqual(Array.from(first.weights.w2));
    expect(Array.from(otherSeed.weights.w1)).not.toEqual(Array.from(first.weights.w1));
  });

  it('standardises with the data set mean and population standard deviation', () => {
    // Act
    const { weights } = trainIrisMlp(features, labels, 3, { ...IRIS_TRAINING_DEFAULTS, epochs: 1 });

    // Assess: the published iris column means; petal length σ = 1.7594 (population), 1.7653 (sample)
    [5.8433, 3.0573, 3.758, 1.1993].forEach((mean, j) => expect(weights.featureMean[j]).toBeCloseTo(mean, 4));
    expect(weights.featureStd[2]).toBeCloseTo(1.7594, 4);
  });

  it('refuses labels that do not match the rows', () => {
    // Act / Assess
    expect(() => trainIrisMlp(features, labels.slice(1), 3)).toThrow('150 rows and 149 labels');
  });
});

describe('buildIrisClassifier', () => {
  const first = buildIrisClassifier();

  it('writes the same bytes on every build (pinned sha256)', () => {
    // Act
    const second = buildIrisClassifier();

    // Assess
    expect(createHash('sha256').update(second.bytes).digest('hex')).toBe(createHash('sha256').update(first.bytes).digest('hex'));
    expect(createHash('sha256').update(first.bytes).digest('hex')).toBe(IRIS_MODEL_SHA256);
  });

  it('reports training and cross-validated accuracy', () => {
    // Act
    const { metrics } = first;

    // Assess
    expect(metrics!.trainingAccuracy).toBeGreaterThanOrEqual(0.96);
    expect(metrics!.crossValidationAccuracy).toBeGreaterThanOrEqual(0.9);
    expect(metrics!.parameters).toBe(4 * 16 + 16 + 16 * 3 + 3);
  });

  it('names the classes as the data set does, and the reference predicts them', () => {
    // Prepare
    const { features, labels } = loadIrisData();
    const { weights } = trainIrisMlp(features, labels, 3);

    // Act
    const predicted = predictIrisClasses(weights, [features[0]!, features[50]!, features[149]!]);

    // Assess
    expect(IRIS_CLASS_NAMES).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(predicted).toEqual([0, 1, 2]);
  });
});
