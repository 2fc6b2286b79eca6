import { aggregatingMetricsSink } from '../../../lib/telemetry/powertools-telemetry';
import type { InferAnswer } from '../../../lib/serving/infer';
import { StageTimings } from '../../../lib/telemetry/stage-timings';

/** The fields of an answer the sink reads. */
function answer(model: string, route: string, inferMs: number): InferAnswer {
  const timings = { entries: [{ name: 'decode', ms: 0.01 }, { name: 'infer', ms: inferMs }] } as unknown as StageTimings;
  return { model: { manifest: { name: model }, state: { ready: true, session: {} } }, route, batchSize: 2, timings } as unknown as InferAnswer;
}

function captureEmf(run: () => void): Record<string, unknown>[] {
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    run();
    return log.mock.calls.map((c) => String(c[0])).filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l) as Record<string, unknown>);
  } finally {
    log.mockRestore();
  }
}

describe('aggregatingMetricsSink', () => {
  const saved = { ...process.env };
  beforeEach(() => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    process.env.POWERTOOLS_DEV = 'true'; // Powertools then writes through the global console, which the test captures.
  });
  afterEach(() => {
    process.env = { ...saved };
  });

  it('publishes one EMF record per model and route per window, with the exact count and at most 99 sampled values', () => {
    // Prepare
    const sink = aggregatingMetricsSink('hotpath', 'hotpath', 60_000);
    for (let i = 0; i < 250; i++) sink.recordInference(answer('iris-classifier', 'local-wasm', i), 1 + i);
    sink.recordInference(answer('silero-vad', 'local-wasm', 0.5), 0.7);
    sink.recordRequest(0.2);

    // Act
    const records = captureEmf(() => sink.close());

    // Assess
    expect(records).toHaveLength(3);
    const iris = records.find((r) => r.model === 'iris-classifier')!;
    expect(iris.Requests).toBe(250);
    expect(iris.Duration as number[]).toHaveLength(99);
    expect((iris.Infer as number[]).every((v) => Number.isInteger(v) && v >= 0 && v < 250)).toBe(true);
    // A uniform sample of 0..249 reaches past the first 99 values.
    expect(Math.max(...(iris.Infer as number[]))).toBeGreaterThanOrEqual(99);
    expect(iris.BatchSize as number[]).toEqual(new Array(99).fill(2));
    const silero = records.find((r) => r.model === 'silero-vad')!;
    expect(silero).toMatchObject({ route: 'local-wasm', Requests: 1, Duration: 0.7, Infer: 0.5 });
    expect(records.find((r) => r.route === 'metadata')).toMatchObject({ Requests: 1, Duration: 0.2 });
  });

  it('starts each window empty: nothing is published for a quiet window', () => {
    // Prepare
    const sink = aggregatingMetricsSink('hotpath', 'hotpath', 60_000);
    sink.recordInference(answer('iris-classifier', 'local-wasm', 1), 1);
    captureEmf(() => sink.flush());

    // Act
    const records = captureEmf(() => sink.close());

    // Assess
    expect(records).toEqual([]);
  });
});
