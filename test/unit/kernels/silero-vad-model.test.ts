import { readFileSync } from 'node:fs';
import { KernelBackend, kernelExecutors } from '../../../lib/backends/kernel-backend';
import { SILERO_VAD_EXECUTOR, SILERO_VAD_INPUTS, SILERO_VAD_OUTPUTS } from '../../../lib/backends/kernel-models/silero-vad-model';
import { InvalidRequestError, ModelVerificationError } from '../../../lib/errors/hotpath-error';
import type { HostTensor } from '../../../lib/protocol/tensor';
import { encodeSileroWeights } from '../../../kernels/silero/silero-weights-artifact';
import { sileroReferenceStep } from '../../../kernels/silero/silero-reference';
import { extractSileroWeights } from '../../../layers/models/model-builders/silero-kernel-weights';
import { SILERO_VAD_FILE } from '../../../layers/models/default-models';
import { readOnnxSignature } from '../../../layers/models/onnx-signature-reader';

const onnx = new Uint8Array(readFileSync(SILERO_VAD_FILE));
const weights = extractSileroWeights(onnx);
const artifact = encodeSileroWeights(weights);
const request = { name: 'silero-vad', version: '1', path: `/models/silero-vad/1/model.${SILERO_VAD_EXECUTOR}.bin`, bytes: artifact, inputs: SILERO_VAD_INPUTS, outputs: SILERO_VAD_OUTPUTS };

function inputs(window: Float32Array, batch: number, sr: bigint, state = new Float32Array(2 * batch * 128)): HostTensor[] {
  return [
    { name: 'input', datatype: 'FP32', shape: [batch, window.length / batch], data: window },
    { name: 'state', datatype: 'FP32', shape: [2, batch, 128], data: state },
    { name: 'sr', datatype: 'INT64', shape: [], data: BigInt64Array.of(sr) },
  ];
}

describe('silero-vad-v5 kernel executor', () => {
  it('is registered on the kernel backend under its plan name', () => {
    expect(kernelExecutors().map((e) => e.kind)).toContain(SILERO_VAD_EXECUTOR);
  });

  it('declares exactly the inputs and outputs silero_vad_v5.onnx declares', () => {
    const graph = readOnnxSignature(onnx);
    expect(SILERO_VAD_INPUTS).toEqual(graph.inputs);
    expect(SILERO_VAD_OUTPUTS).toEqual(graph.outputs);
  });

  it('answers output [B,1] and stateN [2,B,128] through the kernel backend, as the reference computes them', async () => {
    const session = await new KernelBackend().load(request);
    const window = Float32Array.from({ length: 2 * 576 }, (_, i) => Math.sin(i / 5) * 0.2);
    const [output, stateN] = await session.run(inputs(window, 2, 16000n));
    expect(output).toMatchObject({ name: 'output', datatype: 'FP32', shape: [2, 1] });
    expect(stateN).toMatchObject({ name: 'stateN', datatype: 'FP32', shape: [2, 2, 128] });
    const expected = sileroReferenceStep(weights.rates[16000], window.subarray(0, 576), new Float32Array(256));
    expect((output!.data as Float32Array)[0]).toBeCloseTo(expected.probability, 5);
    const [only] = await session.run(inputs(window.subarray(0, 288), 1, 8000n), ['output']);
    expect(only!.name).toBe('output');
    await session.dispose();
  });

  it('refuses a wrong rate, a window that does not fit the rate and a state of another batch, saying what to send', async () => {
    const session = await new KernelBackend().load(request);
    await expect(session.run(inputs(new Float32Array(576), 1, 44100n))).rejects.toThrow("input 'sr': expected 16000 or 8000 (Hz), got 44100");
    await expect(session.run(inputs(new Float32Array(576), 1, 8000n))).rejects.toThrow("input 'input': expected FP32 [-1,288] at 8000 Hz, got FP32 [1,576]");
    await expect(session.run(inputs(new Float32Array(576), 1, 16000n, new Float32Array(512)))).rejects.toThrow(InvalidRequestError);
    await expect(session.run(inputs(new Float32Array(576), 1, 16000n).slice(0, 2))).rejects.toThrow("input 'sr' is missing");
    await session.dispose();
  });

  it('refuses an artifact that is not a Silero weights file at load', async () => {
    await expect(new KernelBackend().load({ ...request, bytes: new Uint8Array(64) })).rejects.toThrow(ModelVerificationError);
  });
});
