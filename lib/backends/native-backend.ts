import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as OrtCommon from 'onnxruntime-common';
import type { ExecutionProviderName, ProviderTolerance } from '../config/serving-config';
import { ModelVerificationError } from '../errors/hotpath-error';
import { allocateNumeric } from '../protocol/datatypes';
import { elementCount, type HostTensor } from '../protocol/tensor';
import type { StructuredLogger } from '../telemetry/structured-logger';
import { selfTestInputSets, selfTestProvider, type ProviderSelfTestResult, type SelfTestModel } from './execution-provider-selftest';
import type { BackendSession, ExecutionProviderReport, InferenceBackend, ModelLoadRequest } from './inference-backend';
import { adaptOrtSession, type OrtModule } from './ort-session-adapter';

export interface NativeBackendOptions {
  readonly intraOpThreads: number;
  /** Execution providers to try, in order (HOTPATH_PROVIDERS). Default `['cpu']`. */
  readonly providers?: readonly ExecutionProviderName[];
  /** How close to the CPU provider's outputs a provider's must be (HOTPATH_PROVIDER_ATOL/RTOL). */
  readonly tolerance?: ProviderTolerance;
  /** Refusals are logged as errors: a GPU task that serves on CPU must be loud about it. */
  readonly logger?: Pick<StructuredLogger, 'info' | 'error'>;
  /** onnxruntime-node's module; by default required from the working directory's node_modules. */
  readonly ort?: OrtModule;
  /** The self-test of one model on one provider (execution-provider-selftest.ts's by default; tests pass their own to drive the refusal policy). */
  readonly selfTest?: typeof selfTestProvider;
}

const DEFAULT_TOLERANCE: ProviderTolerance = { atol: 1e-5, rtol: 1e-2 };

/** One model this backend serves, and the provider session it runs on now. */
interface NativeModel {
  readonly label: string;
  readonly selfTest: SelfTestModel;
  /** The CPU provider's outputs for the self-test's input sets. */
  readonly reference: HostTensor[][];
  current: { readonly session: OrtCommon.InferenceSession; readonly adapted: BackendSession; readonly result: ProviderSelfTestResult };
}

/**
 * onnxruntime-node, on the first execution provider that proves itself. Providers are tried in
 * the configured order; before one serves, every model loaded here passes its self-test on it
 * (execution-provider-selftest.ts: loads, runs the warm-up and seeded inputs, nodes placed on
 * it according to onnxruntime's profile, outputs within tolerance of the CPU provider's). A
 * provider refused for one model is refused for all of them: models that already run on it move
 * to the next provider that passes. A model that passes on none is refused by itself.
 *
 * It shares onnxruntime-common's backend registry with onnxruntime-web, so a process that
 * loads both must load this one first.
 */
export class NativeBackend implements InferenceBackend {
  readonly route = 'local-native';
  readonly platforms = ['onnx_onnxv1'] as const;
  private ort: OrtModule | undefined;
  private readonly providers: readonly ExecutionProviderName[];
  private readonly tolerance: ProviderTolerance;
  private readonly logger: Pick<StructuredLogger, 'info' | 'error'>;
  /** Providers refused for every model, in the order they were, with the first model's reason. */
  private readonly refusals = new Map<ExecutionProviderName, string>();
  private readonly models = new Set<NativeModel>();
  private loading: Promise<unknown> = Promise.resolve();
  private readonly selfTest: typeof selfTestProvider;

  constructor(private readonly options: NativeBackendOptions) {
    this.providers = options.providers ?? ['cpu'];
    if (this.providers.length === 0) throw new RangeError('NativeBackend: providers must name at least one execution provider');
    this.tolerance = options.tolerance ?? DEFAULT_TOLERANCE;
    this.logger = options.logger ?? consoleLogger;
    this.ort = options.ort;
    this.selfTest = options.selfTest ?? selfTestProvider;
  }

  async init(): Promise<void> {
    this.ort ??= createRequire(join(process.cwd(), 'package.json'))('onnxruntime-node') as OrtModule;
  }

  /** The providers refused so far, with the reasons (also in every session's executionProvider report). */
  refusedProviders(): { provider: ExecutionProviderName; reason: string }[] {
    return [...this.refusals].map(([provider, reason]) => ({ provider, reason }));
  }

  load(model: ModelLoadRequest): Promise<BackendSession> {
    // One at a time: a refusal while one model loads can move the others.
    const loaded = this.loading.then(() => this.loadOne(model));
    this.loading = loaded.catch(() => undefined);
    return loaded;
  }

  private async loadOne(request: ModelLoadRequest): Promise<BackendSession> {
    await this.init();
    const ort = this.ort!;
    const label = `${request.name}@${request.version}`;
    if (request.warmupInputs === undefined && this.providers.length === 1 && this.providers[0] === 'cpu') {
      // A caller with no warm-up inputs (not the model loader) on CPU alone: nothing to test and nowhere to fall back from.
      const source = request.bytes ?? request.path;
      const options = { executionProviders: ['cpu'], intraOpNumThreads: this.options.intraOpThreads, graphOptimizationLevel: 'all' } as const;
      return adaptOrtSession(ort, typeof source === 'string' ? await ort.InferenceSession.create(source, options) : await ort.InferenceSession.create(source, options));
    }
    const selfTest: SelfTestModel = {
      label,
      source: request.bytes ?? request.path,
      inputSets: selfTestInputSets(request.warmupInputs ?? defaultWarmupInputs(request)),
    };
    // The CPU provider is the reference: a model it cannot run is broken, whatever the providers.
    const cpu = await this.selfTest(ort, selfTest, 'cpu', { intraOpThreads: this.options.intraOpThreads, tolerance: this.tolerance });
    if (!cpu.passed) throw new ModelVerificationError(`model '${label}': the CPU provider, the reference for every other, refused it: ${cpu.reason}`);
    const reference = cpu.outputs;
    let cpuSession: OrtCommon.InferenceSession | undefined = cpu.session;
    const tried: { provider: ExecutionProviderName; reason: string }[] = [];
    try {
      for (const provider of this.providers) {
        if (this.refusals.has(provider)) continue;
        const outcome = provider === 'cpu'
          ? cpu
          : await this.selfTest(ort, selfTest, provider, { intraOpThreads: this.options.intraOpThreads, tolerance: this.tolerance, reference });
        if (!outcome.passed) {
          tried.push({ provider, reason: outcome.reason });
          continue;
        }
        if (provider === 'cpu') cpuSession = undefined;
        const entry: NativeModel = { label, selfTest, reference, current: this.served(ort, outcome.session, outcome.result) };
        for (const refusal of tried) this.refuse(refusal.provider, `model '${label}': ${refusal.reason}`);
        this.models.add(entry);
        await this.moveOffRefused();
        this.logger.info(`model '${label}' runs on execution provider '${entry.current.result.provider}'`, {
          model: request.name, version: request.version, provider: entry.current.result.provider,
          nodesByProvider: entry.current.result.placements.nodesByProvider, deviation: entry.current.result.deviation,
        });
        return this.sessionOf(entry);
      }
    } finally {
      await cpuSession?.release();
    }
    const reasons = [...tried.map((t) => `${t.provider}: ${t.reason}`), ...this.refusedProviders().filter((r) => !tried.some((t) => t.provider === r.provider)).map((r) => `${r.provider}: refused earlier (${r.reason})`)];
    throw new ModelVerificationError(`model '${label}': no execution provider in HOTPATH_PROVIDERS (${this.providers.join(', ')}) passed its self-test: ${reasons.join('; ')}`);
  }

  private refuse(provider: ExecutionProviderName, reason: string): void {
    if (this.refusals.has(provider)) return;
    this.refusals.set(provider, reason);
    this.logger.error(`execution provider '${provider}' REFUSED: ${reason}; trying the next in HOTPATH_PROVIDERS (${this.providers.join(', ')})`, { provider, reason });
  }

  /** Models on a provider refused since they loaded move to the first provider not refused, which must pass them too. */
  private async moveOffRefused(): Promise<void> {
    const ort = this.ort!;
    for (;;) {
      const target = this.providers.find((p) => !this.refusals.has(p));
      const stranded = [...this.models].filter((m) => m.current.result.provider !== target);
      if (target === undefined || stranded.length === 0) return;
      let refused = false;
      for (const model of stranded) {
        const outcome = await this.selfTest(ort, model.selfTest, target, {
          intraOpThreads: this.options.intraOpThreads, tolerance: this.tolerance, ...(target === 'cpu' ? {} : { reference: model.reference }),
        });
        if (!outcome.passed) {
          this.refuse(target, `model '${model.label}': ${outcome.reason}`);
          refused = true;
          break;
        }
        const previous = model.current.session;
        model.current = this.served(ort, outcome.session, outcome.result);
        await previous.release();
      }
      if (!refused) return;
    }
  }

  private served(ort: OrtModule, session: OrtCommon.InferenceSession, result: ProviderSelfTestResult): NativeModel['current'] {
    return { session, adapted: adaptOrtSession(ort, session), result };
  }

  /** The session handed out: it follows the model when a later refusal moves it to another provider. */
  private sessionOf(entry: NativeModel): BackendSession {
    const backend = this;
    return {
      get inputs() {
        return entry.current.adapted.inputs;
      },
      get outputs() {
        return entry.current.adapted.outputs;
      },
      get executionProvider(): ExecutionProviderReport {
        return { provider: entry.current.result.provider, nodesByProvider: entry.current.result.placements.nodesByProvider, refused: backend.refusedProviders() };
      },
      run(inputs, outputNames, options) {
        return entry.current.adapted.run(inputs, outputNames, options);
      },
      async dispose() {
        if (!backend.models.delete(entry)) return;
        await entry.current.session.release();
      },
    };
  }

  async dispose(): Promise<void> {
    for (const model of this.models) await model.current.session.release();
    this.models.clear();
    this.ort = undefined;
  }
}

/** Without the manifest's warm-up inputs (a caller other than the model loader): zeros, variable dims 1 (first) or 32 (others), as the loader's default. */
function defaultWarmupInputs(request: ModelLoadRequest): HostTensor[] {
  return request.inputs.map((signature) => {
    const shape = signature.shape.map((d, i) => (d === -1 ? (i === 0 ? 1 : 32) : d));
    if (signature.datatype === 'BYTES') return { name: signature.name, datatype: 'BYTES', shape, data: Array.from({ length: elementCount(shape) }, () => new Uint8Array(0)) };
    return { name: signature.name, datatype: signature.datatype, shape, data: allocateNumeric(signature.datatype, elementCount(shape)) };
  });
}

const consoleLogger: Pick<StructuredLogger, 'info' | 'error'> = {
  info: (message, ...extra) => console.log(JSON.stringify({ level: 'INFO', message, ...Object.assign({}, ...extra) })),
  error: (message, ...extra) => console.error(JSON.stringify({ level: 'ERROR', message, ...Object.assign({}, ...extra) })),
};
