import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { askChild, startBenchChild, type BenchChild } from './bench-children';
import type { BenchPlan } from './bench-plan';
import type { BenchProgress } from './bench-progress';
import { runLoad, type LoadPoint } from './load-run';
import type { FixedAnswer } from './minimal-http-child';
import { describePoint, msText } from './point-format';
import { processMemory } from './process-memory';
import { probeAnswer } from './server-probe';
import { prepareLoadRequest, SERVER_MODELS, workloadById, type PreparedLoadRequest } from './server-workloads';
import type { SessionLoopAnswer } from './session-loop-child';

/** What the sweep measured on one workload: the server and the two limits. */
export interface WorkloadSweep {
  readonly workload: string;
  readonly server: readonly LoadPoint[];
  readonly minimal: readonly LoadPoint[];
  readonly session: SessionLoopAnswer;
  /** Bytes of the answer the minimal server replays (the real server's answer to this request). */
  readonly answerBytes: number;
}

export interface SweepMeasurement {
  readonly serverIdleRssBytes: number;
  readonly minimalIdleRssBytes: number;
  readonly workloads: readonly WorkloadSweep[];
}


function withWorkloadHeader(request: PreparedLoadRequest, workload: string): PreparedLoadRequest {
  return { ...request, headers: { ...request.headers, 'x-bench-workload': workload } };
}

/**
 * The concurrency sweep. Per workload: one session.run loop (the model's limit), then at each
 * concurrency the server and the minimal HTTP server back to back, so each ratio's two sides
 * are measured seconds apart.
 */
export async function runSweepPhase(plan: BenchPlan, progress: BenchProgress): Promise<SweepMeasurement> {
  const children: BenchChild[] = [];
  const answersDir = mkdtempSync(join(tmpdir(), 'bench-server-'));
  try {
    progress.log(`server: starting startOipServer (HOTPATH_MODELS=${SERVER_MODELS})`);
    const server = await startBenchChild('server-child --door oip', 'bench/server/server-child.ts', ['--door', 'oip'], { HOTPATH_MODELS: SERVER_MODELS });
    children.push(server);
    const serverIdleRssBytes = processMemory(server.pid)?.rssBytes ?? NaN;
    const workloads = plan.workloads.map(workloadById);
    const requests = new Map(workloads.map((w) => [w.id, prepareLoadRequest(w)]));
    const answers: FixedAnswer[] = [];
    for (const w of workloads) answers.push(await probeAnswer(server.url!, w, requests.get(w.id)!));
    const answersFile = join(answersDir, 'answers.json');
    writeFileSync(answersFile, JSON.stringify(answers));
    const minimal = await startBenchChild('minimal-http-child', 'bench/server/minimal-http-child.ts', ['--answers', answersFile], {});
    children.push(minimal);
    const minimalIdleRssBytes = processMemory(minimal.pid)?.rssBytes ?? NaN;
    progress.log('server: starting the session.run loop child');
    const session = await startBenchChild('session-loop-child', 'bench/server/session-loop-child.ts', [], { HOTPATH_MODELS: SERVER_MODELS });
    children.push(session);
    progress.log(`server: idle RSS ${(serverIdleRssBytes / 2 ** 20).toFixed(0)} MB (minimal HTTP server ${(minimalIdleRssBytes / 2 ** 20).toFixed(0)} MB)`);

    const sweeps: WorkloadSweep[] = [];
    for (const w of workloads) {
      const request = requests.get(w.id)!;
      const minimalRequest = withWorkloadHeader(request, w.id);
      const loop = await askChild<SessionLoopAnswer>(session, { type: 'run', workload: w.id, rampMs: plan.rampMs, durationMs: plan.pointMs }, plan.rampMs + plan.pointMs + 60_000);
      progress.log(`session.run ${w.id}: ${loop.runsPerSec.toFixed(0)} runs/s (median 1 s window ${loop.runsPerSecMedianWindow.toFixed(0)}), p50 ${msText(loop.latency.p50)} ms, p99 ${msText(loop.latency.p99)} ms, ${loop.threads} thread(s), ${loop.backend}`);
      const serverPoints: LoadPoint[] = [];
      const minimalPoints: LoadPoint[] = [];
      for (const connections of plan.sweepConnections) {
        const ours = await runLoad(server.url!, request, { connections, rampMs: plan.rampMs, durationMs: plan.pointMs, rssRoot: server.pid });
        serverPoints.push(ours);
        progress.log(`server ${w.id} c=${connections}: ${describePoint(ours)}`);
        const limit = await runLoad(minimal.url!, minimalRequest, { connections, rampMs: plan.rampMs, durationMs: plan.pointMs, rssRoot: minimal.pid });
        minimalPoints.push(limit);
        progress.log(`minimal-http ${w.id} c=${connections}: ${describePoint(limit)}`);
      }
      const answerBytes = Buffer.from(answers.find((a) => a.workload === w.id)!.bodyBase64, 'base64').byteLength;
      sweeps.push({ workload: w.id, server: serverPoints, minimal: minimalPoints, session: loop, answerBytes });
    }
    return { serverIdleRssBytes, minimalIdleRssBytes, workloads: sweeps };
  } finally {
    await Promise.all(children.map((child) => child.stop()));
    rmSync(answersDir, { recursive: true, force: true });
  }
}
