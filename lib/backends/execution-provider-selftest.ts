import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as OrtCommon from 'onnxruntime-common';
import type { ExecutionProviderName, ProviderTolerance } from '../config/serving-config';
import { runtimeReason } from '../errors/runtime-failure';
import type { HostTensor, TensorData } from '../protocol/tensor';
import { mulberry32 } from '../../kernels/seeded-random/seeded-random';
import { fromOrtTensor, toOrtTensor, type OrtModule } from './ort-session-adapter';

/**
 * The execution provider each name asks onnxruntime for, as its profiler names it in every
 * node event's `args.provider` (onnxruntime's `kCudaExecutionProvider` and kin).
 */
export const ORT_PROVIDER_IDS: Readonly<Record<ExecutionProviderName, string>> = {
  cuda: 'CUDAExecutionProvider',
  tensorrt: 'TensorrtExecutionProvider',
  webgpu: 'WebGpuExecutionProvider',
  cpu: 'CPUExecutionProvider',
};

/**
 * Share of a graph's nodes (copies between devices not counted) the asked-for provider must
 * have run. onnxruntime keeps some nodes on CPU on purpose (shape arithmetic) and sends ops a
 * provider lacks to CPU; below half, "runs on the GPU" would be a claim about a minority of the graph.
 */
export const MIN_PLACED_SHARE = 0.5;

/** Where the nodes of one session ran, read from onnxruntime's own profile. */
export interface NodePlacements {
  /** Distinct nodes per onnxruntime provider id, e.g. `{ CUDAExecutionProvider: 5, CPUExecutionProvider: 1 }` (device copies not counted). */
  readonly nodesByProvider: Readonly<Record<string, number>>;
  /** Nodes that ran on CPU when another provider was asked for, as `OpType name` (at most 8 kept, for the reason). */
  readonly cpuNodes: readonly string[];
}

/** What a provider's self-test proved about one model. */
export interface ProviderSelfTestResult {
  readonly provider: ExecutionProviderName;
  readonly placements: NodePlacements;
  /** Largest `|x - x_cpu| / (atol + rtol * max|x_cpu|)` over every float output (≤ 1 passes); 0 for the CPU provider itself. */
  readonly deviation: number;
  readonly ms: number;
}

/** A provider's self-test on one model passed (the session serves) or was refused with the reason. */
export type SelfTestOutcome =
  | { readonly passed: true; readonly session: OrtCommon.InferenceSession; readonly result: ProviderSelfTestResult; readonly outputs: HostTensor[][] }
  | { readonly passed: false; readonly reason: string };

/** The model a self-test loads: its file and the input sets it runs. */
export interface SelfTestModel {
  readonly label: string;
  /** The model file's path, or its bytes when they were read already. */
  readonly source: string | Uint8Array;
  /** Each set is one run: the manifest's warm-up inputs, then a seeded random variant (selfTestInputSets). */
  readonly inputSets: readonly (readonly HostTensor[])[];
}

export interface SelfTestOptions {
  readonly intraOpThreads: number;
  readonly tolerance: ProviderTolerance;
  /** The CPU provider's outputs per input set; absent when testing the CPU provider itself. */
  readonly reference?: readonly (readonly HostTensor[])[];
  /**
   * Also have onnxruntime write its verbose session log (logSeverityLevel 0) to the process's
   * stderr, where its "Node placements" lines (readVerboseNodePlacements) are a second record of
   * the placement. Only a parent process can read that stream (the GPU check runs each provider in a child).
   */
  readonly verboseLog?: boolean;
}

/**
 * The warm-up inputs, and a copy whose float inputs are seeded uniform values in [-1, 1):
 * constant inputs (zeros, mostly) leave too much of a graph untested (a dropped weight
 * matrix still gives the bias), while integer inputs keep their warm-up values because they
 * are often codes with few valid values (Silero VAD's sample rate).
 */
export function selfTestInputSets(warmup: readonly HostTensor[], seed = 0x5e1f7e57): HostTensor[][] {
  const random = mulberry32(seed);
  const varied = warmup.map((tensor) => {
    if (tensor.datatype !== 'FP32' && tensor.datatype !== 'FP64') return tensor;
    const data = tensor.datatype === 'FP32' ? new Float32Array(tensor.data.length) : new Float64Array(tensor.data.length);
    for (let i = 0; i < data.length; i++) data[i] = random() * 2 - 1;
    return { ...tensor, data };
  });
  return [[...warmup], varied];
}

/**
 * Loads the model on `provider` with onnxruntime's profiler on, runs every input set, and
 * reads from the profile which provider each node actually ran on: never from what was
 * asked for, since onnxruntime hands nodes a provider cannot take to CPU without an error.
 * Passes when the session loads, every run succeeds, at least MIN_PLACED_SHARE of the nodes
 * ran on the provider, and the outputs agree with the CPU provider's within the tolerance.
 * The profiler stops after the test (endProfiling), so the session that passed serves as it is.
 */
export async function selfTestProvider(ort: OrtModule, model: SelfTestModel, provider: ExecutionProviderName, options: SelfTestOptions): Promise<SelfTestOutcome> {
  const started = performance.now();
  const profileDir = await mkdtemp(join(tmpdir(), 'hotpath-ep-'));
  let session: OrtCommon.InferenceSession | undefined;
  try {
    try {
      session = await createSession(ort, model.source, {
        executionProviders: [provider],
        intraOpNumThreads: options.intraOpThreads,
        graphOptimizationLevel: 'all',
        enableProfiling: true,
        profileFilePrefix: join(profileDir, 'selftest'),
        ...(options.verboseLog ? { logSeverityLevel: 0, logVerbosityLevel: 0 } : {}),
      });
    } catch (error) {
      return { passed: false, reason: `the session cannot be created on it: ${runtimeReason(error)}` };
    }
    const outputs: HostTensor[][] = [];
    for (const [index, inputs] of model.inputSets.entries()) {
      try {
        outputs.push(await runAll(ort, session, inputs));
      } catch (error) {
        return refuse(session, `self-test run ${index + 1} (${index === 0 ? 'the warm-up inputs' : 'seeded random inputs'}) failed: ${runtimeReason(error)}`);
      }
    }
    session.endProfiling();
    const profile = await readProfile(profileDir);
    if (profile === undefined) return refuse(session, 'onnxruntime wrote no profile, so where its nodes ran is unknown');
    const placements = readNodePlacements(profile, ORT_PROVIDER_IDS[provider]);
    const misplaced = placementRefusal(provider, placements);
    if (misplaced !== undefined) return refuse(session, misplaced);
    let deviation = 0;
    if (options.reference) {
      for (const [index, reference] of options.reference.entries()) {
        const comparison = compareOutputs(outputs[index]!, reference, options.tolerance);
        if (comparison.reason !== undefined) return refuse(session, `disagrees with the CPU provider on ${index === 0 ? 'the warm-up inputs' : 'seeded random inputs'}: ${comparison.reason}`);
        deviation = Math.max(deviation, comparison.deviation);
      }
    }
    return { passed: true, session, outputs, result: { provider, placements, deviation, ms: performance.now() - started } };
  } finally {
    await rm(profileDir, { recursive: true, force: true });
  }
}

function createSession(ort: OrtModule, source: string | Uint8Array, options: OrtCommon.InferenceSession.SessionOptions): Promise<OrtCommon.InferenceSession> {
  return typeof source === 'string' ? ort.InferenceSession.create(source, options) : ort.InferenceSession.create(source, options);
}

async function refuse(session: OrtCommon.InferenceSession, reason: string): Promise<SelfTestOutcome> {
  await session.release().catch(() => undefined);
  return { passed: false, reason };
}

async function runAll(ort: OrtModule, session: OrtCommon.InferenceSession, inputs: readonly HostTensor[]): Promise<HostTensor[]> {
  const feeds: Record<string, OrtCommon.Tensor> = {};
  for (const input of inputs) feeds[input.name] = toOrtTensor(ort, input);
  const results = await session.run(feeds);
  return session.outputNames.map((name) => fromOrtTensor(name, results[name]!));
}

/** The one JSON file onnxruntime wrote under the profile prefix (its name carries a timestamp). */
async function readProfile(dir: string): Promise<unknown> {
  const files = (await readdir(dir)).filter((name) => name.endsWith('.json'));
  if (files.length !== 1) return undefined;
  return JSON.parse(await readFile(join(dir, files[0]!), 'utf8')) as unknown;
}

/**
 * Reads node placement from an onnxruntime profile (Chrome trace format: an array of events).
 * Each node that ran has a `cat: "Node"` event named `<node>_kernel_time` whose
 * `args.provider` is the provider that executed it (`CPUExecutionProvider`, ...). Nodes are
 * counted once however many runs the profile holds.
 *
 * @example
 * readNodePlacements([{ cat: 'Node', name: 'fc1_kernel_time', args: { provider: 'CPUExecutionProvider', op_name: 'Gemm' } }], 'CUDAExecutionProvider')
 * // { nodesByProvider: { CPUExecutionProvider: 1 }, cpuNodes: ['Gemm fc1'] }
 */
export function readNodePlacements(profile: unknown, asked: string): NodePlacements {
  const providerOf = new Map<string, { provider: string; op: string }>();
  for (const event of Array.isArray(profile) ? profile : []) {
    const { cat, name, args } = (event ?? {}) as { cat?: unknown; name?: unknown; args?: { provider?: unknown; op_name?: unknown } };
    if (cat !== 'Node' || typeof name !== 'string' || !name.endsWith('_kernel_time') || typeof args?.provider !== 'string') continue;
    const op = typeof args.op_name === 'string' ? args.op_name : '?';
    // MemcpyFromHost/MemcpyToHost are the copies onnxruntime inserts at device boundaries, not the model's work.
    if (op.startsWith('Memcpy')) continue;
    providerOf.set(name.slice(0, -'_kernel_time'.length), { provider: args.provider, op });
  }
  const nodesByProvider: Record<string, number> = {};
  const cpuNodes: string[] = [];
  for (const [node, { provider, op }] of providerOf) {
    nodesByProvider[provider] = (nodesByProvider[provider] ?? 0) + 1;
    if (provider === ORT_PROVIDER_IDS.cpu && asked !== ORT_PROVIDER_IDS.cpu && cpuNodes.length < 8) cpuNodes.push(`${op} ${node}`);
  }
  return { nodesByProvider, cpuNodes };
}

/**
 * Reads the "Node placements" blocks of onnxruntime's verbose session log (session_state.cc
 * VerifyEachNodeIsAssignedToAnEp), one per session in the order they were created:
 * `All nodes placed on [CPUExecutionProvider]. Number of nodes: 6`, or one
 * `Node(s) placed on [<provider>]. Number of nodes: <n>` line per provider. Counts nodes of the
 * partitioned graph, copies between devices included.
 *
 * @example
 * readVerboseNodePlacements('... VerifyEachNodeIsAssignedToAnEp] Node placements\n... VerifyEachNodeIsAssignedToAnEp]  All nodes placed on [CPUExecutionProvider]. Number of nodes: 6')
 * // [{ CPUExecutionProvider: 6 }]
 */
export function readVerboseNodePlacements(log: string): Record<string, number>[] {
  const blocks: Record<string, number>[] = [];
  for (const line of log.split('\n')) {
    if (/VerifyEachNodeIsAssignedToAnEp\] Node placements\s*$/.test(line)) {
      blocks.push({});
      continue;
    }
    const placed = /(?:All nodes|Node\(s\)) placed on \[(\w+)\]\. Number of nodes: (\d+)/.exec(line);
    if (placed && blocks.length > 0) blocks[blocks.length - 1]![placed[1]!] = Number(placed[2]);
  }
  return blocks;
}

/** Why the placement does not prove the provider ran the graph, or undefined when it does. */
export function placementRefusal(provider: ExecutionProviderName, placements: NodePlacements): string | undefined {
  const asked = ORT_PROVIDER_IDS[provider];
  let total = 0;
  for (const count of Object.values(placements.nodesByProvider)) total += count;
  const placed = placements.nodesByProvider[asked] ?? 0;
  const where = Object.entries(placements.nodesByProvider).map(([id, n]) => `${n} on ${id}`).join(', ');
  if (total === 0) return 'onnxruntime\'s profile lists no node runs, so where the graph ran is unknown';
  if (placed === 0) return `onnxruntime placed none of the graph's nodes on ${asked} (${where}): it fell back to another provider`;
  if (placed / total < MIN_PLACED_SHARE) {
    return `onnxruntime placed only ${placed} of ${total} nodes on ${asked} (${where}; on CPU: ${placements.cpuNodes.join(', ')})`;
  }
  return undefined;
}

/**
 * Compares a provider's outputs with the CPU provider's: float outputs within
 * `atol + rtol * max|cpu|` element by element (NaN only where CPU has NaN), others equal.
 * Returns the largest deviation as a share of the allowed one, and the first failure.
 */
export function compareOutputs(actual: readonly HostTensor[], expected: readonly HostTensor[], tolerance: ProviderTolerance): { deviation: number; reason?: string } {
  let deviation = 0;
  for (const want of expected) {
    const got = actual.find((t) => t.name === want.name);
    if (!got) return { deviation, reason: `output '${want.name}' is missing` };
    if (got.datatype !== want.datatype || got.shape.join(',') !== want.shape.join(',')) {
      return { deviation, reason: `output '${want.name}' is ${got.datatype} [${got.shape.join(',')}], CPU gives ${want.datatype} [${want.shape.join(',')}]` };
    }
    if (want.datatype === 'FP32' || want.datatype === 'FP64') {
      const a = got.data as Float32Array | Float64Array;
      const b = want.data as Float32Array | Float64Array;
      let scale = 0;
      for (let i = 0; i < b.length; i++) if (Number.isFinite(b[i]!)) scale = Math.max(scale, Math.abs(b[i]!));
      const allowed = tolerance.atol + tolerance.rtol * scale;
      for (let i = 0; i < b.length; i++) {
        const diff = Math.abs(a[i]! - b[i]!);
        if (Number.isNaN(b[i]!) ? !Number.isNaN(a[i]!) : !(diff <= allowed || a[i] === b[i])) {
          return { deviation, reason: `output '${want.name}' element ${i} is ${a[i]}, CPU gives ${b[i]} (allowed ±${allowed.toPrecision(3)}: atol ${tolerance.atol} + rtol ${tolerance.rtol} × max|cpu| ${scale.toPrecision(4)})` };
        }
        if (allowed > 0 && Number.isFinite(diff)) deviation = Math.max(deviation, diff / allowed);
      }
    } else if (!sameElements(got.data, want.data)) {
      return { deviation, reason: `${want.datatype} output '${want.name}' differs from CPU's (integer and BOOL outputs must be equal)` };
    }
  }
  return { deviation };
}

function sameElements(a: TensorData, b: TensorData): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x instanceof Uint8Array && y instanceof Uint8Array) {
      if (Buffer.compare(x, y) !== 0) return false;
    } else if (x !== y) return false;
  }
  return true;
}
