import type { Logger } from '@aws-lambda-powertools/logger';
import { NativeBackend } from '../lib/backends/native-backend';
import { loadServingConfig, type ServingConfig } from '../lib/config/serving-config';
import { readModelManifest } from '../lib/models/model-manifest';
import { startOipServer, type RunningOipServer } from '../lib/server/oip-server';
import { withDynamicBatching, type DynamicBatcherOptions } from '../lib/serving/dynamic-batcher';
import { createServingRuntime } from '../lib/serving/serving-runtime';
import { createLogger } from '../lib/telemetry/powertools-telemetry';

/** A batch the dynamic batcher ran: for metrics and tests. */
export type FormedBatch = Parameters<NonNullable<DynamicBatcherOptions['onBatch']>>[0] & { readonly model: string };

export interface GpuTaskOptions {
  /** The environment to read HOTPATH_* from (process.env by default). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Overrides on top of the environment; `onnxBackend` is always `native` here. */
  readonly config?: Partial<ServingConfig>;
  readonly logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly host?: string;
  readonly port?: number;
  readonly onBatch?: (batch: FormedBatch) => void;
}

const GPU_PROVIDERS = new Set(['cuda', 'tensorrt', 'webgpu']);

/**
 * The GPU container task: the Open Inference Protocol server (same routes, codecs, errors and
 * telemetry as `npm start`) on onnxruntime-node, whose execution provider is the first of
 * HOTPATH_PROVIDERS that passes the self-test on every selected model, with a dynamic batcher
 * on every model whose manifest has `dynamicBatching` (unless HOTPATH_DYNAMIC_BATCHING=false).
 * A task that asked for a GPU provider and serves on CPU says so, as an error, at start.
 * `close()` drains and then releases the models.
 *
 * @example
 * const task = await startGpuTask({ port: 0, config: { models: ['mlp-large'] } });
 * (await fetch(`${task.url}/v2`)).json(); // parameters.providers: { 'mlp-large@1': 'cuda' }
 */
export async function startGpuTask(options: GpuTaskOptions = {}): Promise<RunningOipServer> {
  const logger = options.logger ?? createLogger();
  const config = loadServingConfig(options.env ?? process.env, { ...options.config, onnxBackend: 'native' });
  const native = new NativeBackend({ intraOpThreads: config.wasmThreads, providers: config.providers, tolerance: config.providerTolerance, logger });
  const onnx = config.dynamicBatching
    ? withDynamicBatching(native, await readModelManifest(config.modelsDir), options.onBatch && ((model, batch) => options.onBatch!({ ...batch, model })))
    : native;
  const runtime = await createServingRuntime(config, logger, { onnx_onnxv1: onnx });
  reportProviders(runtime.registry.entries, config, logger);
  let server: RunningOipServer;
  try {
    // Native runs leave the event loop free: requests go straight to the batcher's queue (no per-turn entry).
    server = await startOipServer({ runtime, logger, host: options.host, port: options.port, requestTurns: false });
  } catch (error) {
    await runtime.registry.dispose();
    throw error;
  }
  return {
    ...server,
    inflight: () => server.inflight(),
    async close(drainMs?: number) {
      const finished = await server.close(drainMs);
      await runtime.registry.dispose();
      return finished;
    },
  };
}

/** One line per provider in use; an error when GPU providers were asked for and a model serves on CPU anyway. */
function reportProviders(entries: Awaited<ReturnType<typeof createServingRuntime>>['registry']['entries'], config: ServingConfig, logger: Pick<Logger, 'info' | 'error'>): void {
  const byProvider = new Map<string, string[]>();
  for (const entry of entries) {
    const provider = entry.state.ready ? entry.state.session.executionProvider?.provider : undefined;
    if (provider === undefined) continue;
    byProvider.set(provider, [...(byProvider.get(provider) ?? []), `${entry.manifest.name}@${entry.manifest.version}`]);
  }
  for (const [provider, models] of byProvider) logger.info(`GPU task: models on execution provider '${provider}'`, { provider, models });
  const askedForGpu = config.providers.some((p) => GPU_PROVIDERS.has(p));
  const onCpu = byProvider.get('cpu');
  if (askedForGpu && onCpu) {
    logger.error(`GPU task serves ${onCpu.join(', ')} on CPU: every GPU provider in HOTPATH_PROVIDERS (${config.providers.join(', ')}) was refused; see GET /v2 parameters.providers_refused`, { models: onCpu });
  }
}
