/** The figures of a Lambda `REPORT RequestId: ...` log line. */
export interface LambdaReport {
  readonly requestId: string;
  readonly durationMs: number;
  readonly billedDurationMs: number;
  readonly memorySizeMb: number;
  readonly maxMemoryUsedMb: number;
  /** Present only on the first invocation of a new instance (a cold start). */
  readonly initDurationMs?: number;
}

const FIELD = (name: string) => new RegExp(`${name}:\\s*([0-9.]+)\\s*(?:ms|MB)`);

/**
 * Finds and parses the REPORT line in a log tail (the base64-decoded `LogResult` of an
 * Invoke with `LogType: 'Tail'`). Undefined when the tail holds none (e.g. it was cut: the
 * tail is the last 4 KB of the invocation's log).
 *
 * @example
 * parseReportLine('REPORT RequestId: r1\tDuration: 5.1 ms\tBilled Duration: 6 ms\tMemory Size: 1769 MB\tMax Memory Used: 120 MB\tInit Duration: 300.2 ms')
 */
export function parseReportLine(logTail: string): LambdaReport | undefined {
  const line = logTail.split('\n').find((l) => l.startsWith('REPORT RequestId:'));
  if (!line) return undefined;
  const num = (name: string) => {
    const match = FIELD(name).exec(line);
    return match ? Number(match[1]) : undefined;
  };
  const duration = num('(?<!Billed |Init )Duration');
  const billed = num('Billed Duration');
  const memory = num('Memory Size');
  const used = num('Max Memory Used');
  if (duration === undefined || billed === undefined || memory === undefined || used === undefined) return undefined;
  const init = num('Init Duration');
  return {
    requestId: /RequestId:\s*(\S+)/.exec(line)?.[1] ?? '',
    durationMs: duration,
    billedDurationMs: billed,
    memorySizeMb: memory,
    maxMemoryUsedMb: used,
    ...(init !== undefined ? { initDurationMs: init } : {}),
  };
}

/** One EMF metric value with its dimensions, as Powertools Metrics writes it. */
export interface EmfMetric {
  readonly name: string;
  readonly value: number;
  readonly dimensions: Readonly<Record<string, string>>;
}

/**
 * The Embedded Metric Format records in a log tail: JSON objects with an `_aws.CloudWatchMetrics`
 * block, either raw lines or after the runtime's `<time>\t<request id>\t<level>\t` prefix.
 */
export function parseEmfMetrics(logTail: string): EmfMetric[] {
  const metrics: EmfMetric[] = [];
  for (const line of logTail.split('\n')) {
    const start = line.indexOf('{');
    if (start < 0) continue;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line.slice(start)) as Record<string, unknown>;
    } catch {
      continue;
    }
    const aws = record._aws as { CloudWatchMetrics?: Array<{ Dimensions?: string[][]; Metrics?: Array<{ Name: string }> }> } | undefined;
    for (const directive of aws?.CloudWatchMetrics ?? []) {
      const dimensionNames = (directive.Dimensions ?? []).flat();
      const dimensions = Object.fromEntries(dimensionNames.map((d) => [d, String(record[d])]));
      for (const { Name } of directive.Metrics ?? []) {
        const raw = record[Name];
        const values = Array.isArray(raw) ? raw : [raw];
        for (const v of values) if (typeof v === 'number') metrics.push({ name: Name, value: v, dimensions });
      }
    }
  }
  return metrics;
}
