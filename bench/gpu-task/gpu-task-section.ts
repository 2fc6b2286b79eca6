import { DEFAULT_TASK_PRICE, lambdaUsdPerSecond, LAMBDA_PRICES } from '../../lib/serving/route-cost';
import { machineLine, replaceBenchmarksSection } from '../serve/benchmarks-section';
import { describePoint, msText } from '../server/point-format';
import type { BatchingMeasurement } from './batching-phase';
import { BATCHING_TARGET_RATIO, seriesId, type BatchingSummary } from './gpu-task-results';
import { costRows, TASK_ON_CPU_LABEL, type LoadedTaskCost } from './route-cost-table';
import type { RoutingMeasurement, RoutingSeries } from './routing-phase';

const HEADING = '## GPU container task';

export interface GpuTaskSection {
  readonly date: string;
  readonly loadAtStart: string;
  readonly loadAtEnd: string;
  readonly minutes: number;
  readonly quick: boolean;
  readonly batching?: { readonly measurement: BatchingMeasurement; readonly summary: BatchingSummary; readonly loaded?: LoadedTaskCost };
  readonly routing?: RoutingMeasurement;
}

const rowsText = (v: number) => (Number.isFinite(v) ? (Number.isInteger(v) ? String(v) : v.toFixed(1)) : 'never');
const usd = (v: number) => (v >= 100 ? v.toFixed(0) : v.toPrecision(3));

function batchingPart(b: NonNullable<GpuTaskSection['batching']>): string[] {
  const { measurement: m, summary: s } = b;
  const i = m.inside.stats;
  const runShare = m.inside.point.reqPerSec > 0 ? (100 * i.runMsP50 * m.inside.point.reqPerSec) / (1000 * i.rowsPerBatchMedian) : NaN;
  const providers = m.providers ? Object.entries(m.providers).map(([k, v]) => `${k} on ${v}`).join(', ') : 'unknown';
  const lines = [
    `### Dynamic batching: ${m.clients} clients, batch-1 binary requests to \`mlp-medium\``,
    '',
    `Two GPU task processes (\`gpu-task/start-gpu-task.ts\`, what \`npm run start:gpu-task\` and the container run; ${providers}, after the self-test refused cuda and webgpu; threads ${m.threads}), `
      + `one with \`HOTPATH_DYNAMIC_BATCHING=true\` (the manifest's max_queue_delay ${m.maxQueueDelayMs} ms, max_batch_size ${m.maxBatchSize}) and one with it false, loaded in turn `
      + `(${m.on.length} round(s) each, interleaved) by autocannon in the bench process: ${m.clients} keep-alive connections, one request in flight each. Medians of the rounds. ${TASK_ON_CPU_LABEL}.`,
    '',
    '| | req/s | p50 ms | p99 ms |',
    '| --- | ---: | ---: | ---: |',
    `| batching on | ${s.onReqPerSec.toFixed(0)} | ${msText(s.onP50)} | ${msText(s.onP99)} |`,
    `| batching off | ${s.offReqPerSec.toFixed(0)} | ${msText(s.offP50)} | ${msText(s.offP99)} |`,
    '',
    `- Throughput on/off: **${s.ratio.toFixed(2)}×** (target ≥ ${BATCHING_TARGET_RATIO}×: ${s.ratio >= BATCHING_TARGET_RATIO ? 'met' : '**not met**'}).`,
    `- p99 with batching ${msText(s.onP99)} ms vs the bound max_queue_delay + 2 × one full batch = ${m.maxQueueDelayMs} + 2 × ${msText(m.fullBatch.roundTripP50Ms)} = **${msText(s.p99BoundMs)} ms** `
      + `(${s.onP99 <= s.p99BoundMs ? 'met' : '**not met**'}). The full batch is the ${m.fullBatch.rows} rows ${m.clients} clients can have queued, sent alone to the unbatched task in this run: round trip p50 ${msText(m.fullBatch.roundTripP50Ms)} ms `
      + `(p99 ${msText(m.fullBatch.roundTripP99Ms)}), its \`infer\` stage ${msText(m.fullBatch.inferP50Ms)} ms; the model's max batch (${m.maxBatch.rows} rows) takes ${msText(m.maxBatch.roundTripP50Ms)} ms.`,
    `- Closed loop: each client sends its next request when its answer arrives, so the mean latency is clients / throughput (Little's law): ${m.clients} / ${s.onReqPerSec.toFixed(0)} req/s = ${msText((1000 * m.clients) / s.onReqPerSec)} ms with batching (p50 ${msText(s.onP50)}). `
      + `The bound counts one full batch's time twice; it holds where receiving and answering a batch's ${m.clients} requests costs little beside the batch's run.`,
    `- Errors (non-2xx, socket, timeouts) over all points: ${s.errors}.`,
    `- Inside (one more batching-on point on the same server, \`startGpuTask\` with its \`onBatch\` hook in a bench child, counted after the ramp): ${i.batches} batches for ${i.requests} requests, `
      + `median ${i.rowsPerBatchMedian} rows per batch (max ${i.rowsPerBatchMax}); a batch's run p50 ${msText(i.runMsP50)} ms (p99 ${msText(i.runMsP99)}), its oldest request had waited p50 ${msText(i.oldestWaitMsP50)} ms (p99 ${msText(i.oldestWaitMsP99)}) when it started; `
      + `${m.inside.point.reqPerSec.toFixed(0)} req/s, p99 ${msText(m.inside.point.latency?.p99)} ms. At ${msText(m.inside.point.reqPerSec > 0 ? (1000 * i.rowsPerBatchMedian) / m.inside.point.reqPerSec : NaN)} ms of wall time per median batch, `
      + `the batch's run is ${runShare.toFixed(0)} % of it; the rest is the task's per-request HTTP work (${i.rowsPerBatchMedian} requests parsed, decoded, encoded and answered per batch), the load generator and the machine's other load, on the same 2 cores. `
      + `The batch's run (${msText(i.runMsP50)} ms for ${i.rowsPerBatchMedian} rows) against the ${m.fullBatch.rows}-row batch's \`infer\` stage sent alone (${msText(m.fullBatch.inferP50Ms)} ms) shows how much the CPU under load slows the runs themselves.`,
    '',
    'Points:',
    '',
    ...m.on.map((p, i) => `- on, round ${i + 1}: ${describePoint(p)}`),
    ...m.off.map((p, i) => `- off, round ${i + 1}: ${describePoint(p)}`),
    '',
  ];
  return lines;
}

function seriesTable(s: RoutingSeries): string[] {
  const c = s.comparison;
  const threshold = Number.isFinite(s.plan.threshold) ? String(s.plan.threshold) : 'never';
  return [
    `**${s.model}** \`${s.shape}\` (max_batch_size ${s.maxBatchSize}${s.calibrationShape ? ', the shape the router calibrates on' : ''}):`,
    '',
    '| rows | local ms/row | remote ms/row | remote/local |',
    '| ---: | ---: | ---: | ---: |',
    ...s.points.map((p) => `| ${p.rows} | ${msText(p.localMs / p.rows)} | ${msText(p.remoteMs / p.rows)} | ${(p.remoteMs / p.localMs).toFixed(2)} |`),
    '',
    `Measured crossover: remote faster from **${rowsText(c.measuredRows)}** rows; the router (threshold ${threshold}, ${s.plan.source}) sends remote from **${rowsText(c.routerRows)}** rows `
      + `(up to ${s.points[s.points.length - 1]!.rows} measured): factor ${Number.isFinite(c.factor) ? c.factor.toFixed(2) : '∞'}, ${c.withinFactor2 ? 'within 2 (met)' : '**not within 2**'}.`
      + (s.calibrationShape ? '' : ' The threshold counts rows; it was calibrated on 3×32×32 images, so at this image size it is not the same work per row.'),
    '',
  ];
}

function costPart(r: RoutingMeasurement, loaded: LoadedTaskCost | undefined): string[] {
  const st = r.routeCost;
  const lines = [
    '### Cost per route (USD per million rows)',
    '',
    `From the times above with lib/serving/route-cost.ts's formulas (the ones model metadata \`parameters.route_cost\` shows): Lambda's price (${LAMBDA_PRICES.source}: USD ${LAMBDA_PRICES.usdPerMillionRequests} per million requests + `
      + `GB-s at arm64 ${LAMBDA_PRICES.usdPerGbSecond.arm64} / x86_64 ${LAMBDA_PRICES.usdPerGbSecond.x86_64}) at ${st.memoryMb} MB; local = request + GB-s of the local run; `
      + `remote = request + the function's GB-s while it waits + the task's USD ${st.taskUsdPerHour}/h for the round trip (${st.taskUsdPerHour === DEFAULT_TASK_PRICE.usdPerHour ? DEFAULT_TASK_PRICE.source : 'HOTPATH_REMOTE_TASK_USD_PER_HOUR'}), one request at a time. `
      + `Both architectures are priced at the times measured here (x86_64 CPU), not on Lambda. Remote figures: ${TASK_ON_CPU_LABEL}.`,
    '',
    `| model | rows | local arm64 | local x86_64 | remote arm64 | remote x86_64 | cheaper (${st.architecture}) | router's rule (budget ${st.latencyBudgetMs === undefined ? 'unset: the faster' : `${st.latencyBudgetMs} ms`}) |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |',
  ];
  for (const s of r.series) {
    for (const c of costRows(s.points, st)) lines.push(`| ${seriesId(s)} | ${c.rows} | ${usd(c.local.arm64)} | ${usd(c.local.x86_64)} | ${usd(c.remote.arm64)} | ${usd(c.remote.x86_64)} | ${c.cheaper} | ${c.cheapestWithinBudget} |`);
  }
  lines.push('');
  if (loaded) {
    lines.push(
      `A task kept busy costs less per row: with batching on, \`mlp-medium\` answered ${loaded.rowsPerSecond.toFixed(0)} batch-1 rows/s, so the task's hour comes to USD ${usd(loaded.taskUsdPerMillionRows)} per million rows; `
        + `with each request's Lambda side (request price + GB-s waiting the p50) the remote route costs USD ${usd(loaded.remote.arm64)} (arm64) / ${usd(loaded.remote.x86_64)} (x86_64) per million rows (${TASK_ON_CPU_LABEL}).`,
      '',
    );
  }
  const lambdaPerSecond = lambdaUsdPerSecond(st.memoryMb, st.architecture);
  const speedup = (lambdaPerSecond + st.taskUsdPerHour / 3600) / lambdaPerSecond;
  lines.push(
    `Break-even: both routes pay the request price, so the remote route is the cheaper one only when its round trip is ${speedup.toFixed(1)}× shorter than the local run `
      + `(the function's USD ${lambdaPerSecond.toPrecision(3)}/s at ${st.memoryMb} MB ${st.architecture}, plus the task's ${(st.taskUsdPerHour / 3600).toPrecision(3)}/s while it serves the request alone); `
      + 'a task shared by concurrent, batched requests costs its share only, as the line above prices it.',
    '',
  );
  const metadata = Object.entries(r.metadata).map(([name, m]) => `\`${name}\` remote_above_batch ${m?.remote_above_batch ?? 'none'} (${m?.threshold_source ?? 'no table'})`).join(', ');
  lines.push(`Model metadata in this run (\`GET /v2/models/{m}\` \`parameters.route_cost\`, from the router's start-up lines): ${metadata}.`, '');
  return lines;
}

/** The section's text (printed by every run; written to BENCHMARKS.md by full runs). */
export function gpuTaskSectionText(section: GpuTaskSection): string {
  const lines = [
    HEADING,
    '',
    'Command: `flock /tmp/hotpath-bench.lock npm run bench:gpu-task` (about 3 minutes; `-- --quick` for short points, `-- --only batching|routing`; those runs write `bench/results/gpu-task-quick.json` and not this section). '
      + 'Needs `npm run build:layers` once. Results: `bench/results/gpu-task.json`.',
    '',
    `Machine: ${machineLine()}, no GPU; load average (1/5/15 min) ${section.loadAtStart} at start, ${section.loadAtEnd} at the end. Date: ${section.date}. Run time ${section.minutes.toFixed(1)} min. `
      + 'The GPU task serves on onnxruntime-node\'s CPU provider here; every remote figure is that: ' + TASK_ON_CPU_LABEL + '.',
    '',
    '**GPU check: not run — no GPU machine was available to this session.** (`gpu-task/gpu-check/`; its CPU-only run is in `gpu-task/gpu-check/results/cpu-only-dev-machine.json`.)',
    '',
  ];
  if (section.batching) lines.push(...batchingPart(section.batching));
  if (section.routing) {
    const r = section.routing;
    lines.push(
      '### Routing: time per row, local (WASM) vs remote (the GPU task over HTTP, binary extension)',
      '',
      `Local: the Lambda core in the bench process (createServingRuntime, ${r.localBackend}, threads ${r.threads}), \`session.run\`. Remote: the router's own RemoteOipClient to a GPU task process on 127.0.0.1 `
        + `(${r.remoteProviders ? Object.entries(r.remoteProviders).map(([k, v]) => `${k} on ${v}`).join(', ') : 'providers unknown'}; the manifest's dynamic batching on, so a lone request waits out max_queue_delay there). `
        + 'The router is the one that core built with HOTPATH_REMOTE_URL set, prepared at start-up as on Lambda; its threshold is compared with the crossover measured here. '
        + 'Each figure is the median of a block of runs on one route after two not timed (blocks: alternating the routes on 2 cores slowed both); batch sizes 1, 2, 4, ... up to each model\'s max_batch_size (1024 is past both: mlp-large 256, text-detector 8) and the 6 MB a Lambda request may carry (text-detector at 320×320: 4 rows).',
      '',
      ...r.series.flatMap(seriesTable),
      ...costPart(r, section.batching?.loaded),
    );
  }
  return lines.join('\n');
}

export function writeGpuTaskSection(repoRoot: string, section: GpuTaskSection): string {
  return replaceBenchmarksSection(repoRoot, HEADING, gpuTaskSectionText(section));
}
