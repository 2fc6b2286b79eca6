import autocannon from 'autocannon';
import { SteadyStateTracker, type LatencyPercentiles } from './load-stats';
import { RssSampler } from './process-memory';
import type { PreparedLoadRequest } from './server-workloads';

export interface LoadOptions {
  readonly connections: number;
  /** Length of the steady window asked for; the point runs `rampMs` longer. */
  readonly durationMs: number;
  /** Load before the steady window opens (new connections, V8 tier-up); the window also waits for every connection's first answer. */
  readonly rampMs?: number;
  /** Process whose tree's resident memory is sampled during the point. */
  readonly rssRoot?: number;
  /** Stop the point early once the sampled tree passes this many bytes (serverless-offline). */
  readonly rssLimitBytes?: number;
  /** Per-request timeout, seconds (autocannon's default is 10). */
  readonly timeoutS?: number;
}

/**
 * What one load point measured. Throughput and latency are read in the steady window, from
 * the moment every connection has had its first answer (SteadyStateTracker); errors count
 * the whole point.
 */
export interface LoadPoint {
  readonly connections: number;
  /** Wall time of the point, s (shorter than asked when stopped at the memory bound). */
  readonly durationS: number;
  /** 2xx answers in the steady window. */
  readonly ok: number;
  readonly reqPerSec: number;
  /** Latency of the 2xx answers in the steady window. */
  readonly latency: LatencyPercentiles | undefined;
  /** Latency of every 2xx answer, the connection ramp included. */
  readonly latencyWithRamp: LatencyPercentiles | undefined;
  /** ms until the last connection's first answer; undefined when some connection never got one. */
  readonly lastFirstAnswerMs: number | undefined;
  /** False when the ramp left less than half the asked window: the figures are then the whole point's. */
  readonly steady: boolean;
  readonly steadyWindowS: number;
  readonly non2xx: number;
  /** Socket errors, timeouts included. */
  readonly socketErrors: number;
  readonly timeouts: number;
  /** non-2xx + socket errors (timeouts included). */
  readonly errors: number;
  readonly statusCodes: Record<string, number>;
  readonly peakRssBytes: number | undefined;
  /** Set when the point was cut short at `rssLimitBytes`. */
  readonly stoppedAtRss?: number;
}

/**
 * Loads `url` with the same prepared request on `connections` keep-alive connections for
 * `rampMs + durationMs` (autocannon, in this process), sampling the server's memory
 * meanwhile; throughput and latency come from the steady window (SteadyStateTracker).
 */
export function runLoad(url: string, request: PreparedLoadRequest, options: LoadOptions): Promise<LoadPoint> {
  let stoppedAtRss: number | undefined;
  let instance: ReturnType<typeof autocannon> | undefined;
  const sampler = options.rssRoot === undefined ? undefined : new RssSampler(options.rssRoot, 100, (rss) => {
    if (options.rssLimitBytes !== undefined && rss > options.rssLimitBytes && stoppedAtRss === undefined) {
      stoppedAtRss = rss;
      instance?.stop();
    }
  });
  const started = performance.now();
  const rampMs = options.rampMs ?? 0;
  const steady = new SteadyStateTracker<unknown>(options.connections, started, rampMs);
  return new Promise<LoadPoint>((resolve, reject) => {
    instance = autocannon(
      {
        url: `${url}${request.path}`,
        method: request.method,
        headers: request.headers,
        body: request.body,
        connections: options.connections,
        duration: (rampMs + options.durationMs) / 1000,
        timeout: options.timeoutS ?? 10,
      },
      (error, result) => {
        const ended = performance.now();
        const peakRssBytes = sampler?.stop();
        if (error) {
          reject(error);
          return;
        }
        const durationS = (ended - started) / 1000;
        const window = steady.result(ended, options.durationMs / 2);
        const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count]));
        resolve({
          connections: options.connections,
          durationS,
          ok: window.ok,
          reqPerSec: window.ok / (window.windowMs / 1000),
          latency: window.latency,
          latencyWithRamp: window.latencyWithRamp,
          lastFirstAnswerMs: window.lastFirstAnswerMs,
          steady: window.steady,
          steadyWindowS: window.windowMs / 1000,
          non2xx: result.non2xx,
          socketErrors: result.errors,
          timeouts: result.timeouts,
          errors: result.non2xx + result.errors,
          statusCodes,
          peakRssBytes,
          ...(stoppedAtRss !== undefined ? { stoppedAtRss } : {}),
        });
      },
    );
    instance.on('response', (client: unknown, statusCode: number, _bytes: number, responseTimeMs: number) => {
      steady.answer(client, performance.now(), responseTimeMs, statusCode >= 200 && statusCode < 300);
    });
  });
}
