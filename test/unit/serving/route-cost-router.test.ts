/**
 * The remote route's threshold and model metadata from the cost model (lib/serving/route-cost.ts):
 * RemoteRoutingRouter measured on a clock that each run advances by a known line, so the
 * thresholds do not depend on this machine's load; a stub remote client and a fake session.
 */
import type { RouteCostSettings } from '../../../lib/config/serving-config';
import { RemoteOipClient, type RemoteInferAnswer, type RemoteReadiness } from '../../../lib/backends/remote-oip-client';
import { routeOipRequest } from '../../../lib/http/oip-router';
import type { ManifestModel } from '../../../lib/models/model-manifest-types';
import { ModelRegistry, type RegisteredModel } from '../../../lib/models/model-registry';
import type { HostTensor } from '../../../lib/protocol/tensor';
import { RemoteRoutingRouter, routeCostOf } from '../../../lib/serving/remote-routing-router';
import { cheapestRouteThreshold, DEFAULT_TASK_PRICE, routeCostReport } from '../../../lib/serving/route-cost';
import type { ServingRuntime } from '../../../lib/serving/serving-runtime';

let clock = 0;
/** Advances the clock the router measures on by `fixed + perRow · rows` ms. */
const takes = (fixed: number, perRow: number) => (inputs: readonly HostTensor[]) => {
  clock += fixed + perRow * inputs[0]!.shape[0]!;
};
const LOCAL = { fixed: 1, perRow: 0.1 };
const REMOTE = { fixed: 5, perRow: 0.01 };

class StubRemote extends RemoteOipClient {
  constructor() {
    super({ url: 'http://gpu-task.invalid:8000' });
  }

  override async readiness(): Promise<RemoteReadiness> {
    return { state: 'ready' };
  }

  override async infer(call: { inputs: readonly HostTensor[] }): Promise<RemoteInferAnswer> {
    takes(REMOTE.fixed, REMOTE.perRow)(call.inputs);
    return { outputs: [], roundTripMs: 0 } as unknown as RemoteInferAnswer;
  }
}

const manifest: ManifestModel = {
  name: 'mlp', version: '1', platform: 'onnx_onnxv1', file: 'mlp.onnx', sha256: '0'.repeat(64), bytes: 1, serveByDefault: true,
  inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }], maxBatchSize: 1024,
};

function registryOf(): ModelRegistry {
  const run = takes(LOCAL.fixed, LOCAL.perRow);
  const entry = {
    manifest, selected: true, loadMs: 0, warmupMs: 0, readMs: 0, verifyMs: 0, sessionMs: 0,
    state: { ready: true, backend: { route: 'local-wasm' }, session: { run: async (inputs: HostTensor[]) => (run(inputs), []) } },
  } as unknown as RegisteredModel;
  return new ModelRegistry([entry]);
}

const quiet = { info() {}, warn() {}, error() {} };
const cost = (latencyBudgetMs: number | undefined): RouteCostSettings => ({ memoryMb: 1024, architecture: 'arm64', taskUsdPerHour: DEFAULT_TASK_PRICE.usdPerHour, latencyBudgetMs });
const settings = { url: 'http://gpu-task.invalid:8000', encoding: 'binary', gzip: false, apiKey: undefined, timeoutMs: 1_000, breakerFailures: 3, breakerHalfOpenMs: 1_000, fallbackMaxBatch: undefined, calibrate: true } as const;

async function preparedRouter(latencyBudgetMs: number | undefined): Promise<{ router: RemoteRoutingRouter; registry: ModelRegistry }> {
  const registry = registryOf();
  const router = new RemoteRoutingRouter(new StubRemote(), settings, quiet, cost(latencyBudgetMs));
  await router.prepare(registry);
  return { router, registry };
}

beforeEach(() => {
  clock = 0;
  jest.spyOn(performance, 'now').mockImplementation(() => clock);
});
afterEach(() => jest.restoreAllMocks());

describe('RemoteRoutingRouter with route costs', () => {
  it('uses the latency crossover without a budget', async () => {
    // Local 1 + 0.1·n, remote 5 + 0.01·n: the remote is faster above 44 rows.
    const { router } = await preparedRouter(undefined);
    try {
      expect(router.planOf('mlp', '1')).toMatchObject({ threshold: 44, source: 'measured' });
    } finally {
      router.close();
    }
  });

  it('uses the cheapest route within the latency budget: local until the local run would miss it', async () => {
    // With 50 ms, local meets the budget up to 490 rows and is cheaper there (the task's hour is dearer than the function's).
    const { router } = await preparedRouter(50);
    try {
      const plan = router.planOf('mlp', '1')!;
      expect(plan).toMatchObject({ threshold: 490, source: 'measured' });
      expect(plan.threshold).toBe(cheapestRouteThreshold(plan.local!, plan.remote!, 1024, cost(50)));
    } finally {
      router.close();
    }
  });

  it('reports the cost table and the threshold it chose for model metadata', async () => {
    const { router } = await preparedRouter(50);
    try {
      const plan = router.planOf('mlp', '1')!;
      expect(routeCostOf(router, 'mlp', '1')).toEqual({ remote_above_batch: 490, threshold_source: 'measured', ...routeCostReport(plan.local!, plan.remote!, 1024, cost(50)) });
      expect(routeCostOf(router, 'other', '1')).toBeUndefined();
      expect(routeCostOf({ run: async () => ({ outputs: [], route: 'local-wasm' }) }, 'mlp', '1')).toBeUndefined();
    } finally {
      router.close();
    }
  });

  it('shows the table in GET /v2/models/{model} parameters.route_cost', async () => {
    // Prepare
    const { router, registry } = await preparedRouter(50);
    const runtime = { config: { apiKey: undefined }, registry, router } as unknown as ServingRuntime;
    try {
      // Act
      const { response } = await routeOipRequest(runtime, { method: 'GET', path: '/v2/models/mlp', headers: {}, body: new Uint8Array(0) }, { timings: {} as never });

      // Assess
      const body = JSON.parse(response.body as string) as { parameters: { route: string; route_cost: Record<string, unknown> } };
      expect(response.status).toBe(200);
      expect(body.parameters.route).toBe('local-wasm');
      expect(body.parameters.route_cost).toMatchObject({ remote_above_batch: 490, latency_budget_ms: 50, memory_mb: 1024, architecture: 'arm64', task_usd_per_hour: 1.006 });
      const rows = body.parameters.route_cost.batches as { batch_size: number; local_ms: number; remote_ms: number; cheapest_within_budget: string }[];
      expect(rows.map((r) => [r.batch_size, r.local_ms, r.remote_ms, r.cheapest_within_budget])).toEqual([
        [1, 1.1, 5.01, 'local'], [8, 1.8, 5.08, 'local'], [64, 7.4, 5.64, 'local'], [256, 26.6, 7.56, 'local'], [1024, 103.4, 15.24, 'remote'],
      ]);
    } finally {
      router.close();
    }
  });
});
