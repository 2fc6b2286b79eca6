import type { BackendSession, InferenceBackend } from '../../../lib/backends/inference-backend';
import { DeadlineExceededError, ModelVerificationError, RequestAbortedError, ServerBusyError } from '../../../lib/errors/hotpath-error';
import type { DynamicBatchingSettings } from '../../../lib/models/model-manifest-types';
import type { HostTensor } from '../../../lib/protocol/tensor';
import { batchingRefusal, createDynamicBatcher, withDynamicBatching } from '../../../lib/serving/dynamic-batcher';

/**
 * A session whose output `double` is its input times 2 and `first` the first column, so a
 * request's answer shows whose rows it got. Each run's first column values are recorded; runs
 * wait on `gate` while it is set, to hold the batcher busy.
 */
function recordingSession() {
  const runs: number[][] = [];
  let gate: Promise<void> | undefined;
  let failWith: Error | undefined;
  const session: BackendSession = {
    inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }],
    outputs: [{ name: 'double', datatype: 'FP32', shape: [-1, 2] }, { name: 'first', datatype: 'FP32', shape: [-1] }],
    async run(inputs, outputNames) {
      const x = inputs[0]!;
      const data = x.data as Float32Array;
      const rows = x.shape[0]!;
      runs.push(Array.from({ length: rows }, (_, r) => data[r * (data.length / rows)]!));
      if (gate) await gate;
      if (failWith) throw failWith;
      const all: HostTensor[] = [
        { name: 'double', datatype: 'FP32', shape: [...x.shape], data: data.map((v) => v * 2) },
        { name: 'first', datatype: 'FP32', shape: [rows], data: Float32Array.from({ length: rows }, (_, r) => data[r * (data.length / rows)]!) },
      ];
      return (outputNames ?? ['double', 'first']).map((n) => all.find((t) => t.name === n)!);
    },
    async dispose() {},
  };
  return {
    session,
    runs,
    hold() {
      let open!: () => void;
      gate = new Promise<void>((resolve) => (open = resolve));
      return () => {
        gate = undefined;
        open();
      };
    },
    failNext(error: Error) {
      failWith = error;
    },
  };
}

/** `rows` rows of width `width` whose first column is tag, tag+1, ... */
function rowsTagged(tag: number, rows: number, width = 2): HostTensor {
  const data = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) for (let c = 0; c < width; c++) data[r * width + c] = c === 0 ? tag + r : -(tag + r);
  return { name: 'x', datatype: 'FP32', shape: [rows, width], data };
}

const outputs = [{ name: 'double', datatype: 'FP32' as const, shape: [-1, 2] }, { name: 'first', datatype: 'FP32' as const, shape: [-1] }];
function batcher(session: BackendSession, settings: DynamicBatchingSettings, maxBatchSize = 8) {
  const batches: { rows: number; requests: number; oldestWaitMs: number }[] = [];
  const batched = createDynamicBatcher(session, { label: 'toy@1', maxBatchSize, settings, outputs, onBatch: (b) => batches.push(b) });
  return { batched, batches };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('dynamic-batcher', () => {
  it('runs requests queued together as one batch and gives each exactly its own rows', async () => {
    // Prepare
    const fake = recordingSession();
    const { batched } = batcher(fake.session, { maxQueueDelayMicroseconds: 50_000 });
    const release = fake.hold();
    const first = batched.run([rowsTagged(100, 8)]); // a full batch: runs at once
    await tick();

    // Act: while the first runs, three more queue; they go together when it finishes.
    const queued = [batched.run([rowsTagged(10, 2)]), batched.run([rowsTagged(20, 1)], ['first']), batched.run([rowsTagged(30, 3)])];
    release();
    const answers = await Promise.all([first, ...queued]);

    // Assess
    expect(fake.runs).toEqual([[100, 101, 102, 103, 104, 105, 106, 107], [10, 11, 20, 30, 31, 32]]);
    expect(answers[1]!.map((t) => [t.name, t.shape, [...t.data as Float32Array]])).toEqual([
      ['double', [2, 2], [20, -20, 22, -22]], ['first', [2], [10, 11]],
    ]);
    expect(answers[2]!.map((t) => [t.name, [...t.data as Float32Array]])).toEqual([['first', [20]]]);
    expect(answers[3]![1]!.data).toEqual(Float32Array.from([30, 31, 32]));
  });

  it('waits maxQueueDelay for the oldest request while no full or preferred batch can form', async () => {
    // Prepare
    const fake = recordingSession();
    const { batched, batches } = batcher(fake.session, { maxQueueDelayMicroseconds: 30_000 });
    const started = performance.now();

    // Act
    const answers = await Promise.all([batched.run([rowsTagged(1, 1)]), batched.run([rowsTagged(2, 1)]), batched.run([rowsTagged(3, 1)])]);

    // Assess
    expect(answers).toHaveLength(3);
    expect(fake.runs).toEqual([[1, 2, 3]]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(29);
    expect(batches[0]!.oldestWaitMs).toBeGreaterThanOrEqual(29);
  });

  it('sends a full batch at once without waiting for the delay', async () => {
    // Prepare
    const fake = recordingSession();
    const { batched } = batcher(fake.session, { maxQueueDelayMicroseconds: 10_000_000 }, 4);
    const started = performance.now();

    // Act
    await Promise.all([batched.run([rowsTagged(1, 2)]), batched.run([rowsTagged(3, 2)])]);

    // Assess
    expect(fake.runs).toEqual([[1, 2, 3, 4]]);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('sends the largest preferred batch that formed at once and keeps the rest queued', async () => {
    // Prepare
    const fake = recordingSession();
    const { batched, batches } = batcher(fake.session, { maxQueueDelayMicroseconds: 40_000, preferredBatchSizes: [2, 3] });
    const release = fake.hold();
    const first = batched.run([rowsTagged(100, 2)]); // a preferred size by itself: runs at once
    await tick();

    // Act: four one-row requests queue behind a running batch; when it ends, the preferred 3 go now, the 4th waits its delay.
    const queued = [1, 2, 3, 4].map((tag) => batched.run([rowsTagged(tag, 1)]));
    await tick();
    release();
    await Promise.all([first, ...queued]);

    // Assess
    expect(fake.runs).toEqual([[100, 101], [1, 2, 3], [4]]);
    expect(batches[2]!.oldestWaitMs).toBeGreaterThanOrEqual(39);
  });

  it('caps a batch at maxBatchSize (the largest preferred size when given) and starts the next with the rest', async () => {
    // Prepare
    const fake = recordingSession();
    const { batched } = batcher(fake.session, { maxQueueDelayMicroseconds: 0 }, 8);
    const release = fake.hold();
    const first = batched.run([rowsTagged(0, 1)]);
    await tick();

    // Act
    const queued = [batched.run([rowsTagged(10, 5)]), batched.run([rowsTagged(20, 3)]), batched.run([rowsTagged(30, 2)])];
    release();
    await Promise.all([first, ...queued]);

    // Assess
    expect(fake.runs.map((r) => r.length)).toEqual([1, 8, 2]);
  });

  it('never mixes requests whose non-batch dims or datatypes differ, and keeps arrival order', async () => {
    // Prepare
    const fake = recordingSession();
    const { batched } = batcher(fake.session, { maxQueueDelayMicroseconds: 0 });
    const release = fake.hold();
    const first = batched.run([rowsTagged(0, 1)]);
    await tick();
    const wide = rowsTagged(20, 1, 3);
    const asDouble: HostTensor = { ...rowsTagged(30, 1), datatype: 'FP64', data: Float64Array.from(rowsTagged(30, 1).data as Float32Array) };

    // Act
    const queued = [batched.run([rowsTagged(10, 1)]), batched.run([wide]), batched.run([rowsTagged(11, 1)]), batched.run([asDouble])];
    release();
    await Promise.allSettled([first, ...queued]);

    // Assess: the batch closes at the first request of another shape, as Triton's does.
    expect(fake.runs).toEqual([[0], [10], [20], [11], [30]]);
  });

  it('answers 503 "exceeds maximum queue size" with Retry-After past maxQueueSize', async () => {
    // Prepare
    const fake = recordingSession();
    const { batched } = batcher(fake.session, { maxQueueDelayMicroseconds: 0, maxQueueSize: 2 });
    const release = fake.hold();
    const running = batched.run([rowsTagged(0, 1)]);
    await tick();
    const queued = [batched.run([rowsTagged(1, 1)]), batched.run([rowsTagged(2, 1)])];

    // Act
    const refused = await batched.run([rowsTagged(3, 1)]).catch((error: unknown) => error);
    release();
    await Promise.all([running, ...queued]);

    // Assess
    expect(refused).toBeInstanceOf(ServerBusyError);
    expect((refused as ServerBusyError).message).toContain("model 'toy@1': request exceeds maximum queue size (2 requests queued");
    expect((refused as ServerBusyError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(fake.runs.flat()).not.toContain(3);
  });

  it('rejects a request whose deadline passes in the queue with 504, and never runs it', async () => {
    // Prepare
    const fake = recordingSession();
    const { batched } = batcher(fake.session, { maxQueueDelayMicroseconds: 0 });
    const release = fake.hold();
    const running = batched.run([rowsTagged(0, 1)]);
    await tick();

    // Act
    const started = performance.now();
    const late = batched.run([rowsTagged(7, 1)], undefined, { deadline: performance.now() + 20 }).catch((error: unknown) => error);
    const patient = batched.run([rowsTagged(8, 1)]);
    const error = await late;
    const answeredAfterMs = performance.now() - started;
    release();
    await Promise.all([running, patient]);

    // Assess: answered at its deadline, while the batch ahead of it still ran.
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect((error as Error).message).toMatch(/^model 'toy@1': the request's deadline passed after \d+ ms in the dynamic batcher's queue; it never ran/);
    expect(answeredAfterMs).toBeLessThan(500);
    expect(fake.runs).toEqual([[0], [8]]);
  });

  it('rejects a request queued past defaultTimeoutMicroseconds naming the setting', async () => {
    // Prepare
    const fake = recordingSession();
    const { batched } = batcher(fake.session, { maxQueueDelayMicroseconds: 0, defaultTimeoutMicroseconds: 10_000 });
    const release = fake.hold();
    const running = batched.run([rowsTagged(0, 1)]);
    await tick();

    // Act
    const error = await batched.run([rowsTagged(5, 1)]).catch((e: unknown) => e);
    release();
    await running;

    // Assess
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect((error as Error).message).toContain('past its default timeout (manifest dynamicBatching.defaultTimeoutMicroseconds 10000); it never ran');
    expect(fake.runs).toEqual([[0]]);
  });

  it('removes a queued request whose signal aborts, and it never runs', async () => {
    // Prepare
    const fake = recordingSession();
    const { batched } = batcher(fake.session, { maxQueueDelayMicroseconds: 0 });
    const release = fake.hold();
    const running = batched.run([rowsTagged(0, 1)]);
    await tick();
    const controller = new AbortController();
    const gone = batched.run([rowsTagged(4, 1)], undefined, { signal: controller.signal }).catch((e: unknown) => e);
    const stays = batched.run([rowsTagged(5, 1)]);

    // Act
    controller.abort();
    release();
    const [error] = await Promise.all([gone, running, stays]);

    // Assess
    expect(error).toBeInstanceOf(RequestAbortedError);
    expect(fake.runs).toEqual([[0], [5]]);
  });

  it('gives every request of a failed batch the error, once', async () => {
    // Prepare
    const fake = recordingSession();
    const { batched } = batcher(fake.session, { maxQueueDelayMicroseconds: 0 });
    const release = fake.hold();
    const running = batched.run([rowsTagged(0, 1)]);
    await tick();
    const settled: string[] = [];
    const queued = [1, 2, 3].map((tag) => batched.run([rowsTagged(tag, 1)]).then(() => settled.push(`ok ${tag}`), (e: Error) => settled.push(`${e.message} ${tag}`)));
    fake.failNext(new Error('device lost'));

    // Act
    release();
    await Promise.allSettled([running, ...queued]);
    await new Promise((resolve) => setTimeout(resolve, 5));

    // Assess
    expect(settled.sort()).toEqual(['device lost 1', 'device lost 2', 'device lost 3']);
  });

  it('refuses, to every request of the batch, an output that has no batch dim to split', async () => {
    // Prepare
    const session: BackendSession = {
      inputs: [], outputs: [],
      run: async () => [{ name: 'double', datatype: 'FP32', shape: [2], data: new Float32Array(2) }],
      dispose: async () => {},
    };
    const { batched } = batcher(session, { maxQueueDelayMicroseconds: 5_000 });

    // Act
    const results = await Promise.allSettled([batched.run([rowsTagged(0, 1)], ['double']), batched.run([rowsTagged(1, 2)], ['double'])]);

    // Assess
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason.message).toBe(
      "model 'toy@1': output 'double' has shape [2] for a batch of 3 rows, so it cannot be split back per request; remove dynamicBatching from its manifest entry",
    );
  });

  describe('batchingRefusal', () => {
    it('refuses a model whose inputs or outputs have no batch dim first, as Silero VAD\'s state and rate', () => {
      // Act
      const vad = batchingRefusal({
        maxBatchSize: 1,
        inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, -1] }, { name: 'state', datatype: 'FP32', shape: [2, -1, 128] }],
        outputs: [{ name: 'output', datatype: 'FP32', shape: [-1, 1] }],
      });
      const mlp = batchingRefusal({ maxBatchSize: 256, inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 256] }], outputs: [{ name: 'output', datatype: 'FP32', shape: [-1, 10] }] });

      // Assess
      expect(vad).toBe("input 'state' has shape [2,-1,128], no batch dim first (-1) to concatenate and split along");
      expect(mlp).toBeUndefined();
    });
  });

  describe('withDynamicBatching', () => {
    it('refuses at load a model whose manifest asks for batching it cannot have, and disposes its session', async () => {
      // Prepare
      let disposed = 0;
      const inner: InferenceBackend = {
        route: 'local-native', platforms: ['onnx_onnxv1'], init: async () => {}, dispose: async () => {},
        load: async () => ({ ...recordingSession().session, dispose: async () => void disposed++ }),
      };
      const model = {
        name: 'scalar', version: '1', platform: 'onnx_onnxv1', file: 'f', sha256: 'a'.repeat(64), bytes: 1, maxBatchSize: 4, serveByDefault: false,
        inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [-1, 2] }], outputs: [{ name: 'sum', datatype: 'FP32' as const, shape: [] }],
        dynamicBatching: { maxQueueDelayMicroseconds: 100 },
      };
      const backend = withDynamicBatching(inner, { schemaVersion: 1, models: [model] });

      // Act
      const refusal = await backend.load({ name: 'scalar', version: '1', path: 'f', inputs: model.inputs, outputs: model.outputs }).catch((e: unknown) => e);

      // Assess
      expect(refusal).toBeInstanceOf(ModelVerificationError);
      expect((refusal as Error).message).toBe("model 'scalar@1': its manifest asks for dynamicBatching, which cannot apply: output 'sum' has shape [], no batch dim first (-1) to concatenate and split along; remove dynamicBatching or give every input and output a batch dim first");
      expect(disposed).toBe(1);
    });
  });
});
