import autocannon from 'autocannon';
import { LatencyRecorder, type LatencyPercentiles } from './load-stats';
import { RssSampler } from './process-memory';
import type { PreparedLoadRequest } from './server-workloads';

export interface LoadOptions {
  readonly connections: number;
  readonly durationMs: number;
  /** Process whose tree's resident memory is sampled during the point. */
  readonly rssRoot?: number;
  /** Stop the point early once the sampled tree passes this many bytes (serverless-offline). */
  readonly rssLimitBytes?: number;
  /** Per-request timeout, seconds (autocannon's default is 10). */
  readonly timeoutS?: number;
}

/** What one load point measured. */
export interface LoadPoint {
  readonly connections: number;
  /** Wall time of the point, s (shorter than asked when stopped at the memory bound). */
  readonly durationS: number;
  readonly ok: number;
  readonly reqPerSec: number;
  /** Latency of 2xx answers. */
  readonly latency: LatencyPercentiles | undefined;
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
 * `durationMs` (autocannon, in this process), sampling the server's memory meanwhile.
 */
export function runLoad(url: string, request: PreparedLoadRequest, options: LoadOptions): Promise<LoadPoint> {
  const latencies = new LatencyRecorder();
  let stoppedAtRss: number | undefined;
  let instance: ReturnType<typeof autocannon> | undefined;
  const sampler = options.rssRoot === undefined ? undefined : new RssSampler(options.rssRoot, 100, (rss) => {
    if (options.rssLimitBytes !== undefined && rss > options.rssLimitBytes && stoppedAtRss === undefined) {
      stoppedAtRss = rss;
      instance?.stop();
    }
  });
  const started = performance.now();
  return new Promise<LoadPoint>((resolve, reject) => {
    instance = autocannon(
      {
        url: `${url}${request.path}`,
        method: request.method,
        headers: request.headers,
        body: request.body,
        connections: options.connections,
        duration: options.durationMs / 1000,
        timeout: options.timeoutS ?? 10,
      },
      (error, result) => {
        const peakRssBytes = sampler?.stop();
        if (error) {
          reject(error);
          return;
        }
        // autocannon's own clock (start of the run to its last sample); ours as a fallback.
        const durationS = result.duration > 0 ? result.duration : (performance.now() - started) / 1000;
        const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count]));
        resolve({
          connections: options.connections,
          durationS,
          ok: result['2xx'],
          reqPerSec: result['2xx'] / durationS,
          latency: latencies.percentiles(),
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
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTimeMs: number) => {
      if (statusCode >= 200 && statusCode < 300) latencies.record(responseTimeMs);
    });
  });
}
