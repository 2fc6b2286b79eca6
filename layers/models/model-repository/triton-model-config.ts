import type { DynamicBatchingSettings, VersionPolicy } from '../../../lib/models/model-manifest-types';
import type { OipDatatype } from '../../../lib/protocol/tensor';
import { ModelRepositoryError } from './model-repository-error';
import { parseTextProto, type TextField, type TextValue } from './text-proto-parser';

/** Triton's `DataType` enum names and the Open Inference Protocol datatypes they are served as. */
export const OIP_BY_TRITON_TYPE: Readonly<Record<string, OipDatatype>> = {
  TYPE_BOOL: 'BOOL', TYPE_UINT8: 'UINT8', TYPE_UINT16: 'UINT16', TYPE_UINT32: 'UINT32', TYPE_UINT64: 'UINT64',
  TYPE_INT8: 'INT8', TYPE_INT16: 'INT16', TYPE_INT32: 'INT32', TYPE_INT64: 'INT64',
  TYPE_FP16: 'FP16', TYPE_FP32: 'FP32', TYPE_FP64: 'FP64', TYPE_STRING: 'BYTES',
};

/** One `input` or `output` entry. `dims` exclude the batch dim when max_batch_size > 0, as in Triton. */
export interface TritonTensorConfig {
  readonly name: string;
  readonly datatype?: OipDatatype;
  readonly dims?: readonly number[];
  /** Outputs only: a file beside config.pbtxt with one class label per line. */
  readonly labelFilename?: string;
  /** Inputs only: FORMAT_NHWC / FORMAT_NCHW, which Triton checks as three non-batch dims. */
  readonly format?: 'FORMAT_NHWC' | 'FORMAT_NCHW';
}


/** `model_warmup`: the shapes (and zero data) of the INIT warm-up run. */
export interface TritonModelWarmup {
  readonly name: string;
  readonly batchSize: number;
  readonly inputs: Readonly<Record<string, { readonly datatype: OipDatatype; readonly dims: readonly number[] }>>;
}

/** What a config.pbtxt says, fields absent where it does not say them (so the graph can complete them). */
export interface TritonModelConfig {
  readonly name?: string;
  readonly platform?: string;
  readonly backend?: string;
  /** Absent: completed from the graph. An explicit 0 means "no batch dimension", as in Triton. */
  readonly maxBatchSize?: number;
  readonly inputs?: readonly TritonTensorConfig[];
  readonly outputs?: readonly TritonTensorConfig[];
  readonly versionPolicy?: VersionPolicy;
  readonly dynamicBatching?: DynamicBatchingSettings;
  readonly defaultModelFilename?: string;
  readonly parameters?: Readonly<Record<string, string>>;
  readonly warmup?: TritonModelWarmup;
}

/** The platform/backend values that mean "an ONNX model served by onnxruntime". */
export const ONNX_PLATFORM = 'onnxruntime_onnx';
export const ONNX_BACKEND = 'onnxruntime';

type Scalar = 'string' | 'int' | 'uint' | 'bool';
type FieldType = Scalar | { readonly enum: readonly string[] } | { readonly message: MessageSchema } | { readonly map: Scalar | { readonly message: MessageSchema } };
interface FieldSpec {
  readonly type: FieldType;
  readonly repeated?: boolean;
}
/** A Triton message as far as hotpath reads it: the fields it serves, and each other Triton field with what to do instead. */
interface MessageSchema {
  readonly name: string;
  readonly fields: Readonly<Record<string, FieldSpec>>;
  readonly unsupported: Readonly<Record<string, string>>;
}

const DATA_TYPES = ['TYPE_INVALID', ...Object.keys(OIP_BY_TRITON_TYPE), 'TYPE_BF16'];
const TENSOR_RT_ONLY = 'Triton uses it for TensorRT models only; remove it';

const RESHAPE = 'hotpath serves tensors in the shape the graph declares; remove reshape and give dims the graph\'s shape (re-export the model with the shape you want to send)';
const INPUT: MessageSchema = {
  name: 'ModelInput',
  fields: { name: { type: 'string' }, data_type: { type: { enum: DATA_TYPES } }, dims: { type: 'int', repeated: true }, format: { type: { enum: ['FORMAT_NONE', 'FORMAT_NHWC', 'FORMAT_NCHW'] } } },
  unsupported: {
    reshape: RESHAPE,
    is_shape_tensor: TENSOR_RT_ONLY,
    is_non_linear_format_io: TENSOR_RT_ONLY,
    allow_ragged_batch: 'hotpath batches only requests of equal shapes; remove it',
    optional: 'hotpath requires every graph input in each request; remove it (or re-export the model without the input)',
  },
};
const OUTPUT: MessageSchema = {
  name: 'ModelOutput',
  fields: { name: { type: 'string' }, data_type: { type: { enum: DATA_TYPES } }, dims: { type: 'int', repeated: true }, label_filename: { type: 'string' } },
  unsupported: { reshape: RESHAPE, is_shape_tensor: TENSOR_RT_ONLY, is_non_linear_format_io: TENSOR_RT_ONLY },
};
const VERSION_POLICY: MessageSchema = {
  name: 'ModelVersionPolicy',
  fields: {
    latest: { type: { message: { name: 'ModelVersionPolicy.Latest', fields: { num_versions: { type: 'uint' } }, unsupported: {} } } },
    all: { type: { message: { name: 'ModelVersionPolicy.All', fields: {}, unsupported: {} } } },
    specific: { type: { message: { name: 'ModelVersionPolicy.Specific', fields: { versions: { type: 'int', repeated: true } }, unsupported: {} } } },
  },
  unsupported: {},
};
const QUEUE_POLICY: MessageSchema = {
  name: 'ModelQueuePolicy',
  fields: { timeout_action: { type: { enum: ['REJECT', 'DELAY'] } }, default_timeout_microseconds: { type: 'uint' }, max_queue_size: { type: 'uint' } },
  unsupported: { allow_timeout_override: 'a request\'s parameters.timeout always applies on hotpath (it can only shorten the deadline); remove it' },
};
const DYNAMIC_BATCHING: MessageSchema = {
  name: 'ModelDynamicBatching',
  fields: { preferred_batch_size: { type: 'int', repeated: true }, max_queue_delay_microseconds: { type: 'uint' }, default_queue_policy: { type: { message: QUEUE_POLICY } } },
  unsupported: {
    preserve_ordering: 'hotpath answers each request on its own connection, so there is no order to preserve; remove it',
    priority_levels: 'hotpath has one priority level; remove it',
    default_priority_level: 'hotpath has one priority level; remove it',
    priority_queue_policy: 'hotpath has one queue per model; use default_queue_policy',
  },
};
const INSTANCE_GROUP: MessageSchema = {
  name: 'ModelInstanceGroup',
  fields: { name: { type: 'string' }, kind: { type: { enum: ['KIND_AUTO', 'KIND_GPU', 'KIND_CPU', 'KIND_MODEL'] } }, count: { type: 'int' } },
  unsupported: {
    gpus: 'hotpath picks no GPUs per model; remove it',
    rate_limiter: 'hotpath has no rate limiter per instance group; bound load with HOTPATH_MAX_INFLIGHT',
    secondary_devices: TENSOR_RT_ONLY,
    profile: TENSOR_RT_ONLY,
    passive: 'hotpath has no passive instances; remove it',
    host_policy: 'hotpath has no host policies; remove it',
  },
};
const WARMUP_INPUT: MessageSchema = {
  name: 'ModelWarmup.Input',
  fields: { data_type: { type: { enum: DATA_TYPES } }, dims: { type: 'int', repeated: true }, zero_data: { type: 'bool' } },
  unsupported: {
    random_data: 'hotpath warms up on constant data; use zero_data: true',
    input_data_file: 'hotpath warms up on constant data; use zero_data: true',
  },
};
const WARMUP: MessageSchema = {
  name: 'ModelWarmup',
  fields: { name: { type: 'string' }, batch_size: { type: 'uint' }, inputs: { type: { map: { message: WARMUP_INPUT } } }, count: { type: 'uint' } },
  unsupported: {},
};
const PARAMETER: MessageSchema = { name: 'ModelParameter', fields: { string_value: { type: 'string' } }, unsupported: {} };

const MODEL_CONFIG: MessageSchema = {
  name: 'ModelConfig',
  fields: {
    name: { type: 'string' },
    platform: { type: 'string' },
    backend: { type: 'string' },
    version_policy: { type: { message: VERSION_POLICY } },
    max_batch_size: { type: 'int' },
    input: { type: { message: INPUT }, repeated: true },
    output: { type: { message: OUTPUT }, repeated: true },
    dynamic_batching: { type: { message: DYNAMIC_BATCHING } },
    instance_group: { type: { message: INSTANCE_GROUP }, repeated: true },
    default_model_filename: { type: 'string' },
    parameters: { type: { map: { message: PARAMETER } } },
    model_warmup: { type: { message: WARMUP }, repeated: true },
  },
  unsupported: {
    runtime: 'hotpath runs ONNX models on onnxruntime-web (Lambda) or onnxruntime-node; remove it',
    batch_input: 'hotpath adds no batch inputs; remove it',
    batch_output: 'hotpath adds no batch outputs; remove it',
    optimization: 'hotpath lets onnxruntime optimise the graph at session create; remove it',
    sequence_batching: 'hotpath serves stateless requests (a recurrent model takes its state as an input, as Silero VAD does); remove it',
    ensemble_scheduling: 'hotpath serves single ONNX models; chain them in the client, or export one ONNX graph',
    cc_model_filenames: 'hotpath picks no file per GPU; remove it',
    metric_tags: 'hotpath labels metrics by model and route only; remove it',
    model_operations: 'hotpath loads no custom operator libraries; re-export the model with standard ONNX operators',
    model_transaction_policy: 'hotpath answers each request once (no decoupled models); remove it',
    model_repository_agents: 'hotpath runs no repository agents; remove it',
    response_cache: 'hotpath has no response cache; remove it',
    model_metrics: 'hotpath has no per-model metric settings; remove it',
  },
};

/** A field as read against its schema: scalars, arrays of them, nested records, or maps. */
type Read = string | number | boolean | Read[] | { readonly [key: string]: Read };

/**
 * Reads a `config.pbtxt` for the fields hotpath serves. Strict: a Triton field hotpath does not
 * support is refused by name with what to do instead, a field Triton does not have is refused
 * as a misspelling, and a value of the wrong kind names its line. `file` is used in messages.
 *
 * @example
 * const config = readTritonModelConfig('max_batch_size: 8\ninput [{ name: "x" data_type: TYPE_FP32 dims: [4] }]', 'repo/iris/config.pbtxt');
 * // { maxBatchSize: 8, inputs: [{ name: 'x', datatype: 'FP32', dims: [4] }] }
 */
export function readTritonModelConfig(text: string, file: string): TritonModelConfig {
  const raw = readMessage(parseTextProto(text, file), MODEL_CONFIG, file) as Record<string, Read>;
  const fail = (what: string): never => {
    throw new ModelRepositoryError(`${file}: ${what}`, { file });
  };
  const config: { -readonly [K in keyof TritonModelConfig]: TritonModelConfig[K] } = {};
  if (raw.name !== undefined) config.name = raw.name as string;
  if (raw.platform !== undefined) config.platform = raw.platform as string;
  if (raw.backend !== undefined) config.backend = raw.backend as string;
  if (raw.max_batch_size !== undefined) {
    const value = raw.max_batch_size as number;
    if (value < 0) fail(`max_batch_size must be 0 (no batch dimension) or more, got ${value}`);
    config.maxBatchSize = value;
  }
  if (raw.input !== undefined) config.inputs = (raw.input as Record<string, Read>[]).map((entry, index) => tensorConfig(entry, `input[${index}]`, fail));
  if (raw.output !== undefined) config.outputs = (raw.output as Record<string, Read>[]).map((entry, index) => tensorConfig(entry, `output[${index}]`, fail));
  if (raw.version_policy !== undefined) config.versionPolicy = versionPolicy(raw.version_policy as Record<string, Read>, fail);
  if (raw.dynamic_batching !== undefined) config.dynamicBatching = dynamicBatching(raw.dynamic_batching as Record<string, Read>, fail);
  if (raw.instance_group !== undefined) checkInstanceGroups(raw.instance_group as Record<string, Read>[], fail);
  if (raw.default_model_filename !== undefined) config.defaultModelFilename = raw.default_model_filename as string;
  if (raw.parameters !== undefined) {
    const parameters = raw.parameters as Record<string, Record<string, Read>>;
    config.parameters = Object.fromEntries(Object.entries(parameters).map(([key, value]) => [key, (value.string_value as string | undefined) ?? '']));
  }
  if (raw.model_warmup !== undefined) config.warmup = modelWarmup(raw.model_warmup as Record<string, Read>[], fail);
  return config;
}

function tensorConfig(entry: Record<string, Read>, where: string, fail: (what: string) => never): TritonTensorConfig {
  const name = entry.name as string | undefined;
  if (name === undefined || name.length === 0) fail(`${where} has no name; give the graph's tensor name`);
  const label = `${where.startsWith('input') ? 'input' : 'output'} '${name}'`;
  const tensor: { -readonly [K in keyof TritonTensorConfig]: TritonTensorConfig[K] } = { name: name! };
  if (entry.data_type !== undefined) {
    const type = entry.data_type as string;
    const datatype = OIP_BY_TRITON_TYPE[type];
    if (!datatype) fail(`${label}: data_type ${type} cannot be served; use one of ${Object.keys(OIP_BY_TRITON_TYPE).join(', ')}`);
    tensor.datatype = datatype;
  }
  if (entry.dims !== undefined) {
    const dims = entry.dims as number[];
    const bad = dims.find((d) => d < -1);
    if (bad !== undefined) fail(`${label}: dims [${dims.join(', ')}] has ${bad}; a dim is a size, or -1 for a variable size`);
    tensor.dims = dims;
  }
  if (entry.label_filename !== undefined) tensor.labelFilename = entry.label_filename as string;
  if (entry.format !== undefined && entry.format !== 'FORMAT_NONE') tensor.format = entry.format as 'FORMAT_NHWC' | 'FORMAT_NCHW';
  return tensor;
}

function versionPolicy(raw: Record<string, Read>, fail: (what: string) => never): VersionPolicy {
  const kinds = Object.keys(raw);
  if (kinds.length !== 1) fail(`version_policy must hold one of latest, all or specific, it holds ${kinds.length === 0 ? 'none' : kinds.join(' and ')}`);
  if (raw.all !== undefined) return { all: true };
  if (raw.latest !== undefined) {
    const count = ((raw.latest as Record<string, Read>).num_versions as number | undefined) ?? 0;
    if (count < 1) fail('version_policy latest needs num_versions of 1 or more');
    return { latest: count };
  }
  const versions = ((raw.specific as Record<string, Read>).versions as number[] | undefined) ?? [];
  if (versions.length === 0) fail('version_policy specific needs at least one entry in versions');
  const bad = versions.find((v) => v < 0);
  if (bad !== undefined) fail(`version_policy specific lists version ${bad}; versions are the non-negative integers of the version folders`);
  return { specific: [...new Set(versions)].sort((a, b) => a - b) };
}

function dynamicBatching(raw: Record<string, Read>, fail: (what: string) => never): DynamicBatchingSettings {
  const preferred = (raw.preferred_batch_size as number[] | undefined) ?? [];
  const bad = preferred.find((size) => size < 1);
  if (bad !== undefined) fail(`dynamic_batching preferred_batch_size ${bad} must be 1 or more`);
  const queue = (raw.default_queue_policy as Record<string, Read> | undefined) ?? {};
  if (queue.timeout_action === 'DELAY') {
    fail('dynamic_batching default_queue_policy timeout_action DELAY is not supported: hotpath answers a request past its queue timeout with 504; use REJECT (the default)');
  }
  return {
    maxQueueDelayMicroseconds: (raw.max_queue_delay_microseconds as number | undefined) ?? 0,
    preferredBatchSizes: [...preferred],
    maxQueueSize: (queue.max_queue_size as number | undefined) ?? 0,
    defaultTimeoutMicroseconds: (queue.default_timeout_microseconds as number | undefined) ?? 0,
  };
}

/** One instance on CPU is what hotpath runs per process; say so where a config asks for more or for a GPU. */
function checkInstanceGroups(groups: readonly Record<string, Read>[], fail: (what: string) => never): void {
  if (groups.length > 1) fail(`instance_group lists ${groups.length} groups; hotpath runs one instance of each model per process (scale with Lambda concurrency or more server processes), so give one group of count 1 or remove instance_group`);
  const group = groups[0];
  if (!group) return;
  const kind = (group.kind as string | undefined) ?? 'KIND_AUTO';
  if (kind !== 'KIND_AUTO' && kind !== 'KIND_CPU') fail(`instance_group kind ${kind} is not supported: hotpath runs ONNX models on CPU (onnxruntime-web on Lambda); use KIND_CPU or remove instance_group`);
  const count = (group.count as number | undefined) ?? 1;
  if (count !== 1) fail(`instance_group count ${count} is not supported: hotpath runs one instance of each model per process (scale with Lambda concurrency or more server processes); use count: 1`);
}

function modelWarmup(entries: readonly Record<string, Read>[], fail: (what: string) => never): TritonModelWarmup {
  if (entries.length !== 1) fail(`model_warmup lists ${entries.length} entries; hotpath runs one warm-up at load, so give one`);
  const entry = entries[0]!;
  const count = (entry.count as number | undefined) ?? 1;
  if (count > 1) fail(`model_warmup count ${count}: hotpath runs the warm-up once; use count: 1`);
  const inputs: Record<string, { datatype: OipDatatype; dims: readonly number[] }> = {};
  for (const [name, input] of Object.entries((entry.inputs as Record<string, Record<string, Read>> | undefined) ?? {})) {
    const type = input.data_type as string | undefined;
    const datatype = type === undefined ? undefined : OIP_BY_TRITON_TYPE[type];
    if (!datatype) fail(`model_warmup input '${name}' needs a data_type hotpath serves (${Object.keys(OIP_BY_TRITON_TYPE).join(', ')}), got ${type ?? 'none'}`);
    if (input.zero_data !== true) fail(`model_warmup input '${name}' needs zero_data: true (hotpath warms up on zeros)`);
    const dims = (input.dims as number[] | undefined) ?? [];
    if (dims.some((d) => d < 0)) fail(`model_warmup input '${name}': dims [${dims.join(', ')}] must be sizes (no -1)`);
    inputs[name] = { datatype: datatype!, dims };
  }
  return { name: (entry.name as string | undefined) ?? 'warmup', batchSize: (entry.batch_size as number | undefined) ?? 0, inputs };
}

function readMessage(fields: readonly TextField[], schema: MessageSchema, file: string): Record<string, Read> {
  const result: Record<string, Read> = {};
  const fail = (field: TextField | TextValue, what: string): never => {
    throw new ModelRepositoryError(`${file}:${field.at.line}:${field.at.column}: ${what}`, { file });
  };
  for (const field of fields) {
    const spec = schema.fields[field.name];
    if (!spec) {
      const advice = schema.unsupported[field.name];
      if (advice !== undefined) fail(field, `${schema.name} field '${field.name}' is not supported: ${advice}`);
      const known = [...Object.keys(schema.fields), ...Object.keys(schema.unsupported)].sort();
      fail(field, `'${field.name}' is not a field of Triton's ${schema.name}${known.length > 0 ? ` (its fields: ${known.join(', ')})` : ''}; check the spelling`);
    }
    const type = spec!.type;
    if (typeof type === 'object' && 'map' in type) {
      const map = (result[field.name] ?? {}) as Record<string, Read>;
      const { key, value } = readMapEntry(field, type.map, file, fail);
      if (key in map) fail(field, `${schema.name} field '${field.name}' has key '${key}' twice`);
      map[key] = value;
      result[field.name] = map;
      continue;
    }
    const value = readValue(field, field.value, type, file, fail);
    if (spec!.repeated) {
      result[field.name] = [...((result[field.name] as Read[] | undefined) ?? []), value];
    } else {
      if (field.name in result) fail(field, `${schema.name} field '${field.name}' is set twice; it takes one value`);
      // A oneof (version_policy's latest/all/specific) is checked by the caller, which sees every key.
      result[field.name] = value;
    }
  }
  return result;
}

function readMapEntry(
  field: TextField, valueType: Scalar | { readonly message: MessageSchema }, file: string, fail: (at: TextField | TextValue, what: string) => never,
): { key: string; value: Read } {
  if (field.value.kind !== 'message') return fail(field, `'${field.name}' is a map: write ${field.name} { key: "..." value: ... }`);
  let key: string | undefined;
  let value: Read | undefined;
  for (const part of field.value.fields) {
    if (part.name === 'key' && key === undefined && part.value.kind === 'string') key = part.value.value;
    else if (part.name === 'value' && value === undefined) value = readValue(part, part.value, valueType, file, fail);
    else fail(part, `'${field.name}' entries hold one key (a string) and one value, found '${part.name}'`);
  }
  if (key === undefined) return fail(field, `'${field.name}' entry has no key`);
  return { key, value: value ?? (typeof valueType === 'object' ? {} : '') };
}

function readValue(field: TextField, value: TextValue, type: FieldType, file: string, fail: (at: TextField | TextValue, what: string) => never): Read {
  if (typeof type === 'object' && 'message' in type) {
    if (value.kind !== 'message') return fail(value, `'${field.name}' is a message: write ${field.name} { ... }`);
    return readMessage(value.fields, type.message, file);
  }
  if (value.kind === 'message') return fail(value, `'${field.name}' takes a value, not a message`);
  if (typeof type === 'object' && 'enum' in type) {
    if (value.kind !== 'identifier' || !type.enum.includes(value.value)) {
      return fail(value, `'${field.name}' must be one of ${type.enum.join(', ')}, got ${describeValue(value)}`);
    }
    return value.value;
  }
  if (typeof type === 'object') return fail(value, `'${field.name}' is a map`);
  switch (type) {
    case 'string':
      if (value.kind !== 'string') return fail(value, `'${field.name}' must be a quoted string, got ${describeValue(value)}`);
      return value.value;
    case 'bool':
      if (value.kind === 'identifier' && /^(true|t|True)$/.test(value.value)) return true;
      if (value.kind === 'identifier' && /^(false|f|False)$/.test(value.value)) return false;
      if (value.kind === 'number' && (value.value === 0 || value.value === 1) && /^[01]$/.test(value.text)) return value.value === 1;
      return fail(value, `'${field.name}' must be true or false, got ${describeValue(value)}`);
    default:
      if (value.kind !== 'number' || !Number.isSafeInteger(value.value) || /[.eE]/.test(value.text.replace(/^-?0[xX].*/, '')) || (type === 'uint' && value.value < 0)) {
        return fail(value, `'${field.name}' must be ${type === 'uint' ? 'a non-negative' : 'an'} integer, got ${describeValue(value)}`);
      }
      return value.value;
  }
}

function describeValue(value: TextValue): string {
  switch (value.kind) {
    case 'string':
      return JSON.stringify(value.value);
    case 'number':
      return value.text;
    case 'identifier':
      return value.value;
    default:
      return 'a message';
  }
}
