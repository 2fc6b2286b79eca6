import type { BenchResult } from '../bench-results';
import { machineLine, replaceBenchmarksSection } from '../serve/benchmarks-section';
import type { BenchPlan } from './bench-plan';
import { FRAMEWORK_DOORS, FRAMEWORK_LABELS, MEASURED_DOORS, type FrameworkMeasurement } from './framework-phase';
import type { GzipDecodeMeasurement } from './gzip-decode';
import type { LoadPoint } from './load-run';
import type { OfflineMeasurement } from './offline-phase';
import { OFFLINE_RSS_LIMIT_BYTES } from './offline-phase';
import { mb, msText } from './point-format';
import { frameworkSummary, TARGET_CONNECTIONS, TARGETS } from './server-results';
import type { SweepMeasurement } from './sweep-phase';

const HEADING = '## Server';

export interface ServerSection {
  readonly plan: BenchPlan;
  readonly date: string;
  readonly loadAtStart: string;
  readonly loadAtEnd: string;
  readonly minutes: number;
  readonly frameworks?: readonly FrameworkMeasurement[];
  readonly sweep?: SweepMeasurement;
  readonly offline?: OfflineMeasurement;
  readonly gzip?: GzipDecodeMeasurement;
  readonly targets: readonly BenchResult[];
}

const perSec = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '-' : v >= 100 ? v.toFixed(0) : v.toFixed(1));
const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? (a / b).toFixed(2) : '-');
/** req/s of a point, marked † when the ramp left no steady window and the whole point is counted. */
const pointRate = (p: LoadPoint) => `${perSec(p.reqPerSec)}${p.steady ? '' : ' †'}`;

function targetTable(targets: readonly BenchResult[]): string[] {
  const lines = ['| case | metric | ours | anchor | ratio | target | met |', '| --- | --- | ---: | ---: | ---: | ---: | --- |'];
  for (const r of targets) {
    const target = r.target_ratio === undefined ? (r.metric === 'errors' ? '0' : '') : `${r.lower_is_better ? '≤' : '≥'} ${r.target_ratio}`;
    lines.push(`| ${r.case} | ${r.metric} | ${r.value} | ${r.anchor_value ?? ''} | ${r.ratio ?? ''} | ${target} | ${r.met ? 'yes' : '**no**'} |`);
  }
  return lines;
}

function sweepTables(sweep: SweepMeasurement, connections: readonly number[]): string[] {
  const out: string[] = [];
  for (const w of sweep.workloads) {
    const s = w.session;
    out.push(
      `**${w.workload}** (answer ${w.answerBytes} bytes). Bare \`session.run\`: ${perSec(s.runsPerSec)} runs/s, p50 ${msText(s.latency.p50)} ms, p99 ${msText(s.latency.p99)} ms (${s.threads} thread(s), ${s.backend}).`,
      '',
      '| connections | server req/s | p50 ms | p99 ms | p99 with ramp | last first answer ms | errors | peak RSS MB | minimal HTTP req/s | p50 ms | p99 ms | server / minimal | server / session.run |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    w.server.forEach((p, i) => {
      const m = w.minimal[i]!;
      out.push(`| ${connections[i]} | ${pointRate(p)} | ${msText(p.latency?.p50)} | ${msText(p.latency?.p99)} | ${msText(p.latencyWithRamp?.p99)} | ${msText(p.lastFirstAnswerMs)} | ${p.errors} | ${mb(p.peakRssBytes)} | ${perSec(m.reqPerSec)} | ${msText(m.latency?.p50)} | ${msText(m.latency?.p99)} | ${ratio(p.reqPerSec, m.reqPerSec)} | ${ratio(p.reqPerSec, s.runsPerSec)} |`);
    });
    out.push('');
  }
  return out;
}

function offlineTable(offline: OfflineMeasurement, sweep: SweepMeasurement | undefined, plan: BenchPlan): string[] {
  const out = ['| workload | connections | req/s | p50 ms | p99 ms | p99 with ramp | last first answer ms | errors | peak RSS MB | server req/s, same point |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'];
  for (const w of offline.workloads) {
    w.points.forEach((p: LoadPoint, i) => {
      const c = plan.offlineConnections[i]!;
      const ours = sweep?.workloads.find((s) => s.workload === w.workload)?.server[plan.sweepConnections.indexOf(c)];
      const stopped = p.stoppedAtRss !== undefined ? ` (stopped at ${mb(p.stoppedAtRss)} MB after ${p.durationS.toFixed(1)} s)` : '';
      out.push(`| ${w.workload} | ${c} | ${pointRate(p)} | ${msText(p.latency?.p50)} | ${msText(p.latency?.p99)} | ${msText(p.latencyWithRamp?.p99)} | ${msText(p.lastFirstAnswerMs)} | ${p.errors} | ${mb(p.peakRssBytes)}${stopped} | ${perSec(ours?.reqPerSec)} |`);
    });
  }
  return out;
}

/** The framework table and the recommendation that follows from it. */
function frameworkPart(measurements: readonly FrameworkMeasurement[], plan: BenchPlan): string[] {
  const workloads = plan.frameworkWorkloads;
  const out = [
    `| framework | ${workloads.map((w) => `${w} req/s | p99 ms`).join(' | ')} | idle RSS MB |`,
    `| --- | ${workloads.map(() => '---: | ---:').join(' | ')} | ---: |`,
  ];
  const summary = (door: string, w: string) => {
    const m = measurements.find((x) => x.door === door && x.workload === w);
    return m ? frameworkSummary(m) : undefined;
  };
  for (const door of MEASURED_DOORS) {
    const cells = workloads.map((w) => {
      const s = summary(door, w);
      return `${perSec(s?.reqPerSec)} | ${msText(s?.p99)}`;
    });
    out.push(`| ${FRAMEWORK_LABELS[door]} | ${cells.join(' | ')} | ${mb(measurements.find((x) => x.door === door)?.idleRssBytes)} |`);
  }
  // Geometric mean over the workloads of each framework's req/s over node:http's.
  const relative = (door: string) => Math.exp(workloads.reduce((sum, w) => sum + Math.log((summary(door, w)?.reqPerSec ?? NaN) / (summary('node-http', w)?.reqPerSec ?? NaN)), 0) / workloads.length);
  const others = FRAMEWORK_DOORS.filter((d) => d !== 'node-http').map((d) => ({ door: d, rel: relative(d) }));
  const best = others.reduce((a, b) => (b.rel > a.rel ? b : a));
  const relText = others.map((o) => `${FRAMEWORK_LABELS[o.door]} ${o.rel.toFixed(2)}×`).join(', ');
  out.push('');
  if (!(best.rel > 1.05)) {
    out.push(
      `**Choice: node:http.** Against node:http's req/s (geometric mean over the two workloads): ${relText}. `
        + 'No framework is more than 5% faster on this workload, so none pays for itself: the server has a handful of fixed OIP routes '
        + '(the router is ours and transport-neutral, shared with the Lambda handler), it needs the raw body bytes (the binary extension, '
        + 'bounded inflate before allocation), control of the socket for admission (503 + Retry-After before the body is read), keep-alive, '
        + 'SIGTERM draining and later streaming answers, all of which node:http gives directly; a framework adds a dependency and a '
        + 'request/response translation (hono: Node request → Web Request → Web Response → Node response) for no measured gain.',
    );
  } else {
    out.push(
      `**Choice: ${FRAMEWORK_LABELS[best.door]}.** Against node:http's req/s (geometric mean over the two workloads): ${relText}; `
        + `${FRAMEWORK_LABELS[best.door]} is more than 5% faster here, worth the dependency; check its p99 above before adopting it.`,
    );
  }
  return out;
}

function findings(section: ServerSection): string[] {
  const out: string[] = [];
  const { sweep, plan } = section;
  const i32 = plan.sweepConnections.indexOf(TARGET_CONNECTIONS);
  if (sweep && i32 >= 0) {
    const model = sweep.workloads.find((w) => w.workload === TARGETS.modelBound.workload);
    const http = sweep.workloads.find((w) => w.workload === TARGETS.httpBound.workload);
    if (model) {
      const p = model.server[i32]!;
      out.push(`- Model-bound (${model.workload}, ${TARGET_CONNECTIONS} connections): ${perSec(p.reqPerSec)} req/s against ${perSec(model.session.runsPerSec)} bare session.run runs/s (${ratio(p.reqPerSec, model.session.runsPerSec)}×; target ≥ ${TARGETS.modelBound.ratio}). `
        + `p50 ${msText(p.latency?.p50)} ms at ${TARGET_CONNECTIONS} in flight is queueing behind one session: ${TARGET_CONNECTIONS} × ${msText(model.session.latency.p50)} ms per run ≈ ${msText(TARGET_CONNECTIONS * model.session.latency.p50)} ms.`);
    }
    if (http) {
      const p = http.server[i32]!;
      const m = http.minimal[i32]!;
      out.push(`- HTTP-bound (${http.workload}, ${TARGET_CONNECTIONS} connections): ${perSec(p.reqPerSec)} req/s against the minimal node:http server's ${perSec(m.reqPerSec)} (${ratio(p.reqPerSec, m.reqPerSec)}×; target ≥ ${TARGETS.httpBound.ratio}); `
        + `bare session.run alone does ${perSec(http.session.runsPerSec)} runs/s. The load generator (autocannon, one process) shares the 2 cores with the server, so both sides are bounded by it too.`);
    }
  }
  if (sweep && i32 >= 0) {
    for (const w of sweep.workloads) {
      const p = w.server[i32]!;
      const first = p.lastFirstAnswerMs === undefined ? 'some connection had no answer in the whole point' : `the last of the ${TARGET_CONNECTIONS} connections had its first answer after ${msText(p.lastFirstAnswerMs)} ms`;
      if (p.errors > 0 || !p.steady || (p.latency && p.latency.p99 > TARGETS.p99OverP50 * p.latency.p50)) {
        out.push(`- ${w.workload} at ${TARGET_CONNECTIONS} connections: ${p.errors} errors (${p.timeouts} timeouts, ${p.non2xx} non-2xx), p50 ${msText(p.latency?.p50)} ms, p99 ${msText(p.latency?.p99)} ms (${msText(p.latencyWithRamp?.p99)} ms with the ramp); ${first}. `
          + 'The server accepts one new connection per event-loop iteration and each iteration runs the requests of every connection it already serves, so the k-th connection of a burst waits about k(k−1)/2 request times: '
          + `with ${msText(w.session.latency.p50)} ms per run that is ${msText((w.session.latency.p50 * TARGET_CONNECTIONS * (TARGET_CONNECTIONS - 1)) / 2)} ms for the last of ${TARGET_CONNECTIONS}. What would remove it: fewer runs per loop iteration (one inference, then yield to the loop) or one batched run per iteration (the dynamic batcher).`);
      }
    }
  }
  if (section.offline && sweep) {
    for (const w of section.offline.workloads) {
      const s = sweep.workloads.find((x) => x.workload === w.workload);
      w.points.forEach((p, i) => {
        const c = plan.offlineConnections[i]!;
        const ours = s?.server[plan.sweepConnections.indexOf(c)];
        // Above one session's limit, only sessions running side by side can be the reason.
        if (!s || !ours || c < 2 || p.reqPerSec <= ours.reqPerSec || p.reqPerSec <= s.session.runsPerSec) return;
        out.push(`- serverless-offline beat the server on ${w.workload} at ${c} connections, and one session's limit (${perSec(p.reqPerSec)} req/s against the server's ${perSec(ours.reqPerSec)} and bare session.run's ${perSec(s.session.runsPerSec)} runs/s), at ${mb(p.peakRssBytes)} MB: `
          + `it runs one Lambda instance, with its own session, per concurrent request, in worker threads, so model-bound requests run side by side on both cores, where the server's one session runs them one after another (${s.session.threads} intra-op thread(s)).`);
      });
    }
  }
  if (section.offline) {
    const worst = Math.max(...section.offline.workloads.flatMap((w) => w.points.map((p) => p.peakRssBytes ?? 0)));
    out.push(`- serverless-offline (the Lambda emulator) measured at ${plan.offlineConnections.join(' and ')} connections only, each point stopped above ${mb(OFFLINE_RSS_LIMIT_BYTES)} MB: it starts one Lambda instance (a full INIT, every model loaded again) per concurrent request; idle ${mb(section.offline.idleRssBytes)} MB, peak ${mb(worst)} MB.`);
  }
  if (section.gzip) {
    const g = section.gzip;
    const savedBytes = g.binaryBytes - g.gzipBytes;
    out.push(`- Content-Encoding on a 1M FP32 binary request (${(g.binaryBytes / 1e6).toFixed(2)} MB): gzip body ${(g.gzipBytes / 1e6).toFixed(2)} MB, inflate + decode median ${msText(g.gzip.p50)} ms `
      + `(deflate ${msText(g.deflate.p50)} ms) against ${msText(g.decode.p50)} ms to decode the uncompressed body, so the inflate adds ${msText(g.gzip.p50 - g.decode.p50)} ms. `
      + `Uniform random floats barely compress: the ${(savedBytes / 1e6).toFixed(2)} MB saved take ${msText((savedBytes * 8) / 1e6)} ms to send at 1 Gbit/s, less than the inflate costs; compression pays only on slow links or on data that compresses.`);
  }
  return out;
}

/** The thread setting every server ran with: HOTPATH_WASM_THREADS when the bench was given it. */
function threadsText(): string {
  const threads = process.env.HOTPATH_WASM_THREADS?.trim();
  return threads ? `\`HOTPATH_WASM_THREADS=${threads}\`` : 'the default threads (HOTPATH_WASM_THREADS unset)';
}

/** Replaces (or appends) the `## Server` section of BENCHMARKS.md; the other sections stay as they are. */
export function writeServerSection(repoRoot: string, section: ServerSection): string {
  const { plan } = section;
  const lines = [
    HEADING,
    '',
    'Command: `npm run bench:server` (about 10 minutes; `-- --quick` for 2 s points, `-- --only frameworks,server,offline,gzip` or workload ids to run parts; those runs write nothing unless `--write`). '
      + 'Other HOTPATH_* variables reach every server and the session.run child, e.g. `HOTPATH_WASM_THREADS=1 npm run bench:server -- --only server`. '
      + 'Results: `bench/results/server.json`.',
    '',
    `Machine: ${machineLine()}; load average (1/5/15 min) ${section.loadAtStart} at start, ${section.loadAtEnd} at the end. Date: ${section.date}. Run time ${section.minutes.toFixed(1)} min. `
      + `Each point is ${plan.rampMs / 1000} s of ramp (new connections, V8 tier-up) and then a ${plan.pointMs / 1000} s steady window; each session.run loop likewise. `
      + `Every server runs in its own process with \`HOTPATH_MODELS=iris-classifier,mlp-medium\` and ${threadsText()}; load comes from autocannon 9 `
      + 'in the bench process (keep-alive connections, one request in flight per connection) on the same 2 cores, so every figure includes the load generator\'s share of the CPU. '
      + 'req/s, p50 and p99 are read in the steady window, which opens once the ramp has passed and every connection has had its first answer, and runs to the end of the point (nearest-rank over the 2xx answers). '
      + 'Node 20 accepts one pending connection per event-loop iteration (`npx tsx bench/server/accept-ramp-probe.ts`), and one iteration of a CPU-bound server runs a request for every connection it already serves, '
      + 'so connections opened all at once are reached one round apart: the tables also give that ramp ("last first answer": ms until the last connection\'s first answer; "-": some connection got none) and the p99 counting it in; † marks a point whose ramp left less than half the window, counted whole. '
      + 'Errors (non-2xx answers, socket errors, timeouts) count the whole point; peak RSS is the highest VmRSS sampled every 100 ms during the point. '
      + 'Quote ratios: both sides of each were measured in this run, seconds apart.',
    '',
    `### Targets at ${TARGET_CONNECTIONS} connections`,
    '',
    ...(section.targets.length > 0 ? targetTable(section.targets) : ['(not measured in this run)']),
    '',
  ];
  if (section.sweep) {
    lines.push(
      '### Concurrency sweep: the server and the two limits',
      '',
      `Server: \`startOipServer\` (lib/server/oip-server.ts, what \`npm start\` runs) with its defaults, idle RSS ${mb(section.sweep.serverIdleRssBytes)} MB. `
        + 'Minimal HTTP server: node:http reading the whole request, `JSON.parse` of its JSON (the binary requests\' JSON header), answering the bytes the server answered to the same request '
        + `(idle RSS ${mb(section.sweep.minimalIdleRssBytes)} MB). Bare session.run: the server's runtime (createServingRuntime: WasmBackend, threads, warm-up) in a process of its own, one run after another on the decoded inputs.`,
      '',
      ...sweepTables(section.sweep, plan.sweepConnections),
    );
  }
  if (section.offline) {
    lines.push('### serverless-offline (`npm run start:lambda`, the Lambda emulator)', '', ...offlineTable(section.offline, section.sweep, plan), '');
  }
  if (section.frameworks) {
    lines.push(
      `### Framework choice: node:http vs fastify vs hono (${plan.frameworkConnections} connections)`,
      '',
      `The three framework doors serve one serving runtime each through the same core (\`serveOipRequest\` + \`errorToHttpResponse\`), each in its own process, all up at once, `
        + 'with the server itself (node:http plus admission, deadline and abort, aggregated EMF metrics) measured beside them; '
        + `${plan.frameworkRounds} rounds of one ${plan.pointMs / 1000} s point per door, the order reversed every other round; medians of the rounds.`,
      '',
      ...frameworkPart(section.frameworks, plan),
      '',
    );
  }
  if (section.gzip) {
    const g = section.gzip;
    lines.push(
      '### Content-Encoding: cost of a compressed 1M FP32 binary request (in-process)',
      '',
      '| case | body MB | median ms | p99 ms | n |',
      '| --- | ---: | ---: | ---: | ---: |',
      `| decodeInferRequest, uncompressed | ${(g.binaryBytes / 1e6).toFixed(2)} | ${msText(g.decode.p50)} | ${msText(g.decode.p99)} | ${g.decode.n} |`,
      `| gzip (level 9): inflateRequestBody + decode | ${(g.gzipBytes / 1e6).toFixed(2)} | ${msText(g.gzip.p50)} | ${msText(g.gzip.p99)} | ${g.gzip.n} |`,
      `| deflate (zlib, level 6): inflateRequestBody + decode | ${(g.deflateBytes / 1e6).toFixed(2)} | ${msText(g.deflate.p50)} | ${msText(g.deflate.p99)} | ${g.deflate.n} |`,
      '',
    );
  }
  lines.push('### Findings', '', ...findings(section), '');
  return replaceBenchmarksSection(repoRoot, HEADING, lines.join('\n'));
}
