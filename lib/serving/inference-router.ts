import type { BackendRunOptions } from '../backends/inference-backend';
import type { ModelRegistry } from '../models/model-registry';
import type { HostTensor } from '../protocol/tensor';

/** A model whose session is loaded and warmed. */
export type ReadyModel = ReturnType<ModelRegistry['findReady']>;

/** What the router knows about one request when it picks a route. */
export interface RoutedRun {
  readonly model: ReadyModel;
  readonly inputs: readonly HostTensor[];
  /** Outputs to compute, in answer order. */
  readonly outputNames: readonly string[];
  /** First dim of the first input when the model has a batch dim, else 1. */
  readonly batchSize: number;
  readonly options: BackendRunOptions;
}

/** The outputs, and the route that actually produced them (after any fallback). */
export interface RoutedResult {
  readonly outputs: HostTensor[];
  readonly route: string;
}

/**
 * The seam where a request's route is chosen: which backend runs it (the instance's own
 * session, or later the GPU task over the Open Inference Protocol, behind a circuit breaker).
 * A router runs the request itself so that a fallback can be reported truthfully: the answer's
 * route is the one that ran, never the one that was tried first.
 */
export interface InferenceRouter {
  run(request: RoutedRun): Promise<RoutedResult>;
}

/** Every request runs on the session this instance loaded for the model (`local-wasm`, `local-native`, `local-kernel`). */
export const localRouter: InferenceRouter = {
  async run({ model, inputs, outputNames, options }) {
    const outputs = await model.state.session.run(inputs, outputNames, options);
    return { outputs, route: model.state.backend.route };
  },
};
