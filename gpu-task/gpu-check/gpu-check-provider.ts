import type * as OrtCommon from 'onnxruntime-common';
import { compareOutputs, selfTestInputSets, selfTestProvider, type SelfTestOutcome } from '../../lib/backends/execution-provider-selftest';
import { fromOrtTensor, toOrtTensor, type OrtModule } from '../../lib/backends/ort-session-adapter';
import type { ExecutionProviderName, ProviderTolerance } from '../../lib/config/serving-config';
import { runtimeReason } from '../../lib/errors/runtime-failure';
import type { HostTensor } from '../../lib/protocol/tensor';
import type { CheckModel } from './gpu-check-models';

/** The GPU task's self-test of one model on one provider, as the check reports it. */
export interface ModelSelfTest {
  readonly model: string;
  readonly passed: boolean;
  readonly reason?: string;
  /** Nodes per onnxruntime provider from its profile (args.provider of each node event). */
  readonly nodes_by_provider?: Readonly<Record<string, number>>;
  /** Largest deviation from the CPU provider as a share of the tolerance (≤ 1 passes). */
  readonly deviation?: number;
  readonly ms: number;
}

/** One model timed at a batch on one provider, or why it could not be. */
export type Measurement = Timing | { readonly model: string; readonly rows: number; readonly error: string };

export interface Timing {
  readonly model: string;
  readonly rows: number;
  /** The first run (kernel compilation, autotuning, uploads): not in the median. */
  readonly first_run_ms: number;
  readonly runs: number;
  readonly median_ms: number;
  readonly min_ms: number;
  readonly rows_per_s: number;
  /** The batch's outputs against the CPU provider's on the same input (GPU providers only). */
  readonly agrees_with_cpu?: { readonly deviation: number } | { readonly reason: string };
}

export interface ProviderCheck {
  readonly provider: ExecutionProviderName;
  /** As the GPU task decides: every model passed its self-test. */
  readonly passed: boolean;
  readonly self_tests: readonly ModelSelfTest[];
  readonly measurements: readonly Measurement[];
}

export interface ProviderCheckOptions {
  readonly rows: number;
  readonly tolerance: ProviderTolerance;
  readonly threads: number;
  /** Timed runs stop after this long per model (at least `minRuns` runs). */
  readonly caseBudgetMs: number;
  readonly minRuns: number;
  readonly maxRuns: number;
}

/**
 * Runs the GPU task's provider self-test (execution-provider-selftest.ts, the code the task runs)
 * for every model on `provider`, and when all pass, times each model at `rows` rows on it.
 */
export async function checkProvider(ort: OrtModule, provider: ExecutionProviderName, models: readonly CheckModel[], options: ProviderCheckOptions): Promise<ProviderCheck> {
  const selfTests: ModelSelfTest[] = [];
  const serving: { model: CheckModel; session: OrtCommon.InferenceSession; cpu: OrtCommon.InferenceSession }[] = [];
  try {
    for (const model of models) {
      const started = performance.now();
      const selfTestModel = { label: model.name, source: model.path, inputSets: selfTestInputSets(model.warmup) };
      // The provider under test logs verbosely: its "Node placements" lines go to stderr, which the parent reads.
      const cpu = await selfTestProvider(ort, selfTestModel, 'cpu', { intraOpThreads: options.threads, tolerance: options.tolerance, verboseLog: provider === 'cpu' });
      if (!cpu.passed) throw new Error(`model '${model.name}' fails on the CPU provider, the reference: ${cpu.reason}`);
      const outcome: SelfTestOutcome = provider === 'cpu'
        ? cpu
        : await selfTestProvider(ort, selfTestModel, provider, { intraOpThreads: options.threads, tolerance: options.tolerance, reference: cpu.outputs, verboseLog: true });
      const ms = performance.now() - started;
      if (!outcome.passed) {
        selfTests.push({ model: model.name, passed: false, reason: outcome.reason, ms });
        await cpu.session.release();
        continue;
      }
      selfTests.push({ model: model.name, passed: true, nodes_by_provider: outcome.result.placements.nodesByProvider, deviation: outcome.result.deviation, ms });
      serving.push({ model, session: outcome.session, cpu: cpu.session });
    }
    const passed = selfTests.every((t) => t.passed);
    const measurements: Measurement[] = [];
    for (const { model, session, cpu } of passed ? serving : []) {
      try {
        measurements.push(await measure(ort, model, session, provider === 'cpu' ? undefined : cpu, options));
      } catch (error) {
        // A batch the provider cannot run (memory, a buffer over a device limit) is a figure of its own; the self-test stands.
        measurements.push({ model: model.name, rows: options.rows, error: runtimeReason(error) });
      }
    }
    return { provider, passed, self_tests: selfTests, measurements };
  } finally {
    for (const { session, cpu } of serving) {
      await session.release().catch(() => undefined);
      if (cpu !== session) await cpu.release().catch(() => undefined);
    }
  }
}

async function measure(ort: OrtModule, model: CheckModel, session: OrtCommon.InferenceSession, cpu: OrtCommon.InferenceSession | undefined, options: ProviderCheckOptions): Promise<Timing> {
  const input = model.batch(options.rows);
  const feeds = { [input.name]: toOrtTensor(ort, input) };
  const run = async (on: OrtCommon.InferenceSession): Promise<HostTensor[]> => {
    const results = await on.run(feeds);
    return on.outputNames.map((name) => fromOrtTensor(name, results[name]!));
  };
  let started = performance.now();
  const first = await run(session);
  const firstRunMs = performance.now() - started;
  const times: number[] = [];
  const budgetEnd = performance.now() + options.caseBudgetMs;
  while (times.length < options.maxRuns && (times.length < options.minRuns || performance.now() < budgetEnd)) {
    started = performance.now();
    await run(session);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const median = times.length % 2 === 1 ? times[(times.length - 1) / 2]! : (times[times.length / 2 - 1]! + times[times.length / 2]!) / 2;
  let agrees: Timing['agrees_with_cpu'];
  if (cpu) {
    const comparison = compareOutputs(first, await run(cpu), options.tolerance);
    agrees = comparison.reason === undefined ? { deviation: round(comparison.deviation, 4) } : { reason: comparison.reason };
  }
  return {
    model: model.name, rows: options.rows, first_run_ms: round(firstRunMs, 2), runs: times.length,
    median_ms: round(median, 3), min_ms: round(times[0]!, 3), rows_per_s: Math.round((options.rows / median) * 1000),
    ...(agrees ? { agrees_with_cpu: agrees } : {}),
  };
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
