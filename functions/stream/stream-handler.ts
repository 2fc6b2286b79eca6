/**
 * Lambda entry of the Function URL with response streaming (serverless.yml `stream`): the voice
 * detector's event stream, and every other /v2 route. Models load at module scope (INIT).
 */
import { loadServingConfig } from '../../lib/config/serving-config';
import { createServingRuntime } from '../../lib/serving/serving-runtime';
import { createTelemetry } from '../../lib/telemetry/lambda-telemetry';
import { createStreamHandler } from './stream-handler-factory';

const telemetry = createTelemetry();
const runtime = await createServingRuntime(loadServingConfig(), telemetry.logger);
telemetry.logger.info('init done', { initMs: Math.round(runtime.initMs), models: runtime.registry.entries.filter((e) => e.state.ready).length });

export const handler = createStreamHandler(runtime, telemetry);
