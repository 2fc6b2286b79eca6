import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InferenceBackend } from '../../../lib/backends/inference-backend';
import { loadModelRegistry } from '../../../lib/models/model-loader';
import type { ManifestModel } from '../../../lib/models/model-manifest-types';
import { allocateNumeric } from '../../../lib/protocol/datatypes';
import { elementCount, type HostTensor } from '../../../lib/protocol/tensor';
import { ModelRepositoryError } from './model-repository-error';

const SILENT_LOGGER = { info: () => {}, error: () => {} };

/** The version of onnxruntime-web in `ortWebDir` (the runtime layer's package folder) or node_modules: what the proof ran on. */
export function onnxruntimeWebVersion(ortWebDir?: string): string {
  // The package's exports map hides package.json; its main file lies two folders below it.
  const dir = ortWebDir ?? join(require.resolve('onnxruntime-web'), '..', '..');
  return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * Proves one built model on the runtime Lambda serves it with: loads it exactly as the
 * function's INIT does (loadModelRegistry: size, sha256, signatures, one warm-up run on inputs
 * made from its signature) on onnxruntime-web, then, when it batches, runs a batch of two and
 * checks every output against the shape the manifest declares. A failure is an error naming
 * the model and saying what to do (an operator the WASM build lacks, an opset or IR version
 * newer than the runtime's, a config dim the graph does not produce).
 */
export async function proveOnOnnxruntimeWeb(
  model: ManifestModel, modelsDir: string, backend: InferenceBackend, modelFile: string, runtime = `onnxruntime-web ${onnxruntimeWebVersion()}`,
): Promise<void> {
  const label = `model '${model.name}' version ${model.version}`;
  const registry = await loadModelRegistry({
    modelsDir,
    manifest: { schemaVersion: 1, models: [model] },
    selection: [model.name],
    backendFor: (platform) => (backend.platforms.includes(platform) ? backend : undefined),
    warmup: true,
    logger: SILENT_LOGGER,
  });
  const entry = registry.entries[0]!;
  if (!entry.state.ready) {
    const shapes = proofInputs(model, 1).map((t) => `${t.name} [${t.shape.join(', ')}]`).join(', ');
    throw new ModelRepositoryError(`${label} (${modelFile}) does not run on ${runtime}, what Lambda runs: ${explainRuntimeFailure(entry.state.reason, shapes)}`, { file: modelFile, model: model.name });
  }
  const { session } = entry.state;
  try {
    const batches = model.maxBatchSize >= 2 ? [1, 2] : [1];
    for (const batch of batches) {
      const inputs = proofInputs(model, batch);
      let outputs: HostTensor[];
      try {
        outputs = await session.run(inputs);
      } catch (error) {
        const shapes = inputs.map((t) => `${t.name} [${t.shape.join(', ')}]`).join(', ');
        const hint = batch > 1
          ? `its first dim may not be a batch dim: set max_batch_size: 0 in config.pbtxt (and give full dims)`
          : `give the sizes it needs as dims in config.pbtxt (fixing its -1 dims) or a model_warmup entry`;
        throw new ModelRepositoryError(`${label} (${modelFile}) failed a run on ${runtime} with inputs ${shapes}: ${runtimeMessage(error)}; ${hint}`, { file: modelFile, model: model.name, cause: error });
      }
      for (const declared of model.outputs) {
        const produced = outputs.find((o) => o.name === declared.name);
        const fits = produced !== undefined && produced.shape.length === declared.shape.length
          && declared.shape.every((d, i) => (d === -1 ? true : produced.shape[i] === d)) && (model.maxBatchSize === 0 || produced.shape[0] === batch);
        if (!fits) {
          throw new ModelRepositoryError(
            `${label} (${modelFile}): output '${declared.name}' came out ${produced ? `[${produced.shape.join(', ')}]` : 'missing'} for a batch of ${batch}, but the config declares [${declared.shape.join(', ')}]; fix its dims in config.pbtxt (or leave them out to take the graph's)`,
            { file: modelFile, model: model.name },
          );
        }
      }
    }
  } finally {
    await session.dispose();
  }
}

/** Inputs as the INIT warm-up makes them (zeros; variable dims 1 first and 32 elsewhere, or the manifest's warmupShapes), at `batch`. */
function proofInputs(model: ManifestModel, batch: number): HostTensor[] {
  return model.inputs.map((signature) => {
    const base = model.warmupShapes?.[signature.name] ?? signature.shape.map((d, i) => (d === -1 ? (i === 0 ? 1 : 32) : d));
    const shape = model.maxBatchSize > 0 ? [batch, ...base.slice(1)] : [...base];
    const count = elementCount(shape);
    if (signature.datatype === 'BYTES') return { name: signature.name, datatype: 'BYTES', shape, data: Array.from({ length: count }, () => new Uint8Array(0)) };
    const data = allocateNumeric(signature.datatype, count);
    const fill = model.warmupFill?.[signature.name] ?? 0;
    if (fill !== 0) (data as { fill(v: number | bigint): unknown }).fill(data instanceof BigInt64Array || data instanceof BigUint64Array ? BigInt(fill) : fill);
    return { name: signature.name, datatype: signature.datatype, shape, data };
  });
}

function runtimeMessage(error: unknown): string {
  const message = (error as { message?: unknown })?.message;
  return typeof message === 'string' ? message : String(error);
}

/** onnxruntime's load errors, turned into what to do about them. Unrecognised ones are quoted as they are. */
export function explainRuntimeFailure(reason: string, warmupShapes = 'its inputs'): string {
  const text = reason.replace(/^model '[^']*': /, '').replace(/\/\S+\/onnxruntime\/\S+:\d+ /g, '');
  const opset = /Opset (\d+) is under development[\s\S]*?Current official support for domain (\S+) is till opset (\d+)/.exec(text);
  if (opset) {
    return `it is stamped with opset ${opset[1]} of ${opset[2]}, newer than the runtime supports (up to opset ${opset[3]}); re-export it with an opset of ${opset[3]} or lower (torch.onnx.export(..., opset_version=17))`;
  }
  const ir = /Unsupported model IR version: (\d+), max supported IR version: (\d+)/.exec(text);
  if (ir) return `its IR version ${ir[1]} is newer than the runtime reads (up to ${ir[2]}); re-export it with an older onnx package, or convert it with onnx.version_converter`;
  const kernel = /Could not find an implementation for (\w+)\((\d+)\) node with name '([^']*)'/.exec(text);
  if (kernel) {
    return `operator ${kernel[1]} (opset ${kernel[2]}, node '${kernel[3]}') has no kernel in onnxruntime-web's WASM build for the types it is given; re-export the model so that node gets types the runtime implements (e.g. float instead of int64), or serve it from the container task`;
  }
  const unregistered = /(\S+):(\w+)\(-?\d+\) is not a registered function\/op/.exec(text);
  if (unregistered) {
    return `operator ${unregistered[2]} of domain '${unregistered[1]}' is not in onnxruntime-web (a custom or training operator); re-export the model with standard ONNX operators`;
  }
  const unknownOp = /No Op registered for (\w+) with domain_version of (\d+)/.exec(text);
  if (unknownOp) return `operator ${unknownOp[1]} does not exist at opset ${unknownOp[2]} (it may be a custom operator or need another opset); re-export the model with standard ONNX operators`;
  const inferred = /(input|output) '([^']+)' has shape (\[[^\]]*\]) in the file, manifest says (\[[^\]]*\])/.exec(text);
  if (inferred) {
    const fixedFirst = /^\[1(,|\])/.test(inferred[3]!) && /^\[-1/.test(inferred[4]!);
    return `onnxruntime-web infers ${inferred[1]} '${inferred[2]}' as ${inferred[3]} (its shape inference fixes dims the graph leaves open), where the config or graph declares ${inferred[4]}; `
      + (fixedFirst ? 'its first dim is fixed at 1, so it has no batch dim: set max_batch_size: 0 in config.pbtxt and give the full dims' : 'give those dims in config.pbtxt');
  }
  const warmup = /^the warm-up run failed \(check the manifest's warmupShapes\/warmupFill\): ([\s\S]*)$/.exec(text);
  if (warmup) {
    return `a run on zeros of ${warmupShapes} (each -1 dim as 1 first, 32 elsewhere) failed: ${warmup[1]!.replace(/^failed to call OrtRun\(\)\. /, '')}; `
      + 'give the sizes it needs in config.pbtxt: dims that fix its -1 dims, or a model_warmup entry (zero_data: true) with shapes it runs';
  }
  if (/external data/i.test(text)) return 'it keeps tensors in external data files, which onnxruntime-web cannot open; save the model with the tensors inside (onnx.save_model(..., save_as_external_data=False))';
  return text;
}
