import { Agent, request as httpRequest } from 'node:http';
import { compareWithAnchor, type BenchResult } from '../bench-results';
import type { BackendSession } from '../../lib/backends/inference-backend';
import { encodeInferRequest } from '../../lib/protocol/infer-request-encoder';
import { ms, samplePaired, summarize, warmUp, type LoopBounds, type WarmupBounds } from './latency-sampler';
import { withBinaryOutputs, type RequestEncoding } from './handler-overhead';
import type { ServeCase } from './serve-inputs';

export interface HttpMeasurement {
  readonly serveCase: ServeCase;
  readonly encoding: RequestEncoding;
  readonly http: ReturnType<typeof summarize>;
  /** session.run alone on the same inputs, in this process, alternating with the HTTP calls (the server is idle meanwhile). */
  readonly session: ReturnType<typeof summarize>;
  /** Median of each Server-Timing stage the handler reported. */
  readonly stages: Record<string, number>;
}

interface PreparedRequest {
  readonly path: string;
  readonly body: Buffer;
  readonly headers: Record<string, string>;
}

export function prepareHttpRequest(serveCase: ServeCase, encoding: RequestEncoding): PreparedRequest {
  const path = `/v2/models/${serveCase.model}/infer`;
  if (encoding === 'json') {
    const { body, headers } = encodeInferRequest(serveCase.inputs);
    return { path, body, headers };
  }
  const encoded = encodeInferRequest(serveCase.inputs, { binary: true });
  const { body, headerLength } = withBinaryOutputs(encoded.body, Number(encoded.headers['inference-header-content-length']));
  return { path, body, headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength) } };
}

/** One keep-alive connection on loopback, as a single client would hold it. */
export function createLoopbackClient(baseUrl: string) {
  const url = new URL(baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return {
    send(prepared: PreparedRequest): Promise<{ status: number; serverTiming: string }> {
      return new Promise((resolve, reject) => {
        const req = httpRequest(
          { host: url.hostname, port: url.port, path: prepared.path, method: 'POST', agent, headers: { ...prepared.headers, 'content-length': String(prepared.body.byteLength) } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              if (res.statusCode !== 200) reject(new Error(`${prepared.path} answered ${res.statusCode}: ${Buffer.concat(chunks).toString('utf8').slice(0, 300)}`));
              else resolve({ status: res.statusCode, serverTiming: String(res.headers['server-timing'] ?? '') });
            });
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(prepared.body);
      });
    },
    close() {
      agent.destroy();
    },
  };
}

/**
 * Warm p50/p99 of one request over HTTP, alternating with session.run on the same inputs so
 * that load from neighbours hits both alike. A fresh keep-alive connection per measurement:
 * one left idle between measurements may have passed the server's keep-alive timeout.
 */
export async function measureHttp(
  baseUrl: string,
  session: BackendSession,
  serveCase: ServeCase,
  encoding: RequestEncoding,
  warmup: WarmupBounds,
  loop: LoopBounds,
): Promise<HttpMeasurement> {
  const prepared = prepareHttpRequest(serveCase, encoding);
  const client = createLoopbackClient(baseUrl);
  try {
    return await measureOver(client, prepared, session, serveCase, encoding, warmup, loop);
  } finally {
    client.close();
  }
}

async function measureOver(
  client: ReturnType<typeof createLoopbackClient>,
  prepared: PreparedRequest,
  session: BackendSession,
  serveCase: ServeCase,
  encoding: RequestEncoding,
  warmup: WarmupBounds,
  loop: LoopBounds,
): Promise<HttpMeasurement> {
  const stageSamples: Record<string, number[]> = {};
  let record = false;
  const call = async () => {
    const { serverTiming } = await client.send(prepared);
    if (!record) return;
    for (const part of serverTiming.split(', ')) {
      const [name, dur] = part.split(';dur=');
      if (dur !== undefined) (stageSamples[name!] ??= []).push(Number(dur));
    }
  };
  const run = () => session.run(serveCase.inputs);
  await warmUp(async () => { await call(); await run(); }, warmup);
  record = true;
  const { a, b } = await samplePaired(call, run, loop);
  const stages = Object.fromEntries(Object.entries(stageSamples).map(([name, v]) => [name, ms(summarize(v).p50, 4)]));
  return { serveCase, encoding, http: summarize(a), session: summarize(b), stages };
}

export function httpResults(m: HttpMeasurement): BenchResult[] {
  const { session } = m;
  const name = `http/${m.serveCase.label}/${m.encoding}`;
  const anchor = 'session.run alone (same model and inputs, in-process, onnxruntime-web, 1 thread)';
  const gap50 = m.http.p50 - session.p50;
  const inHandler = (m.stages.total ?? NaN) - (m.stages.infer ?? NaN);
  const note = `n=${m.http.n}; gap p50 ${gap50.toFixed(3)} ms, of which our handler outside session.run ${inHandler.toFixed(3)} ms `
    + `(Server-Timing p50: ${Object.entries(m.stages).map(([k, v]) => `${k} ${v}`).join(', ')}); the rest is serverless-offline, the worker hop and the loopback client`;
  return [
    { ...compareWithAnchor({ case: name, metric: 'p50_ms', value: ms(m.http.p50), lower_is_better: true }, anchor, ms(session.p50, 4)), note },
    compareWithAnchor({ case: name, metric: 'p99_ms', value: ms(m.http.p99), lower_is_better: true }, anchor, ms(session.p99, 4)),
  ];
}
