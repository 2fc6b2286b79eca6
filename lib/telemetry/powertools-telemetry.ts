import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
/**
 * No Tracer here: importing Powertools' Tracer loads the X-Ray SDK, whose cls-hooked context
 * installs async hooks with destroy tracking for the whole process. Measured: 300k awaits take
 * 44 ms without it and 739 ms with it (`node -e` loop, Node 20), which cut the OIP server's
 * throughput on iris-classifier. Only the Lambda door traces (lambda-telemetry.ts).
 */
import type { ServingRuntime } from '../serving/serving-runtime';
import type { RequestMetricsSink } from '../http/serve-oip-request';

/** The service's Powertools Logger (JSON; level and service name from POWERTOOLS_* variables). */
export function createLogger(): Logger {
  return new Logger({ serviceName: 'hotpath' });
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

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

/**
 * Values kept per metric and flush window: Powertools publishes a record on its own the moment
 * one metric holds 100 values (MAX_METRIC_VALUES_SIZE), so 99 keeps a window's metrics in one record.
 */
const SAMPLES_PER_WINDOW = 99;

/** One metric's values in a flush window: every value up to SAMPLES_PER_WINDOW, then a uniform sample (reservoir), and the exact count. */
class MetricWindow {
  readonly samples: number[] = [];
  count = 0;
  constructor(readonly unit: Unit) {}

  add(value: number, random: () => number): void {
    this.count++;
    if (this.samples.length < SAMPLES_PER_WINDOW) this.samples.push(value);
    else {
      const slot = Math.floor(random() * this.count);
      if (slot < SAMPLES_PER_WINDOW) this.samples[slot] = value;
    }
  }
}

/**
 * Metrics of a long-running server, through Powertools: per (model, route) and flush window
 * (`flushMs`, and on close), one EMF record with up to 99 values per metric (all of them, or
 * a uniform sample when more came in) and `Requests`, the exact count. Per request this only
 * appends to arrays: a Powertools addMetric reads the environment on every call (CPU profile of
 * iris-classifier at 32 connections: 244 ms of 9 s in Metrics.storeMetric and its env reads),
 * and one EMF line per 100 requests flooded `npm start`'s terminal at 2,000 req/s.
 */
export function aggregatingMetricsSink(namespace: string, serviceName: string, flushMs = 10_000, random: () => number = Math.random): RequestMetricsSink & { flush(): void; close(): void } {
  const windows = new Map<string, { dimensions: Record<string, string>; metrics: Map<string, MetricWindow> }>();
  const record = (dimensions: Record<string, string>, name: string, unit: Unit, value: number) => {
    const key = dimensions.model === undefined ? dimensions.route! : `${dimensions.model}\u0000${dimensions.route}`;
    let window = windows.get(key);
    if (!window) {
      window = { dimensions, metrics: new Map() };
      windows.set(key, window);
    }
    let metric = window.metrics.get(name);
    if (!metric) {
      metric = new MetricWindow(unit);
      window.metrics.set(name, metric);
    }
    metric.add(value, random);
  };
  const flush = () => {
    for (const { dimensions, metrics } of windows.values()) {
      if (metrics.size === 0) continue;
      const emf = new Metrics({ namespace, serviceName, defaultDimensions: dimensions });
      let requests = 0;
      for (const [name, metric] of metrics) {
        for (const value of metric.samples) emf.addMetric(name, metric.unit, value);
        if (name === 'Duration') requests = metric.count;
      }
      emf.addMetric('Requests', MetricUnit.Count, requests);
      emf.publishStoredMetrics();
      metrics.clear();
    }
  };
  const timer = setInterval(flush, flushMs);
  timer.unref();
  return {
    recordInference(answer, totalMs) {
      // One provider per model (its self-test chose it at load), so the dimension adds no series.
      const provider = answer.model.state.session.executionProvider?.provider;
      const dimensions: Record<string, string> = { model: answer.model.manifest.name, route: answer.route };
      if (provider !== undefined) dimensions.provider = provider;
      for (const stage of answer.timings.entries) record(dimensions, metricName(stage.name), MetricUnit.Milliseconds, stage.ms);
      record(dimensions, 'BatchSize', MetricUnit.Count, answer.batchSize);
      record(dimensions, 'Duration', MetricUnit.Milliseconds, totalMs);
    },
    recordRequest(totalMs) {
      record({ route: 'metadata' }, 'Duration', MetricUnit.Milliseconds, totalMs);
    },
    flush,
    close() {
      clearInterval(timer);
      flush();
    },
  };
}
