/** The part of autocannon 9's API the server bench uses (the package ships no types). */
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  interface AutocannonOptions {
    url: string;
    connections?: number;
    /** Seconds; fractions allowed. */
    duration?: number;
    method?: string;
    headers?: Record<string, string>;
    body?: Buffer | string;
    timeout?: number;
    pipelining?: number;
    /** ms between the per-second request samples (default 1000). */
    sampleInt?: number;
  }

  interface Histogram {
    average: number;
    mean: number;
    stddev: number;
    min: number;
    max: number;
    p50: number;
    p99: number;
    total: number;
    sent?: number;
  }

  interface AutocannonResult {
    duration: number;
    samples: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    resets: number;
    mismatches: number;
    '2xx': number;
    statusCodeStats: Record<string, { count: number }>;
    latency: Histogram;
    requests: Histogram;
    throughput: Histogram;
  }

  interface Instance extends EventEmitter {
    stop(): void;
  }

  function autocannon(options: AutocannonOptions, callback: (error: Error | null, result: AutocannonResult) => void): Instance;
  export = autocannon;
}
