import { Tracer } from '@aws-lambda-powertools/tracer';
import type { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { createLogger } from './powertools-telemetry';
import type { OpenStageSpan } from './stage-timings';

/** Powertools instances, created once per process. Service name and namespace come from POWERTOOLS_* variables. */
export interface Telemetry {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly tracer: Tracer;
}

/** The Lambda door's Logger, Metrics (flushed per invocation by middy) and Tracer (X-Ray). */
export function createTelemetry(): Telemetry {
  const logger = createLogger();
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
