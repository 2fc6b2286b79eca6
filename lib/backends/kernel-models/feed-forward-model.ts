import { FeedForwardProgram } from '../../../kernels/feed-forward/feed-forward-kernels';
import { decodeFeedForwardPlan, type PlanTensor } from '../../../kernels/feed-forward/feed-forward-plan';
import { InvalidRequestError, ModelVerificationError } from '../../errors/hotpath-error';
import type { HostTensor, TensorSignature } from '../../protocol/tensor';
import type { KernelModelKind } from '../kernel-backend';

function signature(tensor: PlanTensor): TensorSignature {
  return { name: tensor.name, datatype: tensor.datatype, shape: [...tensor.shape] };
}

/** The batch rows of the request, and each plan input's values; shapes checked against the plan's. */
function planInputs(inputs: readonly HostTensor[], planned: readonly PlanTensor[]): { rows: number; values: Float32Array[] } {
  let rows: number | undefined;
  const values = planned.map((p) => {
    const t = inputs.find((i) => i.name === p.name);
    if (!t) throw new InvalidRequestError(`input '${p.name}' is missing (inputs given: ${inputs.map((i) => `'${i.name}'`).join(', ') || 'none'})`);
    if (t.datatype !== 'FP32' || !(t.data instanceof Float32Array)) throw new InvalidRequestError(`input '${p.name}': expected datatype FP32, got ${t.datatype}`);
    const fits = t.shape.length === p.shape.length && p.shape.every((d, i) => d === -1 || d === t.shape[i]);
    if (!fits) throw new InvalidRequestError(`input '${p.name}': expected shape [${p.shape.join(',')}], got [${t.shape.join(',')}]`);
    if (p.shape[0] === -1) {
      if (rows !== undefined && rows !== t.shape[0]) throw new InvalidRequestError(`input '${p.name}': batch of ${t.shape[0]} rows, the other inputs have ${rows}`);
      rows = t.shape[0]!;
    }
    return t.data;
  });
  return { rows: rows ?? 1, values };
}

/**
 * The kernel backend's executor for feed-forward ONNX graphs: runs the kernel plan the
 * models-layer build proved against onnxruntime-node (`*.feed-forward.bin`, written by
 * layers/models/kernel-plans.ts), with the graph's own signature, so the answers have the
 * same names, datatypes and shapes as onnxruntime-web's for the same model.
 */
export const feedForwardExecutor: KernelModelKind = {
  kind: 'feed-forward',
  // kernelPlanSuffix('feed-forward'), spelled out: kernel-backend.ts imports this module (registerKernelExecutor checks it).
  fileSuffix: '.feed-forward.bin',
  load(bytes, model) {
    let program: FeedForwardProgram;
    try {
      program = new FeedForwardProgram(decodeFeedForwardPlan(bytes));
    } catch (cause) {
      throw new ModelVerificationError(`model '${model.name}': ${(cause as Error).message}`, cause);
    }
    const { header } = program;
    return {
      inputs: header.inputs.map(signature),
      outputs: header.outputs.map(signature),
      run(inputs) {
        const { rows, values } = planInputs(inputs, header.inputs);
        const results = program.run(values, rows);
        return header.outputs.map((output, i): HostTensor => {
          const shape = output.shape.map((d) => (d === -1 ? rows : d));
          const data = results[i]!;
          if (output.datatype === 'INT64') return { name: output.name, datatype: 'INT64', shape, data: BigInt64Array.from(data as Int32Array, (v) => BigInt(v)) };
          if (output.datatype === 'INT32') return { name: output.name, datatype: 'INT32', shape, data: data as Int32Array };
          return { name: output.name, datatype: 'FP32', shape, data: data as Float32Array };
        });
      },
      dispose() {
        program.dispose();
      },
    };
  },
};
