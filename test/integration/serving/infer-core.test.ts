/**
 * The tensor-level core (lib/serving/infer.ts) on the real runtime and models, with no HTTP:
 * routes, deadlines, cancellation, runtime failures and classification. Routers here wrap the
 * real local router, the seam the GPU route will plug into.
 */
import { DeadlineExceededError, InvalidRequestError, NotFoundError, RequestAbortedError } from '../../../lib/errors/hotpath-error';
import { loadServingConfig } from '../../../lib/config/serving-config';
import { infer } from '../../../lib/serving/infer';
import { localRouter, type InferenceRouter } from '../../../lib/serving/inference-router';
import { createServingRuntime, type ServingRuntime } from '../../../lib/serving/serving-runtime';
import type { HostTensor } from '../../../lib/protocol/tensor';

let runtime: ServingRuntime;
beforeAll(async () => {
  runtime = await createServingRuntime(loadServingConfig(process.env, { wasmThreads: 1, models: ['iris-classifier', 'silero-vad'] }), { info() {}, error() {} });
});
afterAll(async () => {
  await runtime.registry.dispose();
});

const iris: HostTensor[] = [{ name: 'input', datatype: 'FP32', shape: [2, 4], data: Float32Array.of(5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3) }];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('infer (the core every door calls)', () => {
  it('returns tensors, the route that ran, the batch size and stage timings', async () => {
    const answer = await infer(runtime, { model: 'iris-classifier', id: 'a', inputs: iris });
    expect(answer.outputs.map((o) => o.name)).toEqual(['probabilities', 'label']);
    expect(Array.from(answer.outputs[1]!.data as BigInt64Array)).toEqual([0n, 2n]);
    expect(answer).toMatchObject({ id: 'a', route: 'local-kernel', batchSize: 2 });
    expect(answer.timings.entries.map((e) => e.name)).toEqual(['validate', 'infer']);
  });

  it('reports the route the router actually ran, not the one it tried first', async () => {
    const fallingBack: InferenceRouter = {
      async run(request) {
        const { outputs } = await localRouter.run(request);
        return { outputs, route: 'local-wasm-fallback' };
      },
    };
    const answer = await infer({ registry: runtime.registry, router: fallingBack }, { model: 'iris-classifier', inputs: iris });
    expect(answer.route).toBe('local-wasm-fallback');
  });

  it('refuses before running when the deadline has already passed, and discards a result that came too late', async () => {
    let ran = 0;
    const slow: InferenceRouter = { async run(request) { ran++; await sleep(30); return localRouter.run(request); } };
    const core = { registry: runtime.registry, router: slow };
    await expect(infer(core, { model: 'iris-classifier', inputs: iris, deadline: performance.now() - 1 })).rejects.toThrow(DeadlineExceededError);
    expect(ran).toBe(0);
    await expect(infer(core, { model: 'iris-classifier', inputs: iris, parameters: { timeout: 5_000 } })).rejects.toThrow(/deadline passed after \d+ ms of inference; the result was discarded/);
    expect(ran).toBe(1);
    await expect(infer(core, { model: 'iris-classifier', inputs: iris, parameters: { timeout: 1_000_000 } })).resolves.toMatchObject({ route: 'local-kernel' });
  });

  it('hands the router the deadline and the signal, and abandons a request whose caller went away', async () => {
    const controller = new AbortController();
    let seen: { deadline?: number; signal?: AbortSignal } = {};
    const observing: InferenceRouter = { async run(request) { seen = request.options; controller.abort(); return localRouter.run(request); } };
    const deadline = performance.now() + 10_000;
    await expect(infer({ registry: runtime.registry, router: observing }, { model: 'iris-classifier', inputs: iris, deadline, signal: controller.signal }))
      .rejects.toThrow(RequestAbortedError);
    expect(seen.deadline).toBe(deadline);
    expect(seen.signal).toBe(controller.signal);
  });

  it('turns a runtime failure on validated inputs into a 400 with the reason, and passes its own errors through', async () => {
    const failing: InferenceRouter = { async run() { throw new Error('[WebGPU] /work/x/onnxruntime/core/providers/cpu/tensor/reshape.cc:45 Reshape failed: input has 8 elements'); } };
    const error = await infer({ registry: runtime.registry, router: failing }, { model: 'iris-classifier', inputs: iris }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect((error as Error).message).toMatch(/Reshape failed/);
    expect((error as Error).message).not.toMatch(/\/work\/|reshape\.cc/);
    await expect(infer(runtime, { model: 'nope', inputs: iris })).rejects.toThrow(NotFoundError);
  });

  it('returns the top classes as BYTES when an output asks for classification', async () => {
    const answer = await infer(runtime, { model: 'iris-classifier', inputs: iris, outputs: [{ name: 'probabilities', parameters: { classification: 1 } }] });
    expect(answer.outputs).toHaveLength(1);
    expect(answer.outputs[0]!.shape).toEqual([2, 1]);
    expect((answer.outputs[0]!.data as Uint8Array[]).map((b) => Buffer.from(b).toString())).toEqual([
      expect.stringMatching(/^0\.\d{6}:0:setosa$/), expect.stringMatching(/^0\.\d{6}:2:virginica$/),
    ]);
    await expect(infer(runtime, { model: 'iris-classifier', inputs: iris, outputs: [{ name: 'label', parameters: { class_count: 1.5 } }] }))
      .rejects.toThrow(/parameters.class_count must be a non-negative integer/);
  });
});
