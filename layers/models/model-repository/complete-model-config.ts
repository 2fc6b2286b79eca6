import type { DynamicBatchingSettings, ManifestModel } from '../../../lib/models/model-manifest-types';
import type { TensorSignature } from '../../../lib/protocol/tensor';
import type { OnnxSignature } from '../onnx-signature-reader';
import { ModelRepositoryError } from './model-repository-error';
import { ONNX_BACKEND, ONNX_PLATFORM, OIP_BY_TRITON_TYPE, type TritonModelConfig, type TritonTensorConfig } from './triton-model-config';

/** Triton's default max batch size for a model whose config leaves it out (its `--backend-config=default-max-batch-size`). */
export const DEFAULT_MAX_BATCH_SIZE = 4;

const TRITON_TYPE_BY_OIP = Object.fromEntries(Object.entries(OIP_BY_TRITON_TYPE).map(([triton, oip]) => [oip, triton]));

export interface CompleteModelConfigOptions {
  readonly model: string;
  readonly config: TritonModelConfig;
  /** config.pbtxt as named in messages, or undefined when the model has none. */
  readonly configFile: string | undefined;
  /** The ONNX file as named in messages (`iris/1/model.onnx`). */
  readonly modelFile: string;
  readonly signature: OnnxSignature;
  /** The lines of a label file named by `label_filename` (read relative to the model folder). */
  readonly readLabels: (filename: string) => { readonly labels: readonly string[]; readonly file: string };
}

/** The manifest fields a repository model's config and graph decide (the build adds name, version, file, sha256, bytes). */
export type CompletedModelFields = Pick<ManifestModel, 'inputs' | 'outputs' | 'maxBatchSize'>
  & Partial<Pick<ManifestModel, 'labels' | 'dynamicBatching' | 'parameters' | 'warmupShapes'>>;

/**
 * What Triton would serve for this config and graph: fields the config leaves out are completed
 * from the graph as Triton's auto-complete does (inputs and outputs with their types and dims;
 * a graph whose every input and output has a variable first dim gets max_batch_size 4 and the
 * dynamic batcher's defaults), and fields it gives are checked against the graph. A contradiction
 * is an error naming both files and what to write instead. Shapes in the result include the
 * batch dim (-1) when max_batch_size > 0, as the manifest's do.
 */
export function completeModelConfig(options: CompleteModelConfigOptions): CompletedModelFields {
  const { model, config, signature } = options;
  const where = options.configFile ?? options.modelFile;
  const fail = (what: string, file = where): never => {
    throw new ModelRepositoryError(`model '${model}': ${what}`, { file, model });
  };
  const against = `${options.configFile ?? 'config.pbtxt'} says`;

  if (config.name !== undefined && config.name !== model) {
    fail(`${against} name "${config.name}" but the folder is '${model}'; Triton requires them to match: set name: "${model}" or rename the folder`);
  }
  if (config.platform !== undefined && config.platform !== ONNX_PLATFORM) {
    fail(`platform "${config.platform}" is not served: hotpath runs ONNX models (platform: "${ONNX_PLATFORM}" or backend: "${ONNX_BACKEND}"); export the model to ONNX`);
  }
  if (config.backend !== undefined && config.backend !== ONNX_BACKEND) {
    fail(`backend "${config.backend}" is not served: hotpath runs ONNX models (backend: "${ONNX_BACKEND}"); export the model to ONNX`);
  }

  const graphTensors = [...signature.inputs, ...signature.outputs];
  const batchable = graphTensors.every((t) => t.shape.length >= 1 && t.shape[0] === -1);
  const maxBatchSize = config.maxBatchSize ?? (batchable ? DEFAULT_MAX_BATCH_SIZE : 0);
  if (config.maxBatchSize !== undefined && config.maxBatchSize > 0 && !batchable) {
    const fixed = graphTensors.find((t) => t.shape.length === 0 || t.shape[0] !== -1)!;
    fail(`${against} max_batch_size ${config.maxBatchSize}, but ${describe(fixed, signature)} in ${options.modelFile} has ${fixed.shape.length === 0 ? 'no dims' : `a fixed first dim (${fixed.shape[0]})`}, so it has no batch dim; set max_batch_size: 0 and give the full dims`);
  }

  const inputs = completeTensors('input', config.inputs, signature.inputs, maxBatchSize, options, fail, true);
  const outputs = completeTensors('output', config.outputs, signature.outputs, maxBatchSize, options, fail, false);

  const labels: Record<string, readonly string[]> = {};
  for (const tensor of config.outputs ?? []) {
    if (tensor.labelFilename === undefined) continue;
    const { labels: lines, file } = options.readLabels(tensor.labelFilename);
    const output = outputs.find((o) => o.name === tensor.name)!;
    const classes = output.shape[output.shape.length - 1];
    if (output.shape.length > (maxBatchSize > 0 ? 1 : 0) && classes !== undefined && classes !== -1 && classes !== lines.length) {
      fail(`${file} has ${lines.length} labels, but output '${tensor.name}' has ${classes} classes (shape [${output.shape.join(', ')}]); write one label per class, one per line`, file);
    }
    labels[tensor.name] = lines;
  }

  let dynamicBatching: DynamicBatchingSettings | undefined = config.dynamicBatching;
  if (dynamicBatching) {
    if (maxBatchSize < 1) fail(`${against} dynamic_batching, but max_batch_size is 0 (no batch dim); set max_batch_size to the largest batch, or remove dynamic_batching`);
    const over = (dynamicBatching.preferredBatchSizes ?? []).find((size) => size > maxBatchSize);
    if (over !== undefined) fail(`${against} preferred_batch_size ${over}, over max_batch_size ${maxBatchSize}; list sizes up to ${maxBatchSize}`);
  } else if (config.maxBatchSize === undefined && maxBatchSize > 1) {
    // Triton's auto-complete: a default max batch size comes with the dynamic batcher's defaults.
    dynamicBatching = { maxQueueDelayMicroseconds: 0, preferredBatchSizes: [], maxQueueSize: 0, defaultTimeoutMicroseconds: 0 };
  }

  return {
    inputs,
    outputs,
    maxBatchSize,
    ...(Object.keys(labels).length > 0 ? { labels } : {}),
    ...(dynamicBatching ? { dynamicBatching } : {}),
    ...(config.parameters && Object.keys(config.parameters).length > 0 ? { parameters: config.parameters } : {}),
    ...(config.warmup ? { warmupShapes: warmupShapes(config, inputs, maxBatchSize, fail) } : {}),
  };
}

function completeTensors(
  kind: 'input' | 'output', configured: readonly TritonTensorConfig[] | undefined, graph: readonly TensorSignature[], maxBatchSize: number,
  options: CompleteModelConfigOptions, fail: (what: string, file?: string) => never, exhaustive: boolean,
): TensorSignature[] {
  const configFile = options.configFile ?? 'config.pbtxt';
  const byName = new Map(graph.map((t) => [t.name, t]));
  const names = graph.map((t) => `'${t.name}'`).join(', ');
  const seen = new Set<string>();
  for (const tensor of configured ?? []) {
    if (seen.has(tensor.name)) fail(`${configFile} lists ${kind} '${tensor.name}' twice; list it once`);
    seen.add(tensor.name);
    if (!byName.has(tensor.name)) fail(`${configFile} names ${kind} '${tensor.name}', which ${options.modelFile} does not have (its ${kind}s: ${names}); use the graph's names`);
  }
  const missing = graph.filter((t) => !seen.has(t.name));
  if (exhaustive && configured !== undefined && configured.length > 0 && missing.length > 0) {
    fail(`${configFile} lists ${configured.map((t) => `'${t.name}'`).join(', ')} but ${options.modelFile} also takes ${kind} ${missing.map((t) => `'${t.name}'`).join(', ')}; list every input, or remove the input entries to complete them from the graph`);
  }
  const configuredByName = new Map((configured ?? []).map((t) => [t.name, t]));
  return graph.map((real) => {
    const tensor = configuredByName.get(real.name);
    if (!tensor) return real;
    const label = `${kind} '${real.name}'`;
    if (tensor.datatype !== undefined && tensor.datatype !== real.datatype) {
      fail(`${configFile} says ${label} is ${TRITON_TYPE_BY_OIP[tensor.datatype]}, but ${options.modelFile} has ${TRITON_TYPE_BY_OIP[real.datatype] ?? real.datatype}; set data_type: ${TRITON_TYPE_BY_OIP[real.datatype]}`);
    }
    if (tensor.dims === undefined) return real;
    const shape = maxBatchSize > 0 ? [-1, ...tensor.dims] : [...tensor.dims];
    const graphDims = maxBatchSize > 0 ? real.shape.slice(1) : real.shape;
    const contradicts = shape.length !== real.shape.length || real.shape.some((d, i) => d !== -1 && d !== shape[i]);
    if (contradicts) {
      fail(`${configFile} gives ${label} dims [${tensor.dims.join(', ')}]${maxBatchSize > 0 ? ` (after the batch dim, max_batch_size ${maxBatchSize})` : ''}, but ${options.modelFile} has shape [${real.shape.join(', ')}]; set dims: [${graphDims.join(', ')}] (a graph dim of -1 may be fixed to a size; a fixed one must be kept)`);
    }
    if (tensor.format !== undefined && tensor.dims.length !== 3) {
      fail(`${configFile} gives ${label} format ${tensor.format}, which needs 3 dims besides the batch dim, but dims are [${tensor.dims.join(', ')}]; fix dims or remove format`);
    }
    return { name: real.name, datatype: real.datatype, shape };
  });
}

function warmupShapes(
  config: TritonModelConfig, inputs: readonly TensorSignature[], maxBatchSize: number, fail: (what: string) => never,
): Record<string, readonly number[]> {
  const warmup = config.warmup!;
  const shapes: Record<string, readonly number[]> = {};
  const batch = maxBatchSize > 0 ? [Math.max(1, warmup.batchSize)] : [];
  if (maxBatchSize > 0 && warmup.batchSize > maxBatchSize) fail(`model_warmup batch_size ${warmup.batchSize} is over max_batch_size ${maxBatchSize}`);
  for (const [name, input] of Object.entries(warmup.inputs)) {
    const signature = inputs.find((s) => s.name === name);
    if (!signature) fail(`model_warmup names input '${name}', which the model does not have (its inputs: ${inputs.map((s) => `'${s.name}'`).join(', ')})`);
    if (signature!.datatype !== input.datatype) fail(`model_warmup input '${name}' is ${TRITON_TYPE_BY_OIP[input.datatype]}, the model's is ${TRITON_TYPE_BY_OIP[signature!.datatype]}`);
    const shape = [...batch, ...input.dims];
    if (shape.length !== signature!.shape.length || signature!.shape.some((d, i) => d !== -1 && d !== shape[i])) {
      fail(`model_warmup input '${name}' dims [${input.dims.join(', ')}] do not fit its shape [${signature!.shape.join(', ')}]${batch.length > 0 ? ' (dims exclude the batch dim)' : ''}`);
    }
    shapes[name] = shape;
  }
  return shapes;
}

function describe(tensor: TensorSignature, signature: OnnxSignature): string {
  return `${signature.inputs.includes(tensor) ? 'input' : 'output'} '${tensor.name}' (shape [${tensor.shape.join(', ')}])`;
}
