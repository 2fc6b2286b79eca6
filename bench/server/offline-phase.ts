import { readdirSync } from 'node:fs';
import { startOfflineServer } from '../../test/support/offline-server';
import { stopOnExit } from './bench-children';
import type { BenchPlan } from './bench-plan';
import type { BenchProgress } from './bench-progress';
import { runLoad, type LoadPoint } from './load-run';
import { describePoint } from './point-format';
import { commandLineOf, treeMemory } from './process-memory';
import { probeAnswer } from './server-probe';
import { prepareLoadRequest, SERVER_MODELS, workloadById } from './server-workloads';

/** A point is stopped once serverless-offline's processes hold more than this (it starts one Lambda instance per concurrent request). */
export const OFFLINE_RSS_LIMIT_BYTES = 4 * 1024 ** 3;

export interface OfflineMeasurement {
  /** Resident memory of the serverless process tree once ready (one warm instance). */
  readonly idleRssBytes: number;
  readonly workloads: readonly { readonly workload: string; readonly points: readonly LoadPoint[] }[];
}

/** The serverless process serving `port` (its command line names `--httpPort <port>`), whose tree holds the Lambda instances. */
function serverlessPid(port: string): number {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const command = commandLineOf(Number(name));
    if (command.includes('serverless') && command.includes(` --httpPort ${port} `)) return Number(name);
  }
  throw new Error(`no serverless process with --httpPort ${port} found in /proc`);
}

/**
 * The Lambda emulator (`npm run start:lambda`: the built handler bundle under
 * serverless-offline) at the low concurrencies it can carry, each point stopped at
 * OFFLINE_RSS_LIMIT_BYTES.
 */
export async function runOfflinePhase(plan: BenchPlan, progress: BenchProgress): Promise<OfflineMeasurement> {
  progress.log(`offline: starting serverless-offline (HOTPATH_MODELS=${SERVER_MODELS}; its first request runs INIT)`);
  const offline = await startOfflineServer({ env: { HOTPATH_MODELS: SERVER_MODELS }, readyTimeoutMs: 180_000 });
  const unregister = stopOnExit(() => offline.stop());
  try {
    const pid = serverlessPid(new URL(offline.baseUrl).port);
    const idleRssBytes = treeMemory(pid).rssBytes;
    progress.log(`offline: ready, serverless tree RSS ${(idleRssBytes / 2 ** 20).toFixed(0)} MB`);
    const workloads = [];
    for (const id of plan.workloads) {
      const workload = workloadById(id);
      const request = prepareLoadRequest(workload);
      await probeAnswer(offline.baseUrl, workload, request);
      const points: LoadPoint[] = [];
      for (const connections of plan.offlineConnections) {
        const point = await runLoad(offline.baseUrl, request, { connections, rampMs: plan.rampMs, durationMs: plan.pointMs, rssRoot: pid, rssLimitBytes: OFFLINE_RSS_LIMIT_BYTES });
        points.push(point);
        progress.log(`offline ${id} c=${connections}: ${describePoint(point)}`);
      }
      workloads.push({ workload: id, points });
    }
    return { idleRssBytes, workloads };
  } finally {
    unregister();
    await offline.stop();
  }
}
