import { startBenchChild, type BenchChild } from './bench-children';
import type { BenchPlan } from './bench-plan';
import type { BenchProgress } from './bench-progress';
import { runLoad, type LoadPoint } from './load-run';
import { describePoint } from './point-format';
import { probeAnswer } from './server-probe';
import { prepareLoadRequest, SERVER_MODELS, workloadById } from './server-workloads';

/** The doors compared, each the same serving runtime and OIP core behind a different HTTP layer. */
export const FRAMEWORK_DOORS = ['node-http', 'fastify', 'hono'] as const;
/** Measured beside them: `npm start`'s server, node:http plus what it adds (admission, deadline and abort, metrics). */
export const MEASURED_DOORS = [...FRAMEWORK_DOORS, 'oip'] as const;
export type FrameworkDoor = (typeof MEASURED_DOORS)[number];

export const FRAMEWORK_LABELS: Record<FrameworkDoor, string> = {
  'node-http': 'node:http',
  fastify: 'fastify 5.12.8',
  hono: 'hono 4.13.19 + @hono/node-server 2.1.9',
  oip: 'the server (startOipServer)',
};

export interface FrameworkMeasurement {
  readonly door: FrameworkDoor;
  readonly workload: string;
  /** One point per round, in round order. */
  readonly rounds: readonly LoadPoint[];
  /** The door's resident memory once ready, before any load. */
  readonly idleRssBytes: number | undefined;
}

/**
 * node:http vs fastify vs hono in one run, and the server itself beside them: all up at once
 * (idle ones cost no CPU), then rounds of one point per door (each with its ramp), the order
 * reversed every other round (A B C D, D C B A) so drift in the machine's load hits all alike.
 */
export async function runFrameworkPhase(plan: BenchPlan, progress: BenchProgress, idleRss: (pid: number) => number | undefined): Promise<FrameworkMeasurement[]> {
  const doors = new Map<FrameworkDoor, BenchChild>();
  try {
    for (const door of MEASURED_DOORS) {
      progress.log(`frameworks: starting ${FRAMEWORK_LABELS[door]}`);
      doors.set(door, await startBenchChild(`server-child --door ${door}`, 'bench/server/server-child.ts', ['--door', door], { HOTPATH_MODELS: SERVER_MODELS }));
    }
    const idle = new Map([...doors].map(([door, child]) => [door, idleRss(child.pid)]));
    const measurements: FrameworkMeasurement[] = [];
    for (const workloadId of plan.frameworkWorkloads) {
      const workload = workloadById(workloadId);
      const request = prepareLoadRequest(workload);
      for (const child of doors.values()) await probeAnswer(child.url!, workload, request);
      const rounds = new Map<FrameworkDoor, LoadPoint[]>(MEASURED_DOORS.map((d) => [d, []]));
      for (let round = 0; round < plan.frameworkRounds; round++) {
        const order = round % 2 === 0 ? [...MEASURED_DOORS] : [...MEASURED_DOORS].reverse();
        for (const door of order) {
          const child = doors.get(door)!;
          const point = await runLoad(child.url!, request, { connections: plan.frameworkConnections, rampMs: plan.rampMs, durationMs: plan.pointMs, rssRoot: child.pid });
          rounds.get(door)!.push(point);
          progress.log(`frameworks ${workloadId} round ${round + 1}/${plan.frameworkRounds} ${door}: ${describePoint(point)}`);
        }
      }
      for (const door of MEASURED_DOORS) measurements.push({ door, workload: workloadId, rounds: rounds.get(door)!, idleRssBytes: idle.get(door) });
    }
    return measurements;
  } finally {
    await Promise.all([...doors.values()].map((child) => child.stop()));
  }
}
