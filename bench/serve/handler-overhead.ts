import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { compareWithAnchor, type BenchResult } from '../bench-results';
import { encodeInferRequest } from '../../lib/protocol/infer-request-encoder';
import type { InProcessApi } from '../../test/support/in-process-api';
import { ms, samplePaired, summarize, warmUp, type LoopBounds, type WarmupBounds } from './latency-sampler';
import type { ServeCase } from './serve-inputs';
import { withStdoutDiscarded } from './stdout-sink';

export type RequestEncoding = 'json' | 'binary';

/** What serves the plan's model: onnxruntime-web (HOTPATH_WASM_MODELS=*) or its kernel plan, as deployed. */
export type OverheadBackend = 'onnxruntime-web' | 'kernel';
const ROUTE_OF: Record<OverheadBackend, string> = { 'onnxruntime-web': 'local-wasm', kernel: 'local-kernel' };

export interface OverheadPlan {
  readonly serveCase: ServeCase;
  readonly backend: OverheadBackend;
  readonly encoding: RequestEncoding;
  readonly warmup: WarmupBounds;
  readonly loop: LoopBounds;
  /** Handler p50 over session.run p50 must be at most this. */
  readonly targetRatio?: number;
  /** Handler p50 minus session.run p50 must be at most this many ms. */
  readonly addedP50BudgetMs?: number;
}

export interface OverheadMeasurement {
  readonly plan: OverheadPlan;
  readonly handler: ReturnType<typeof summarize>;
  readonly session: ReturnType<typeof summarize>;
  /** Median of handler/session.run over adjacent pairs: load bursts from neighbours hit both calls of a pair. */
  readonly pairedRatioP50: number;
  /** Median of each Server-Timing stage over the measured handler calls. */
  readonly stages: Record<string, number>;
}

/**
 * An API Gateway v2 event as the Lambda runtime hands it over: JSON bodies as text, binary
 * ones base64-encoded. Built once, so the client's encoding is not timed.
 */
export function inferEvent(serveCase: ServeCase, encoding: RequestEncoding): APIGatewayProxyEventV2 {
  const binary = encoding === 'binary';
  const request = encodeInferRequest(serveCase.inputs, binary ? { binary: true } : {});
  const body = binary
    // Binary clients ask for binary outputs too (parameters.binary_data_output).
    ? withBinaryOutputs(request.body, Number(request.headers['inference-header-content-length']))
    : { body: request.body, headerLength: undefined };
  const path = `/v2/models/${serveCase.model}/infer`;
  return {
    version: '2.0', routeKey: '$default', rawPath: path, rawQueryString: '',
    headers: {
      'content-type': request.headers['content-type']!,
      'content-length': String(body.body.byteLength),
      ...(body.headerLength !== undefined ? { 'inference-header-content-length': String(body.headerLength) } : {}),
    },
    requestContext: { http: { method: 'POST', path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench-serve' }, requestId: 'bench', routeKey: '$default', stage: '$default' },
    body: binary ? body.body.toString('base64') : body.body.toString('utf8'),
    isBase64Encoded: binary,
  } as unknown as APIGatewayProxyEventV2;
}

/** Rewrites a binary request's JSON header to add `parameters.binary_data_output: true`. */
export function withBinaryOutputs(body: Buffer, headerLength: number): { body: Buffer; headerLength: number } {
  const header = JSON.parse(body.subarray(0, headerLength).toString('utf8'));
  const rewritten = Buffer.from(JSON.stringify({ ...header, parameters: { ...header.parameters, binary_data_output: true } }));
  return { body: Buffer.concat([rewritten, body.subarray(headerLength)]), headerLength: rewritten.byteLength };
}

/**
 * The full handler chain (middy, Powertools logger/metrics/tracer, routing, decode,
 * validation, session.run, encode, Server-Timing) against the same model session's `run`
 * on the same, already decoded inputs, measured in alternation.
 */
export async function measureHandlerOverhead(api: InProcessApi, plan: OverheadPlan): Promise<OverheadMeasurement> {
  const { serveCase } = plan;
  const event = inferEvent(serveCase, plan.encoding);
  const session = api.runtime.registry.findReady(serveCase.model).state;
  if (!session.ready) throw new Error(`model '${serveCase.model}' is not ready`);
  if (session.backend.route !== ROUTE_OF[plan.backend]) throw new Error(`${serveCase.label}: served on ${session.backend.route}, but the plan is labelled ${plan.backend} (${ROUTE_OF[plan.backend]})`);
  const stageSamples: Record<string, number[]> = {};
  let recordStages = false;
  const callHandler = async () => {
    const result = await api.invoke(event);
    if (result.statusCode !== 200) throw new Error(`${serveCase.label}: handler answered ${result.statusCode}: ${result.body}`);
    if (recordStages) {
      for (const part of String(result.headers?.['server-timing']).split(', ')) {
        const [name, dur] = part.split(';dur=');
        (stageSamples[name!] ??= []).push(Number(dur));
      }
    }
  };
  const runSession = () => session.session.run(serveCase.inputs);
  return withStdoutDiscarded(async () => {
    await warmUp(async () => { await callHandler(); await runSession(); }, plan.warmup);
    recordStages = true;
    const { a, b } = await samplePaired(callHandler, runSession, plan.loop);
    const stages = Object.fromEntries(Object.entries(stageSamples).map(([name, v]) => [name, ms(summarize(v).p50, 4)]));
    const pairedRatioP50 = summarize(a.map((h, i) => h / b[i]!)).p50;
    return { plan, handler: summarize(a), session: summarize(b), pairedRatioP50, stages };
  });
}

/** DESIGN.md rows for one measurement: p50 and p99 against session.run, plus the added-p50 budget where there is one. */
export function overheadResults(m: OverheadMeasurement): BenchResult[] {
  const { plan } = m;
  const name = `handler-overhead/${plan.serveCase.label}/${plan.encoding}${plan.backend === 'kernel' ? '/kernel' : ''}`;
  const anchor = `session.run alone (same model session, same inputs, in-process, ${plan.backend}, 1 thread)`;
  const note = `n=${m.handler.n}; median of per-pair ratios ${m.pairedRatioP50.toFixed(3)}; handler stages p50 (ms): ${Object.entries(m.stages).map(([k, v]) => `${k} ${v}`).join(', ')}`;
  const rows: BenchResult[] = [
    { ...compareWithAnchor({ case: name, metric: 'p50_ms', value: ms(m.handler.p50, 4), lower_is_better: true }, anchor, ms(m.session.p50, 4), plan.targetRatio), note },
    compareWithAnchor({ case: name, metric: 'p99_ms', value: ms(m.handler.p99, 4), lower_is_better: true }, anchor, ms(m.session.p99, 4)),
  ];
  if (plan.addedP50BudgetMs !== undefined) {
    rows.push({
      ...compareWithAnchor(
        { case: name, metric: 'added_p50_ms', value: ms(m.handler.p50 - m.session.p50, 4), lower_is_better: true },
        `budget: ${plan.addedP50BudgetMs} ms added over session.run p50`,
        plan.addedP50BudgetMs,
        1.0,
      ),
      note: 'value is handler p50 minus session.run p50; ratio is that over the budget',
    });
  }
  return rows;
}
