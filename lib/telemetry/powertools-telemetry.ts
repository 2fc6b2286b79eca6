import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { ServingRuntime } from '../serving/serving-runtime';
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
