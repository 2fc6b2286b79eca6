/**
 * `npm run bench:serve`: what serving adds to inference.
 *   1. handler overhead: the in-process handler (full middy chain) vs session.run, JSON and binary requests,
 *      on onnxruntime-web (HOTPATH_WASM_MODELS=*) and, for iris-classifier and mlp-medium, on their kernel plans;
 *   2. tensor decode: 1M FP32 elements, Triton binary extension vs JSON;
 *   3. warm latency over HTTP under serverless-offline (what `npm start` runs) vs session.run, onnxruntime-web.
 * Every session's route is checked against its label (handler-overhead.ts; model metadata over HTTP).
 * Writes bench/results/serve.json and the `## Serving` section of BENCHMARKS.md. About 3–4 minutes on 2 cores.
 *
 * @example
 * npm run build && npm run bench:serve
 * npm run bench:serve -- --skip-http   # parts 1 and 2 only
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { writeBenchResults, type BenchResult } from '../bench-results';
import { createInProcessApi } from '../../test/support/in-process-api';
import { startOfflineServer } from '../../test/support/offline-server';
import { loadLine, writeServingSection } from './benchmarks-section';
import { measureHandlerOverhead, overheadResults, type OverheadMeasurement, type OverheadPlan } from './handler-overhead';
import { httpResults, measureHttp, type HttpMeasurement } from './http-latency';
import { rowsCase, sileroCase, textDetectorCase, type ServeCase } from './serve-inputs';
import { withStdoutDiscarded } from './stdout-sink';
import { decodeResults, measureTensorDecode } from './tensor-decode';

const repoRoot = resolve(__dirname, '../..');
const log = (message: string) => process.stderr.write(`bench:serve ${message}\n`);

const CHEAP_WARMUP = { count: 500, minMs: 1000, maxMs: 5000 };
const HEAVY_WARMUP = { count: 150, minMs: 1500, maxMs: 6000 };

function overheadPlans(): OverheadPlan[] {
  const iris = rowsCase('iris-classifier', 4, 1);
  const mlp = rowsCase('mlp-medium', 784, 32);
  return (['onnxruntime-web', 'kernel'] as const).flatMap((backend): OverheadPlan[] => [
    { serveCase: iris, backend, encoding: 'json', warmup: CHEAP_WARMUP, loop: { count: 6000, maxMs: 4000 }, addedP50BudgetMs: 0.3 },
    { serveCase: iris, backend, encoding: 'binary', warmup: CHEAP_WARMUP, loop: { count: 6000, maxMs: 4000 }, addedP50BudgetMs: 0.3 },
    { serveCase: mlp, backend, encoding: 'json', warmup: HEAVY_WARMUP, loop: { count: 1500, maxMs: 16_000 }, targetRatio: 1.1 },
    { serveCase: mlp, backend, encoding: 'binary', warmup: HEAVY_WARMUP, loop: { count: 1500, maxMs: 16_000 }, targetRatio: 1.1 },
  ]);
}

/** The models the HTTP part's server loads (HOTPATH_MODELS): the default ONNX models and the benchmark MLPs. */
const HTTP_MODELS = 'iris-classifier,silero-vad,text-detector,mlp-small,mlp-medium,mlp-large';

function httpCases(): ServeCase[] {
  return [
    rowsCase('iris-classifier', 4, 1), rowsCase('iris-classifier', 4, 32), sileroCase(), textDetectorCase(1), textDetectorCase(8),
    rowsCase('mlp-small', 256, 1), rowsCase('mlp-small', 256, 32), rowsCase('mlp-medium', 784, 1), rowsCase('mlp-medium', 784, 32),
    rowsCase('mlp-large', 1024, 1), rowsCase('mlp-large', 1024, 32),
  ];
}

function overheadFinding(m: OverheadMeasurement, binary: OverheadMeasurement | undefined): string | undefined {
  const ratio = m.handler.p50 / m.session.p50;
  const added = m.handler.p50 - m.session.p50;
  const missed = (m.plan.targetRatio !== undefined && ratio > m.plan.targetRatio) || (m.plan.addedP50BudgetMs !== undefined && added > m.plan.addedP50BudgetMs);
  const s = m.stages;
  const outside = (s.total ?? 0) - (s.decode ?? 0) - (s.infer ?? 0) - (s.encode ?? 0);
  const head = `**${m.plan.serveCase.label}, ${m.plan.backend}, ${m.plan.encoding} request** ${missed ? '(target not met)' : '(target met)'}: handler p50 ${m.handler.p50.toFixed(3)} ms vs session.run ${m.session.p50.toFixed(3)} ms `
    + `(ratio ${ratio.toFixed(3)}, +${added.toFixed(3)} ms). Server-Timing p50: decode+validate ${s.decode} ms, infer ${s.infer} ms, encode ${s.encode} ms, `
    + `routing/adapter/metrics inside the handler ${outside.toFixed(3)} ms; the rest (${Math.max(0, m.handler.p50 - (s.total ?? 0)).toFixed(3)} ms) is middy and Powertools around it.`;
  if (!missed || m.plan.encoding !== 'json') return head;
  const bin = binary ? ` The same tensors in the binary extension: ratio ${(binary.handler.p50 / binary.session.p50).toFixed(3)}, decode ${binary.stages.decode} ms.` : '';
  return `${head} What limits it: decoding the JSON body, i.e. V8's \`JSON.parse\` of ${m.plan.serveCase.inputs[0]!.data.length} full-precision float literals `
    + `(what numpy's \`tolist()\` + \`json.dumps\` sends), which no code of ours can make cheaper; the binary request does not parse numbers at all. `
    + `The time between the stages (and p99) moves from run to run on this shared 2-core machine, with the garbage the JSON path leaves behind.${bin}`;
}

/** Model metadata over HTTP: every ONNX model the server loads must say `backend: onnxruntime-web`, as the HTTP rows are labelled. */
async function checkServedOnWasm(baseUrl: string, models: readonly string[]): Promise<void> {
  for (const model of models) {
    const metadata = await (await fetch(`${baseUrl}/v2/models/${model}`)).json() as { parameters?: { model_parameters?: { backend?: string } } };
    const backend = metadata.parameters?.model_parameters?.backend;
    if (backend !== 'onnxruntime-web') throw new Error(`serverless-offline serves '${model}' on ${backend ?? 'an unnamed backend'}, but the HTTP rows are labelled onnxruntime-web`);
  }
  log(`serverless-offline: ${models.join(', ')} on onnxruntime-web (model metadata)`);
}

async function main(): Promise<void> {
  const skipHttp = process.argv.includes('--skip-http');
  const started = performance.now();
  const loadAtStart = loadLine();
  log(`load average ${loadAtStart}`);

  // onnxruntime-web for every model (HOTPATH_WASM_MODELS=*); the models' kernel plans, as deployed, in a second runtime.
  const api = await withStdoutDiscarded(() => createInProcessApi({ models: HTTP_MODELS.split(','), wasmThreads: 1, wasmModels: '*' }));
  const kernelApi = await withStdoutDiscarded(() => createInProcessApi({ models: ['iris-classifier', 'mlp-medium'], wasmThreads: 1, wasmModels: [] }));
  const overhead: OverheadMeasurement[] = [];
  for (const plan of overheadPlans()) {
    const m = await measureHandlerOverhead(plan.backend === 'kernel' ? kernelApi : api, plan);
    overhead.push(m);
    log(`handler ${plan.serveCase.label} ${plan.encoding} ${plan.backend}: p50 ${m.handler.p50.toFixed(4)} / ${m.session.p50.toFixed(4)} ms, p99 ${m.handler.p99.toFixed(3)} / ${m.session.p99.toFixed(3)} ms (n=${m.handler.n}) ${JSON.stringify(m.stages)}`);
  }

  const decode = await measureTensorDecode(1_000_000, 6000);
  log(`decode 1M FP32: binary p50 ${decode.binary.p50.toFixed(4)} ms, JSON p50 ${decode.json.p50.toFixed(2)} ms (${(decode.json.p50 / decode.binary.p50).toFixed(0)}x)`);

  const http: HttpMeasurement[] = [];
  const findings: string[] = [];
  if (!skipHttp) {
    const build = spawnSync(process.execPath, [resolve(repoRoot, 'node_modules/tsx/dist/cli.mjs'), 'scripts/build-functions.ts'], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
    if (build.status !== 0) throw new Error('npm run build:functions failed; the HTTP part serves dist/functions');
    const server = await startOfflineServer({ env: { HOTPATH_MODELS: HTTP_MODELS, HOTPATH_WASM_THREADS: '1', HOTPATH_WASM_MODELS: '*' } });
    log(`serverless-offline ready at ${server.baseUrl}`);
    try {
      await checkServedOnWasm(server.baseUrl, HTTP_MODELS.split(','));
      for (const serveCase of httpCases()) {
        const heavy = serveCase.model === 'text-detector';
        const warmup = heavy ? { count: 20, minMs: 1000, maxMs: 4000 } : { count: 300, minMs: 1000, maxMs: 4000 };
        const loop = heavy ? { count: 400, maxMs: 8000 } : { count: 2000, maxMs: 4000 };
        const state = api.runtime.registry.findReady(serveCase.model).state;
        if (!state.ready) throw new Error(`model '${serveCase.model}' is not ready`);
        for (const encoding of ['json', 'binary'] as const) {
          const m = await measureHttp(server.baseUrl, state.session, serveCase, encoding, warmup, loop);
          http.push(m);
          log(`http ${serveCase.label} ${encoding}: p50 ${m.http.p50.toFixed(3)} ms, p99 ${m.http.p99.toFixed(3)} ms vs session.run ${m.session.p50.toFixed(3)} / ${m.session.p99.toFixed(3)} ms (n=${m.http.n})`);
        }
      }
    } finally {
      await server.stop();
    }
  }

  const overheadRows = overhead.flatMap(overheadResults);
  const decodeRows = decodeResults(decode);
  const httpRows = http.flatMap((m) => httpResults(m));
  const results: BenchResult[] = [...overheadRows, ...decodeRows, ...httpRows];
  const path = writeBenchResults('serve', results);

  for (const m of overhead) {
    const binary = overhead.find((o) => o.plan.serveCase === m.plan.serveCase && o.plan.backend === m.plan.backend && o.plan.encoding === 'binary');
    const finding = overheadFinding(m, binary);
    if (finding) findings.push(finding);
  }
  findings.push(`**Tensor decode**: 1M FP32 elements decode in ${decode.binary.p50.toFixed(3)} ms from the binary extension (${(decode.binaryBytes / 1e6).toFixed(1)} MB body) `
    + `and ${decode.json.p50.toFixed(1)} ms from JSON (${(decode.jsonBytes / 1e6).toFixed(1)} MB body): ${(decode.json.p50 / decode.binary.p50).toFixed(0)}× faster.`);
  if (http.length > 0) {
    const gaps = http.map((m) => `${m.serveCase.label} ${m.encoding} +${(m.http.p50 - m.session.p50).toFixed(2)} ms (handler outside session.run ${((m.stages.total ?? 0) - (m.stages.infer ?? 0)).toFixed(2)} ms)`);
    findings.push(`**HTTP gap** (p50 over HTTP minus session.run p50): ${gaps.join('; ')}. The part not inside the handler is serverless-offline `
      + '(hapi routing, building the API Gateway event, handing it to the function\'s worker thread and back) and the loopback client; on AWS, API Gateway and the Lambda invoke take its place.');
  } else {
    findings.push('HTTP part skipped (--skip-http).');
  }
  const section = writeServingSection(repoRoot, { date: new Date().toISOString(), loadAtStart, overhead: overheadRows, decode: decodeRows, http: httpRows, findings });
  await api.runtime.registry.dispose();
  await kernelApi.runtime.registry.dispose();
  log(`wrote ${path} and ${section} in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:serve failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
