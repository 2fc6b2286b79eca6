/**
 * The model's limit: `session.run` in a loop on the workload's already-decoded inputs, in a
 * process of its own, on the runtime the server builds (createServingRuntime: the same
 * WasmBackend, threads and warm-up, HOTPATH_MODELS from the environment). Commands arrive over
 * IPC (`{type: 'run', workload, rampMs, durationMs}`); each answer carries runs/s and run latency.
 */
import { loadServingConfig } from '../../lib/config/serving-config';
import { createServingRuntime } from '../../lib/serving/serving-runtime';
import { createLogger } from '../../lib/telemetry/powertools-telemetry';
import { exitWithParent, reportReady } from './bench-children';
import { LatencyRecorder, median, type LatencyPercentiles } from './load-stats';
import { workloadById } from './server-workloads';

export interface SessionLoopAnswer {
  readonly type: 'answer';
  readonly workload: string;
  readonly runs: number;
  readonly elapsedMs: number;
  readonly runsPerSec: number;
  /** Median over the loop's 1 s windows (a neighbour's burst moves it less than the mean). */
  readonly runsPerSecMedianWindow: number;
  readonly latency: LatencyPercentiles;
  readonly threads: number;
  readonly backend: string;
}

interface RunCommand {
  readonly type: 'run';
  readonly workload: string;
  /** Runs before the measured loop, not recorded. */
  readonly rampMs: number;
  readonly durationMs: number;
}

const WINDOW_MS = 1000;

async function main(): Promise<void> {
  const telemetry = { logger: createLogger() };
  const config = loadServingConfig(process.env);
  const runtime = await createServingRuntime(config, telemetry.logger);
  const loop = async (command: RunCommand): Promise<SessionLoopAnswer> => {
    const workload = workloadById(command.workload);
    const { state } = runtime.registry.findReady(workload.serveCase.model);
    const inputs = workload.serveCase.inputs;
    const rampEnd = performance.now() + command.rampMs;
    while (performance.now() < rampEnd) await state.session.run(inputs);
    const latencies = new LatencyRecorder();
    const windows: number[] = [];
    const started = performance.now();
    let windowStart = started;
    let windowRuns = 0;
    let now = started;
    while (now - started < command.durationMs) {
      const t0 = now;
      await state.session.run(inputs);
      now = performance.now();
      latencies.record(now - t0);
      windowRuns++;
      if (now - windowStart >= WINDOW_MS) {
        windows.push((windowRuns * 1000) / (now - windowStart));
        windowStart = now;
        windowRuns = 0;
      }
    }
    const elapsedMs = now - started;
    const runs = latencies.count;
    return {
      type: 'answer',
      workload: workload.id,
      runs,
      elapsedMs,
      runsPerSec: (runs * 1000) / elapsedMs,
      runsPerSecMedianWindow: windows.length > 0 ? median(windows) : (runs * 1000) / elapsedMs,
      latency: latencies.percentiles()!,
      threads: config.wasmThreads,
      backend: state.backend.route,
    };
  };
  process.on('message', (command: RunCommand) => {
    if (command?.type !== 'run') return;
    loop(command).then(
      (answer) => process.send?.(answer),
      (error: unknown) => process.send?.({ type: 'failed', error: error instanceof Error ? error.message : String(error) }),
    );
  });
  exitWithParent(() => runtime.registry.dispose());
  reportReady();
}

main().catch((error: unknown) => {
  console.error(`session-loop-child: ${error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
});
