import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { ServingRuntime } from '../serving/serving-runtime';
import type { RequestMetricsSink } from '../http/serve-oip-request';
import type { OpenStageSpan } from './stage-timings';

/** Powertools instances, created once per process. Service name and namespace come from POWERTOOLS_* variables. */
export interface Telemetry {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly tracer: Tracer;
}

export function createTelemetry(): Telemetry {
  const logger = new Logger({ serviceName: 'hotpath' });
  const metrics = new Metrics({ namespace: 'hotpath', serviceName: 'hotpath' });
  const tracer = new Tracer({ serviceName: 'hotpath' });
  return { logger, metrics, tracer };
}

/** One tracer subsegment per stage, nested under the handler's segment; nothing when tracing is off. */
export function tracerStageSpans(tracer: Tracer): OpenStageSpan {
  return (stage) => {
    if (!tracer.isTracingEnabled()) return undefined;
    const parent = tracer.getSegment();
    if (!parent) return undefined;
    const subsegment = parent.addNewSubsegment(`## ${stage}`);
    tracer.setSegment(subsegment);
    return {
      close() {
        subsegment.close();
        tracer.setSegment(parent);
      },
    };
  };
}

/**
 * InitDuration and each model's ModelLoad, published once per instance (EMF), on the
 * instance's first invocation so they land in that invocation's log stream.
 */
export function publishInitMetrics(metrics: Metrics, runtime: ServingRuntime): void {
  // A single metric is flushed by addMetric itself.
  metrics.singleMetric().addMetric('InitDuration', MetricUnit.Milliseconds, runtime.initMs);
  for (const entry of runtime.registry.entries) {
    if (!entry.selected) continue;
    const load = metrics.singleMetric();
    load.addDimension('model', entry.manifest.name);
    load.addDimension('route', entry.state.ready ? entry.state.backend.route : 'refused');
    load.addMetric('ModelLoad', MetricUnit.Milliseconds, entry.loadMs);
  }
}

/** Stage metric names as CloudWatch shows them: `decode` → `Decode`. */
function metricName(stage: string): string {
  return stage.charAt(0).toUpperCase() + stage.slice(1);
}

/**
 * Metrics of one Lambda invocation: dimensions model and route on the invocation's metrics
 * object, flushed by the middy logMetrics middleware at the end of the invocation.
 */
export function invocationMetricsSink(metrics: Metrics): RequestMetricsSink {
  return {
    recordInference(answer, totalMs) {
      metrics.addDimensions({ model: answer.model.manifest.name, route: answer.route });
      for (const stage of answer.timings.entries) metrics.addMetric(metricName(stage.name), MetricUnit.Milliseconds, stage.ms);
      metrics.addMetric('BatchSize', MetricUnit.Count, answer.batchSize);
      metrics.addMetric('Duration', MetricUnit.Milliseconds, totalMs);
    },
    recordRequest(totalMs) {
      metrics.addMetric('Duration', MetricUnit.Milliseconds, totalMs);
    },
  };
}

/**
 * Metrics of a long-running server: one Metrics object per (model, route), whose values
 * accumulate (Powertools keeps up to 100 values per metric in one EMF record, then flushes)
 * and are flushed every `flushMs` and on close, instead of one EMF line per request.
 */
export function aggregatingMetricsSink(namespace: string, serviceName: string, flushMs = 10_000): RequestMetricsSink & { flush(): void; close(): void } {
  const byKey = new Map<string, Metrics>();
  const forDimensions = (dimensions: Record<string, string>): Metrics => {
    const key = Object.values(dimensions).join('\u0000');
    let metrics = byKey.get(key);
    if (!metrics) {
      metrics = new Metrics({ namespace, serviceName, defaultDimensions: dimensions });
      byKey.set(key, metrics);
    }
    return metrics;
  };
  const flush = () => {
    for (const metrics of byKey.values()) if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  };
  const timer = setInterval(flush, flushMs);
  timer.unref();
  return {
    recordInference(answer, totalMs) {
      const metrics = forDimensions({ model: answer.model.manifest.name, route: answer.route });
      for (const stage of answer.timings.entries) metrics.addMetric(metricName(stage.name), MetricUnit.Milliseconds, stage.ms);
      metrics.addMetric('BatchSize', MetricUnit.Count, answer.batchSize);
      metrics.addMetric('Duration', MetricUnit.Milliseconds, totalMs);
    },
    recordRequest(totalMs) {
      forDimensions({ route: 'metadata' }).addMetric('Duration', MetricUnit.Milliseconds, totalMs);
    },
    flush,
    close() {
      clearInterval(timer);
      flush();
    },
  };
}
