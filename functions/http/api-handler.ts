/**
 * Lambda entry for every /v2 route. Models are loaded, verified and warmed at module scope
 * (top-level await), i.e. during Lambda's INIT phase, so the first request doesn't pay for it.
 */
import { loadServingConfig } from '../../lib/config/serving-config';
import { createServingRuntime } from '../../lib/serving/serving-runtime';
import { createTelemetry } from '../../lib/telemetry/lambda-telemetry';
import { createApiHandler } from './api-handler-factory';

const telemetry = createTelemetry();
const runtime = await createServingRuntime(loadServingConfig(), telemetry.logger);
telemetry.logger.info('init done', { initMs: Math.round(runtime.initMs), models: runtime.registry.entries.filter((e) => e.state.ready).length });

export const handler = createApiHandler(runtime, telemetry);
