import type { ManifestModel } from '../models/model-manifest-types';
import { BatchInputError } from './batch-errors';
import type { InputFormat } from './input-format';

/** How a model's one input is fed from a file: a row of `features` numbers, or an RGB image. */
export type BatchModelInput =
  | { readonly kind: 'table'; readonly name: string; readonly features: number }
  | { readonly kind: 'image'; readonly name: string; readonly channels: number };

/**
 * The model's input as batch scoring feeds it: one FP32 input `[-1, features]` (tabular) or
 * `[-1, channels, -1, -1]` (images). Models with several inputs (Silero VAD's state) or another
 * shape are refused with the reason, as are formats that do not fit the input (a CSV for an image model).
 */
export function batchModelInput(manifest: ManifestModel, format: InputFormat): BatchModelInput {
  const id = `model '${manifest.name}' version '${manifest.version}'`;
  if (manifest.inputs.length !== 1) {
    throw new BatchInputError(`${id} takes ${manifest.inputs.length} inputs (${manifest.inputs.map((i) => i.name).join(', ')}); batch scoring feeds models with one input`);
  }
  const input = manifest.inputs[0]!;
  if (input.datatype !== 'FP32') throw new BatchInputError(`${id}: input '${input.name}' is ${input.datatype}; batch scoring feeds FP32 inputs`);
  if (manifest.maxBatchSize <= 0 || input.shape[0] !== -1) throw new BatchInputError(`${id} has no batch dimension; batch scoring needs one`);
  const image = format === 'png' || format === 'jpeg';
  if (input.shape.length === 2 && input.shape[1]! > 0) {
    if (image) throw new BatchInputError(`${id} takes rows of ${input.shape[1]} features, not images; send CSV, JSONL or NPY`);
    return { kind: 'table', name: input.name, features: input.shape[1]! };
  }
  if (input.shape.length === 4 && input.shape[1]! > 0) {
    if (!image) throw new BatchInputError(`${id} takes images [${input.shape.join(', ')}]; send PNG or JPEG`);
    return { kind: 'image', name: input.name, channels: input.shape[1]! };
  }
  throw new BatchInputError(`${id}: input '${input.name}' has shape [${input.shape.join(', ')}]; batch scoring feeds [-1, features] or [-1, channels, -1, -1]`);
}

/** The batch size a model prefers: its largest preferred dynamic-batching size, else its max batch size. */
export function preferredBatchSize(manifest: ManifestModel): number {
  const preferred = manifest.dynamicBatching?.preferredBatchSizes;
  return preferred && preferred.length > 0 ? Math.max(...preferred) : manifest.maxBatchSize;
}
