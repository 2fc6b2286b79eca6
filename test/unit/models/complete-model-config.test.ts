import { completeModelConfig, DEFAULT_MAX_BATCH_SIZE, type CompleteModelConfigOptions } from '../../../layers/models/model-repository/complete-model-config';
import { ModelRepositoryError } from '../../../layers/models/model-repository/model-repository-error';
import { readTritonModelConfig } from '../../../layers/models/model-repository/triton-model-config';
import type { OnnxSignature } from '../../../layers/models/onnx-signature-reader';

/** An iris-like graph: input [batch, 4] → probabilities [batch, 3] and label [batch]. */
const CLASSIFIER: OnnxSignature = {
  inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }],
  outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 3] }, { name: 'label', datatype: 'INT64', shape: [-1] }],
};
/** A graph with no batch dim: Silero-VAD-like, a scalar input and a state batched on dim 1. */
const UNBATCHED: OnnxSignature = {
  inputs: [{ name: 'audio', datatype: 'FP32', shape: [-1, -1] }, { name: 'sr', datatype: 'INT64', shape: [] }],
  outputs: [{ name: 'speech', datatype: 'FP32', shape: [-1, 1] }],
};

function complete(configText: string | undefined, signature: OnnxSignature = CLASSIFIER, labels: Record<string, string[]> = {}) {
  const options: CompleteModelConfigOptions = {
    model: 'iris',
    config: configText === undefined ? {} : readTritonModelConfig(configText, 'iris/config.pbtxt'),
    configFile: configText === undefined ? undefined : 'iris/config.pbtxt',
    modelFile: 'iris/1/model.onnx',
    signature,
    readLabels: (filename) => {
      const lines = labels[filename];
      if (!lines) throw new Error(`test: no label file ${filename}`);
      return { labels: lines, file: `iris/${filename}` };
    },
  };
  return completeModelConfig(options);
}

function refusal(configText: string | undefined, signature: OnnxSignature = CLASSIFIER, labels: Record<string, string[]> = {}): ModelRepositoryError {
  try {
    complete(configText, signature, labels);
  } catch (error) {
    if (error instanceof ModelRepositoryError) return error;
    throw error;
  }
  throw new Error('expected a ModelRepositoryError');
}

describe('completeModelConfig', () => {
  it('completes a model without config.pbtxt from the graph as Triton does: a variable first dim everywhere is the batch dim, max_batch_size 4, the dynamic batcher on', () => {
    const fields = complete(undefined);

    expect(fields).toEqual({
      inputs: CLASSIFIER.inputs,
      outputs: CLASSIFIER.outputs,
      maxBatchSize: DEFAULT_MAX_BATCH_SIZE,
      dynamicBatching: { maxQueueDelayMicroseconds: 0, preferredBatchSizes: [], maxQueueSize: 0, defaultTimeoutMicroseconds: 0 },
    });
  });

  it('gives a graph without a batch dim on every tensor max_batch_size 0 and its full shapes', () => {
    expect(complete(undefined, UNBATCHED)).toEqual({ inputs: UNBATCHED.inputs, outputs: UNBATCHED.outputs, maxBatchSize: 0 });
  });

  it('reads dims after the batch dim when max_batch_size > 0, and lets a config fix a variable graph dim', () => {
    const signature: OnnxSignature = { inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3, -1, -1] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1, -1, -1] }] };

    const fields = complete('max_batch_size: 8\ninput [{ name: "x" data_type: TYPE_FP32 format: FORMAT_NCHW dims: [3, 224, 224] }]', signature);

    expect(fields.inputs).toEqual([{ name: 'x', datatype: 'FP32', shape: [-1, 3, 224, 224] }]);
    expect(fields.outputs).toEqual(signature.outputs);
    expect(fields.maxBatchSize).toBe(8);
    expect(fields.dynamicBatching).toBeUndefined();
  });

  it('reads dims as the full shape when max_batch_size is 0', () => {
    const fields = complete('max_batch_size: 0\ninput [{ name: "audio" dims: [1, 576] }, { name: "sr" dims: [] }]', UNBATCHED);

    expect(fields.inputs).toEqual([{ name: 'audio', datatype: 'FP32', shape: [1, 576] }, { name: 'sr', datatype: 'INT64', shape: [] }]);
    expect(fields.maxBatchSize).toBe(0);
  });

  it('keeps labels, dynamic batching, parameters and warm-up shapes from the config', () => {
    const text = `max_batch_size: 16
      output [{ name: "probabilities" label_filename: "labels.txt" }]
      dynamic_batching { preferred_batch_size: [8] max_queue_delay_microseconds: 200 }
      parameters { key: "k" value { string_value: "v" } }
      model_warmup [{ batch_size: 2 inputs { key: "input" value { data_type: TYPE_FP32 dims: [4] zero_data: true } } }]`;

    const fields = complete(text, CLASSIFIER, { 'labels.txt': ['setosa', 'versicolor', 'virginica'] });

    expect(fields.labels).toEqual({ probabilities: ['setosa', 'versicolor', 'virginica'] });
    expect(fields.dynamicBatching).toEqual({ maxQueueDelayMicroseconds: 200, preferredBatchSizes: [8], maxQueueSize: 0, defaultTimeoutMicroseconds: 0 });
    expect(fields.parameters).toEqual({ k: 'v' });
    expect(fields.warmupShapes).toEqual({ input: [2, 4] });
  });

  it.each([
    ['name: "setosa"', undefined, "model 'iris': iris/config.pbtxt says name \"setosa\" but the folder is 'iris'; Triton requires them to match"],
    ['platform: "tensorrt_plan"', undefined, 'platform "tensorrt_plan" is not served: hotpath runs ONNX models'],
    ['backend: "python"', undefined, 'backend "python" is not served'],
    ['max_batch_size: 4', UNBATCHED, "iris/config.pbtxt says max_batch_size 4, but input 'sr' (shape []) in iris/1/model.onnx has no dims, so it has no batch dim; set max_batch_size: 0"],
    ['max_batch_size: 8\ninput [{ name: "input" dims: [5] }]', undefined, "iris/config.pbtxt gives input 'input' dims [5] (after the batch dim, max_batch_size 8), but iris/1/model.onnx has shape [-1, 4]; set dims: [4]"],
    ['max_batch_size: 0\ninput [{ name: "input" dims: [4] }]', undefined, "gives input 'input' dims [4], but iris/1/model.onnx has shape [-1, 4]; set dims: [-1, 4]"],
    ['input [{ name: "input" data_type: TYPE_FP64 }]', undefined, "iris/config.pbtxt says input 'input' is TYPE_FP64, but iris/1/model.onnx has TYPE_FP32; set data_type: TYPE_FP32"],
    ['input [{ name: "features" }]', undefined, "iris/config.pbtxt names input 'features', which iris/1/model.onnx does not have (its inputs: 'input')"],
    ['output [{ name: "probabilities" }, { name: "probabilities" }]', undefined, "lists output 'probabilities' twice"],
    ['max_batch_size: 0\ndynamic_batching { }', undefined, 'says dynamic_batching, but max_batch_size is 0'],
    ['max_batch_size: 4\ndynamic_batching { preferred_batch_size: [8] }', undefined, 'preferred_batch_size 8, over max_batch_size 4'],
    ['input [{ name: "input" format: FORMAT_NHWC dims: [4] }]', undefined, 'format FORMAT_NHWC, which needs 3 dims besides the batch dim'],
    ['model_warmup [{ inputs { key: "input" value { data_type: TYPE_FP32 dims: [5] zero_data: true } } }]', undefined, "model_warmup input 'input' dims [5] do not fit its shape [-1, 4]"],
  ])('refuses a config that contradicts the graph (%s), naming both', (text, signature, message) => {
    expect(refusal(text, signature ?? CLASSIFIER).message).toContain(message);
  });

  it('refuses a config that lists some inputs and not others', () => {
    const error = refusal('max_batch_size: 0\ninput [{ name: "audio" }]', UNBATCHED);

    expect(error.message).toContain("iris/config.pbtxt lists 'audio' but iris/1/model.onnx also takes input 'sr'");
  });

  it('refuses a label file with a line count that is not the output\'s class count, naming the label file', () => {
    const error = refusal('output [{ name: "probabilities" label_filename: "labels.txt" }]', CLASSIFIER, { 'labels.txt': ['a', 'b'] });

    expect(error.message).toBe("model 'iris': iris/labels.txt has 2 labels, but output 'probabilities' has 3 classes (shape [-1, 3]); write one label per class, one per line");
    expect(error.file).toBe('iris/labels.txt');
  });
});
