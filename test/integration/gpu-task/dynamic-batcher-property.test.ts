/**
 * The dynamic batcher over the real native backend (onnxruntime-node, CPU provider) and the
 * real mlp-small: any interleaving of requests (sizes, arrival gaps, deadlines, aborts, queue
 * bounds, preferred sizes) gives each request exactly the rows an unbatched run gives it, or
 * one of the errors it may get; none is lost, none answered twice, and a request the queue
 * rejected never ran. onnxruntime's CPU kernels give a row the same bits alone or in a batch
 * (checked below), so the comparison is exact.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { BackendSession } from '../../../lib/backends/inference-backend';
import { NativeBackend } from '../../../lib/backends/native-backend';
import { DeadlineExceededError, RequestAbortedError, ServerBusyError } from '../../../lib/errors/hotpath-error';
import type { HostTensor } from '../../../lib/protocol/tensor';
import { createDynamicBatcher } from '../../../lib/serving/dynamic-batcher';
import { mulberry32 } from '../../../kernels/seeded-random/seeded-random';

const MODEL = join(process.cwd(), 'layers/models/build/models/mlp-small/1/model.onnx');
const WIDTH = 256;
const MAX_BATCH = 32;
const outputs = [{ name: 'output', datatype: 'FP32' as const, shape: [-1, 10] }];

let session: BackendSession;
/** First-column values of every row the session ran, to show which requests ran. */
const ranTags = new Set<number>();

beforeAll(async () => {
  const backend = new NativeBackend({ intraOpThreads: 1, providers: ['cpu'], logger: { info: () => {}, error: () => {} } });
  const inner = await backend.load({ name: 'mlp-small', version: '1', path: MODEL, bytes: readFileSync(MODEL), inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, WIDTH] }], outputs });
  session = {
    inputs: inner.inputs,
    outputs: inner.outputs,
    run(inputs, names, options) {
      const data = inputs[0]!.data as Float32Array;
      for (let r = 0; r < inputs[0]!.shape[0]!; r++) ranTags.add(data[r * WIDTH]!);
      return inner.run(inputs, names, options);
    },
    dispose: () => inner.dispose(),
  };
}, 60_000);
afterAll(async () => {
  await session?.dispose();
});

/** Rows whose first column is a tag unique to the request and row; the rest seeded. */
function requestInput(id: number, rows: number): HostTensor {
  const random = mulberry32(id + 1);
  const data = new Float32Array(rows * WIDTH);
  for (let i = 0; i < data.length; i++) data[i] = random() * 2 - 1;
  for (let r = 0; r < rows; r++) data[r * WIDTH] = 1000 + id * 100 + r;
  return { name: 'input', datatype: 'FP32', shape: [rows, WIDTH], data };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const requestArbitrary = fc.record({
  rows: fc.integer({ min: 1, max: 12 }),
  gapMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3 })),
  deadlineMs: fc.option(fc.integer({ min: 0, max: 15 }), { nil: undefined }),
  abortAfterMs: fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }),
});
const settingsArbitrary = fc.record({
  maxQueueDelayMicroseconds: fc.integer({ min: 0, max: 4_000 }),
  preferredBatchSizes: fc.option(fc.uniqueArray(fc.constantFrom(2, 4, 8, 16, 32), { minLength: 1, maxLength: 3 }), { nil: undefined }),
  maxQueueSize: fc.option(fc.integer({ min: 1, max: 24 }), { nil: undefined }),
});

describe('dynamic batcher on the real native backend (mlp-small)', () => {
  it('gives a row the same bits alone as in a batch (the premise of the exact comparison)', async () => {
    // Prepare
    const a = requestInput(1, 3);
    const b = requestInput(2, 5);
    const both: HostTensor = { ...a, shape: [8, WIDTH], data: Float32Array.from([...(a.data as Float32Array), ...(b.data as Float32Array)]) };

    // Act
    const [alone] = await session.run([b]);
    const [batched] = await session.run([both]);

    // Assess
    expect((batched!.data as Float32Array).subarray(30)).toEqual(alone!.data);
  });

  it('answers any interleaving with each request\'s own rows or an error it may get, once, and never runs a request it rejected', async () => {
    // What the generated cases reached, so the property is known to cover batches and every rejection.
    const seen = { multiRequestBatches: 0, ok: 0, DeadlineExceededError: 0, RequestAbortedError: 0, ServerBusyError: 0 };
    await fc.assert(
      fc.asyncProperty(settingsArbitrary, fc.array(requestArbitrary, { minLength: 1, maxLength: 24 }), async (settings, requests) => {
        // Prepare: the unbatched answer of every request, one run each.
        ranTags.clear();
        const inputs = requests.map((r, id) => requestInput(id, r.rows));
        const expected: Float32Array[] = [];
        for (const input of inputs) expected.push((await session.run([input]))[0]!.data as Float32Array);
        ranTags.clear();
        const batched = createDynamicBatcher({ ...session, dispose: async () => {} }, {
          label: 'mlp-small@1', maxBatchSize: MAX_BATCH, settings, outputs, onBatch: (batch) => void (batch.requests > 1 && seen.multiRequestBatches++),
        });
        const settlements = requests.map(() => [] as Array<{ ok: true; data: Float32Array; shape: readonly number[] } | { ok: false; error: unknown }>);

        // Act
        const inFlight: Promise<void>[] = [];
        for (const [id, request] of requests.entries()) {
          if (request.gapMs > 0) await sleep(request.gapMs);
          const controller = new AbortController();
          if (request.abortAfterMs !== undefined) setTimeout(() => controller.abort(), request.abortAfterMs);
          const deadline = request.deadlineMs === undefined ? undefined : performance.now() + request.deadlineMs;
          inFlight.push(batched.run([inputs[id]!], undefined, { deadline, signal: controller.signal }).then(
            (answer) => void settlements[id]!.push({ ok: true, data: answer[0]!.data as Float32Array, shape: answer[0]!.shape }),
            (error: unknown) => void settlements[id]!.push({ ok: false, error }),
          ));
        }
        await Promise.all(inFlight);
        await sleep(5);
        await batched.dispose().catch(() => undefined);

        // Assess
        for (const [id, request] of requests.entries()) {
          const settled = settlements[id]!;
          expect(settled).toHaveLength(1);
          const [outcome] = settled;
          const tags = Array.from({ length: request.rows }, (_, r) => 1000 + id * 100 + r);
          if (outcome!.ok) {
            expect(outcome.shape).toEqual([request.rows, 10]);
            expect(outcome.data).toEqual(expected[id]);
            expect(tags.every((t) => ranTags.has(t))).toBe(true);
            seen.ok++;
            continue;
          }
          const { error } = outcome!;
          const allowed = (error instanceof DeadlineExceededError && request.deadlineMs !== undefined)
            || (error instanceof RequestAbortedError && request.abortAfterMs !== undefined)
            || (error instanceof ServerBusyError && settings.maxQueueSize !== undefined);
          expect({ id, allowed, error: String(error) }).toEqual({ id, allowed: true, error: String(error) });
          expect(tags.some((t) => ranTags.has(t))).toBe(false);
          seen[(error as Error).name as 'ServerBusyError']++;
        }
      }),
      { numRuns: 60 },
    );
    expect(Object.entries(seen).filter(([, count]) => count === 0)).toEqual([]);
  }, 120_000);
});
