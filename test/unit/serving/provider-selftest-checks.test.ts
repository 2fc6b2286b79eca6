import { compareOutputs, placementRefusal, readNodePlacements, readVerboseNodePlacements, selfTestInputSets } from '../../../lib/backends/execution-provider-selftest';
import type { HostTensor } from '../../../lib/protocol/tensor';

const tolerance = { atol: 1e-5, rtol: 1e-2 };
const fp32 = (name: string, values: number[]): HostTensor => ({ name, datatype: 'FP32', shape: [values.length], data: Float32Array.from(values) });

function nodeEvent(node: string, provider: string, op = 'Gemm') {
  return { cat: 'Node', name: `${node}_kernel_time`, args: { provider, op_name: op } };
}

describe('execution-provider-selftest', () => {
  describe('readNodePlacements', () => {
    it('counts each node once per provider across runs, without device copies', () => {
      // Prepare: two runs of a graph whose Shape node stayed on CPU, plus onnxruntime's copies and session events.
      const run = [nodeEvent('fc1', 'CUDAExecutionProvider'), nodeEvent('relu1', 'CUDAExecutionProvider', 'Relu'), nodeEvent('shape', 'CPUExecutionProvider', 'Shape'),
        nodeEvent('Memcpy', 'CUDAExecutionProvider', 'MemcpyFromHost'), { cat: 'Node', name: 'fc1_fence_before', args: {} }];
      const profile = [{ cat: 'Session', name: 'model_loading_uri' }, ...run, ...run];

      // Act
      const placements = readNodePlacements(profile, 'CUDAExecutionProvider');

      // Assess
      expect(placements).toEqual({ nodesByProvider: { CUDAExecutionProvider: 2, CPUExecutionProvider: 1 }, cpuNodes: ['Shape shape'] });
    });
  });

  describe('readVerboseNodePlacements', () => {
    it('reads one block per session, whole-graph and split placements alike', () => {
      // Prepare: onnxruntime 1.30's verbose lines (the first as printed on this machine; the split form is the same function's other branch).
      const log = [
        '2026-12-01 22:11:49.125630682 [V:onnxruntime:, session_state.cc:1377 VerifyEachNodeIsAssignedToAnEp] Node placements',
        '2026-12-01 22:11:49.125638818 [V:onnxruntime:, session_state.cc:1380 VerifyEachNodeIsAssignedToAnEp]  All nodes placed on [CPUExecutionProvider]. Number of nodes: 6',
        '2026-12-01 22:11:49.2 [I:onnxruntime:, inference_session.cc:3094 Initialize] Session successfully initialized.',
        '2026-12-01 22:11:50.1 [V:onnxruntime:, session_state.cc:1377 VerifyEachNodeIsAssignedToAnEp] Node placements',
        '2026-12-01 22:11:50.2 [V:onnxruntime:, session_state.cc:1383 VerifyEachNodeIsAssignedToAnEp]  Node(s) placed on [CUDAExecutionProvider]. Number of nodes: 5',
        '2026-12-01 22:11:50.3 [V:onnxruntime:, session_state.cc:1386 VerifyEachNodeIsAssignedToAnEp]   Gemm (fc1)',
        '2026-12-01 22:11:50.4 [V:onnxruntime:, session_state.cc:1383 VerifyEachNodeIsAssignedToAnEp]  Node(s) placed on [CPUExecutionProvider]. Number of nodes: 1',
      ].join('\n');

      // Act
      const blocks = readVerboseNodePlacements(log);

      // Assess
      expect(blocks).toEqual([{ CPUExecutionProvider: 6 }, { CUDAExecutionProvider: 5, CPUExecutionProvider: 1 }]);
    });
  });

  describe('placementRefusal', () => {
    it.each([
      [{ CPUExecutionProvider: 4 }, 'cuda', "onnxruntime placed none of the graph's nodes on CUDAExecutionProvider (4 on CPUExecutionProvider): it fell back to another provider"],
      [{ WebGpuExecutionProvider: 1, CPUExecutionProvider: 3 }, 'webgpu', 'onnxruntime placed only 1 of 4 nodes on WebGpuExecutionProvider'],
      [{}, 'cpu', "onnxruntime's profile lists no node runs"],
    ] as const)('refuses %j for %s', (nodesByProvider, provider, reason) => {
      // Act
      const refusal = placementRefusal(provider, { nodesByProvider, cpuNodes: [] });

      // Assess
      expect(refusal).toContain(reason);
    });

    it('accepts a provider that ran at least half of the nodes', () => {
      // Act
      const refusal = placementRefusal('cuda', { nodesByProvider: { CUDAExecutionProvider: 2, CPUExecutionProvider: 2 }, cpuNodes: [] });

      // Assess
      expect(refusal).toBeUndefined();
    });
  });

  describe('compareOutputs', () => {
    it('passes float outputs within atol + rtol * max|cpu| and reports the deviation as a share of it', () => {
      // Act
      const result = compareOutputs([fp32('y', [10.05, -2, 0])], [fp32('y', [10, -2, 0])], tolerance);

      // Assess
      expect(result.reason).toBeUndefined();
      expect(result.deviation).toBeCloseTo(0.05 / (1e-5 + 0.1), 3);
    });

    it.each([
      ['an element past the tolerance', [fp32('y', [10, -2.2, 0])], "output 'y' element 1 is -2.200000047683716, CPU gives -2"],
      ['NaN where CPU has a number', [fp32('y', [10, Number.NaN, 0])], "output 'y' element 1 is NaN"],
      ['another shape', [{ ...fp32('y', [10, -2, 0]), shape: [3, 1] }], "output 'y' is FP32 [3,1], CPU gives FP32 [3]"],
      ['a missing output', [fp32('z', [10, -2, 0])], "output 'y' is missing"],
    ])('refuses %s', (_case, actual, reason) => {
      // Act
      const result = compareOutputs(actual, [fp32('y', [10, -2, 0])], tolerance);

      // Assess
      expect(result.reason).toContain(reason);
    });

    it('requires integer outputs to be equal', () => {
      // Prepare
      const label = (values: bigint[]): HostTensor => ({ name: 'label', datatype: 'INT64', shape: [values.length], data: BigInt64Array.from(values) });

      // Act
      const same = compareOutputs([label([1n, 2n])], [label([1n, 2n])], tolerance);
      const other = compareOutputs([label([1n, 0n])], [label([1n, 2n])], tolerance);

      // Assess
      expect(same.reason).toBeUndefined();
      expect(other.reason).toBe("INT64 output 'label' differs from CPU's (integer and BOOL outputs must be equal)");
    });
  });

  describe('selfTestInputSets', () => {
    it('keeps the warm-up inputs and adds a seeded variant of the float ones only', () => {
      // Prepare
      const warmup: HostTensor[] = [fp32('audio', [0, 0, 0, 0]), { name: 'sr', datatype: 'INT64', shape: [], data: BigInt64Array.from([16000n]) }];

      // Act
      const [first, second] = selfTestInputSets(warmup);
      const again = selfTestInputSets(warmup)[1]!;

      // Assess
      expect(first).toEqual(warmup);
      expect([...(second![0]!.data as Float32Array)].every((v) => v >= -1 && v < 1 && v !== 0)).toBe(true);
      expect(second![1]).toBe(warmup[1]);
      expect(again[0]!.data).toEqual(second![0]!.data);
    });
  });
});
