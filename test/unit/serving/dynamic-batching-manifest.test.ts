import { ManifestError, parseModelManifest } from '../../../lib/models/model-manifest';

function manifestWith(dynamicBatching: unknown, maxBatchSize = 64): unknown {
  return {
    schemaVersion: 1,
    models: [{
      name: 'mlp-small', version: '1', platform: 'onnx_onnxv1', file: 'mlp-small/1/model.onnx', sha256: 'a'.repeat(64), bytes: 10,
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 256] }], outputs: [{ name: 'output', datatype: 'FP32', shape: [-1, 10] }],
      maxBatchSize, serveByDefault: false, dynamicBatching,
    }],
  };
}

function refusal(value: unknown): string {
  try {
    parseModelManifest(value);
  } catch (error) {
    if (error instanceof ManifestError) return error.message;
    throw error;
  }
  throw new Error('expected a ManifestError, nothing was thrown');
}

describe('model-manifest dynamicBatching', () => {
  it('keeps Triton-style settings when they are well formed', () => {
    // Prepare
    const settings = { maxQueueDelayMicroseconds: 2000, preferredBatchSizes: [32, 64], maxQueueSize: 512, defaultTimeoutMicroseconds: 100_000 };

    // Act
    const manifest = parseModelManifest(manifestWith(settings));

    // Assess
    expect(manifest.models[0]!.dynamicBatching).toEqual(settings);
  });

  it.each([
    [{ maxQueueDelayMicroseconds: -1 }, 64, '"dynamicBatching.maxQueueDelayMicroseconds" must be a non-negative integer, got -1'],
    [{}, 64, '"dynamicBatching.maxQueueDelayMicroseconds" must be a non-negative integer, got undefined'],
    [{ maxQueueDelayMicroseconds: 100, preferredBatchSizes: [128] }, 64, '"dynamicBatching.preferredBatchSizes" must be an array of integers from 1 to maxBatchSize (64), got [128]'],
    [{ maxQueueDelayMicroseconds: 100, preferredBatchSizes: [8, 8] }, 64, 'lists a size twice: [8,8]'],
    [{ maxQueueDelayMicroseconds: 100, maxQueueSize: 1.5 }, 64, '"dynamicBatching.maxQueueSize" must be a non-negative integer, got 1.5'],
    [{ maxQueueDelayMicroseconds: 100, max_queue_size: 8 }, 64, '"dynamicBatching" has unknown key "max_queue_size"'],
    [{ maxQueueDelayMicroseconds: 100 }, 0, '"dynamicBatching" needs "maxBatchSize" of 1 or more'],
    ['fast', 64, '"dynamicBatching" must be an object'],
  ])('refuses %j (maxBatchSize %d) naming the field', (settings, maxBatchSize, message) => {
    // Act
    const reason = refusal(manifestWith(settings, maxBatchSize));

    // Assess
    expect(reason).toContain('(mlp-small)');
    expect(reason).toContain(message);
  });
});
