import { ModelRepositoryError } from '../../../layers/models/model-repository/model-repository-error';
import { readTritonModelConfig } from '../../../layers/models/model-repository/triton-model-config';

const FILE = 'iris/config.pbtxt';

function refusal(text: string): string {
  try {
    readTritonModelConfig(text, FILE);
  } catch (error) {
    if (error instanceof ModelRepositoryError) {
      expect(error.file).toBe(FILE);
      return error.message;
    }
    throw error;
  }
  throw new Error('expected a ModelRepositoryError');
}

describe('readTritonModelConfig', () => {
  it('reads every field hotpath serves, as a Triton config writes them', () => {
    const text = `
      name: "iris"
      platform: "onnxruntime_onnx"
      backend: "onnxruntime"
      max_batch_size: 64
      version_policy: { latest: { num_versions: 2 } }
      input [ { name: "input", data_type: TYPE_FP32, format: FORMAT_NONE, dims: [ 4 ] } ]
      output [
        { name: "probabilities", data_type: TYPE_FP32, dims: [ 3 ], label_filename: "labels.txt" },
        { name: "label", data_type: TYPE_INT64, dims: [ ] }
      ]
      dynamic_batching {
        preferred_batch_size: [ 8, 16 ]
        max_queue_delay_microseconds: 500
        default_queue_policy { timeout_action: REJECT, default_timeout_microseconds: 100000, max_queue_size: 128 }
      }
      instance_group [ { name: "cpu", kind: KIND_CPU, count: 1 } ]
      default_model_filename: "iris.onnx"
      parameters { key: "owner" value: { string_value: "ml-team" } }
      parameters [ { key: "note", value: { string_value: "" } } ]
      model_warmup [ { name: "w", batch_size: 2, inputs { key: "input" value: { data_type: TYPE_FP32, dims: [ 4 ], zero_data: true } } } ]
    `;

    const config = readTritonModelConfig(text, FILE);

    expect(config).toEqual({
      name: 'iris', platform: 'onnxruntime_onnx', backend: 'onnxruntime', maxBatchSize: 64,
      versionPolicy: { latest: 2 },
      inputs: [{ name: 'input', datatype: 'FP32', dims: [4] }],
      outputs: [
        { name: 'probabilities', datatype: 'FP32', dims: [3], labelFilename: 'labels.txt' },
        { name: 'label', datatype: 'INT64' },
      ],
      dynamicBatching: { maxQueueDelayMicroseconds: 500, preferredBatchSizes: [8, 16], maxQueueSize: 128, defaultTimeoutMicroseconds: 100000 },
      defaultModelFilename: 'iris.onnx',
      parameters: { owner: 'ml-team', note: '' },
      warmup: { name: 'w', batchSize: 2, inputs: { input: { datatype: 'FP32', dims: [4] } } },
    });
  });

  it('leaves out what the config does not say, so the graph can complete it', () => {
    expect(readTritonModelConfig('', FILE)).toEqual({});
    expect(readTritonModelConfig('max_batch_size: 0', FILE)).toEqual({ maxBatchSize: 0 });
  });

  it.each([
    ['version_policy: { all: {} }', { all: true }],
    ['version_policy: { specific: { versions: [3, 1, 3] } }', { specific: [1, 3] }],
  ])('reads version_policy %s', (text, policy) => {
    expect(readTritonModelConfig(text, FILE).versionPolicy).toEqual(policy);
  });

  it('gives dynamic_batching { } Triton\'s defaults', () => {
    expect(readTritonModelConfig('dynamic_batching { }', FILE).dynamicBatching).toEqual({
      maxQueueDelayMicroseconds: 0, preferredBatchSizes: [], maxQueueSize: 0, defaultTimeoutMicroseconds: 0,
    });
  });

  it.each([
    ['input [{ name: "x" reshape: { shape: [2, 2] } }]', "iris/config.pbtxt:1:20: ModelInput field 'reshape' is not supported: hotpath serves tensors in the shape the graph declares"],
    ['output [{ name: "y" reshape: { shape: [4] } }]', "ModelOutput field 'reshape' is not supported"],
    ['sequence_batching { }', "ModelConfig field 'sequence_batching' is not supported: hotpath serves stateless requests"],
    ['ensemble_scheduling { }', "ModelConfig field 'ensemble_scheduling' is not supported"],
    ['optimization { graph { level: 1 } }', "ModelConfig field 'optimization' is not supported"],
    ['dynamic_batching { preserve_ordering: true }', "ModelDynamicBatching field 'preserve_ordering' is not supported"],
    ['dynamic_batching { priority_levels: 2 }', "ModelDynamicBatching field 'priority_levels' is not supported"],
    ['dynamic_batching { default_queue_policy { allow_timeout_override: true } }', "ModelQueuePolicy field 'allow_timeout_override' is not supported"],
    ['input [{ name: "x" optional: true }]', "ModelInput field 'optional' is not supported"],
    ['instance_group [{ gpus: [0] }]', "ModelInstanceGroup field 'gpus' is not supported"],
    ['model_warmup [{ inputs { key: "x" value { random_data: true } } }]', "ModelWarmup.Input field 'random_data' is not supported: hotpath warms up on constant data; use zero_data: true"],
    ['response_cache { enable: true }', "ModelConfig field 'response_cache' is not supported"],
  ])('refuses the unsupported Triton field in %s by name, saying what to do', (text, message) => {
    expect(refusal(text)).toContain(message);
  });

  it.each([
    ['max_batch: 8', "iris/config.pbtxt:1:1: 'max_batch' is not a field of Triton's ModelConfig (its fields: "],
    ['input [{ name: "x" dim: [4] }]', "'dim' is not a field of Triton's ModelInput"],
  ])('refuses a field Triton does not have (%s) as a misspelling', (text, message) => {
    expect(refusal(text)).toContain(message);
    expect(refusal(text)).toContain('check the spelling');
  });

  it.each([
    ['input [{ name: "x" data_type: TYPE_FLOAT32 }]', "'data_type' must be one of TYPE_INVALID, TYPE_BOOL"],
    ['input [{ name: "x" data_type: TYPE_BF16 }]', "input 'x': data_type TYPE_BF16 cannot be served; use one of TYPE_BOOL"],
    ['max_batch_size: "8"', "iris/config.pbtxt:1:17: 'max_batch_size' must be an integer, got \"8\""],
    ['max_batch_size: 8.5', "'max_batch_size' must be an integer, got 8.5"],
    ['max_batch_size: -1', 'max_batch_size must be 0 (no batch dimension) or more, got -1'],
    ['max_batch_size: 4 max_batch_size: 8', "ModelConfig field 'max_batch_size' is set twice"],
    ['name: iris', "'name' must be a quoted string, got iris"],
    ['input { name: "x" dims: [-2] }', "input 'x': dims [-2] has -2"],
    ['input { dims: [4] }', 'input[0] has no name'],
    ['version_policy { latest { num_versions: 0 } }', 'version_policy latest needs num_versions of 1 or more'],
    ['version_policy { latest { num_versions: 1 } all { } }', 'version_policy must hold one of latest, all or specific, it holds latest and all'],
    ['version_policy { specific { } }', 'version_policy specific needs at least one entry in versions'],
    ['dynamic_batching { preferred_batch_size: [0] }', 'preferred_batch_size 0 must be 1 or more'],
    ['dynamic_batching { default_queue_policy { timeout_action: DELAY } }', 'timeout_action DELAY is not supported'],
    ['instance_group [{ kind: KIND_GPU }]', 'instance_group kind KIND_GPU is not supported'],
    ['instance_group [{ count: 2 }]', 'instance_group count 2 is not supported'],
    ['instance_group [{ }, { }]', 'instance_group lists 2 groups'],
    ['model_warmup [{ inputs { key: "x" value { data_type: TYPE_FP32 dims: [4] } } }]', "model_warmup input 'x' needs zero_data: true"],
    ['parameters { key: "a" value { string_value: "1" } } parameters { key: "a" value { string_value: "2" } }', "has key 'a' twice"],
    ['dynamic_batching: 5', "'dynamic_batching' is a message: write dynamic_batching { ... }"],
  ])('refuses the wrong value in %s naming the field', (text, message) => {
    expect(refusal(text)).toContain(message);
  });
});
