import { serverWorkloads } from './server-workloads';

/** The parts of `npm run bench:server`, in the order they run. */
export const BENCH_PARTS = ['frameworks', 'server', 'offline', 'gzip'] as const;
export type BenchPart = (typeof BENCH_PARTS)[number];

export interface BenchPlan {
  readonly quick: boolean;
  readonly parts: readonly BenchPart[];
  /** Workload ids the sweep (server, limits, offline) runs. */
  readonly workloads: readonly string[];
  /** Write bench/results/server.json and BENCHMARKS.md; a full run does by default, --quick/--only runs only with --write. */
  readonly write: boolean;
  /** Length of one load point and of one session.run loop. */
  readonly pointMs: number;
  /** Load before each point's steady window opens (and before each session.run loop): new connections, V8 tier-up. */
  readonly rampMs: number;
  readonly sweepConnections: readonly number[];
  /** serverless-offline starts a Lambda instance (full INIT) per concurrent request: only these points. */
  readonly offlineConnections: readonly number[];
  readonly frameworkConnections: number;
  /** Each round runs every framework once; the order is reversed every other round. */
  readonly frameworkRounds: number;
  /** Workloads of the framework comparison (the HTTP-bound and the model-bound one). */
  readonly frameworkWorkloads: readonly string[];
}

const USAGE = 'usage: npm run bench:server -- [--quick] [--only <part|workload>[,...]] [--write]\n'
  + `  parts: ${BENCH_PARTS.join(', ')}; workloads: ${serverWorkloads().map((w) => w.id).join(', ')}`;

/**
 * Reads the command line. `--only` takes part names and workload ids, comma-separated or
 * repeated: parts named select parts (all when none is), workloads named select workloads.
 *
 * @example parseBenchArgs(['--quick', '--only', 'frameworks']) // quick points, framework comparison only
 */
export function parseBenchArgs(argv: readonly string[]): BenchPlan {
  let quick = false;
  let write: boolean | undefined;
  const only: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') quick = true;
    else if (arg === '--write') write = true;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg === '--only' ? argv[++i] : arg.slice('--only='.length);
      if (value === undefined || value === '') throw new Error(`--only needs a value\n${USAGE}`);
      only.push(...value.split(',').map((v) => v.trim()).filter((v) => v !== ''));
    } else throw new Error(`unknown argument '${arg}'\n${USAGE}`);
  }
  const workloadIds = serverWorkloads().map((w) => w.id);
  const unknown = only.filter((v) => !(BENCH_PARTS as readonly string[]).includes(v) && !workloadIds.includes(v));
  if (unknown.length > 0) throw new Error(`--only: unknown ${unknown.map((u) => `'${u}'`).join(', ')}\n${USAGE}`);
  const partsNamed = BENCH_PARTS.filter((p) => only.includes(p));
  const workloadsNamed = workloadIds.filter((w) => only.includes(w));
  const workloads = workloadsNamed.length > 0 ? workloadsNamed : workloadIds;
  return {
    quick,
    parts: partsNamed.length > 0 ? partsNamed : [...BENCH_PARTS],
    workloads,
    write: write ?? (!quick && only.length === 0),
    pointMs: quick ? 2000 : 10_000,
    rampMs: quick ? 1000 : 1500,
    sweepConnections: [1, 8, 32, 64],
    offlineConnections: [1, 8],
    frameworkConnections: 32,
    frameworkRounds: 2,
    frameworkWorkloads: ['iris-classifier-b1-json', 'mlp-medium-b32-binary'].filter((w) => workloadsNamed.length === 0 || workloads.includes(w)),
  };
}

/** Seconds each part is expected to take (load and loops; server start-ups estimated), for the line printed up front. */
export function estimateSeconds(plan: BenchPlan): Record<BenchPart, number> {
  const point = plan.pointMs / 1000;
  const loaded = plan.rampMs / 1000 + point;
  const doors = 4; // node:http, fastify, hono and the server
  const frameworks = plan.frameworkWorkloads.length * plan.frameworkRounds * doors * loaded + doors * 8;
  // Per workload: one session.run loop, then the server and the minimal server at every concurrency.
  const server = plan.workloads.length * (loaded + 2 * plan.sweepConnections.length * loaded) + 15;
  const offline = plan.workloads.length * plan.offlineConnections.length * loaded + 40;
  const gzip = plan.quick ? 5 : 15;
  const all: Record<BenchPart, number> = { frameworks, server, offline, gzip };
  return Object.fromEntries(BENCH_PARTS.map((p) => [p, plan.parts.includes(p) ? Math.round(all[p]) : 0])) as Record<BenchPart, number>;
}
