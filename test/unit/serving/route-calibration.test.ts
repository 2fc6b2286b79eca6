import { calibrationInputs, calibrationRows, crossoverRows, estimateMs, measureCost, type LinearCost } from '../../../lib/serving/route-calibration';
import type { ManifestModel } from '../../../lib/models/model-manifest-types';

const perRow = (fixedMs: number, perRowMs: number, width = 4): LinearCost => ({ fixedMs, perElementMs: perRowMs / width, elementsPerRow: width });

const model = (overrides: Partial<ManifestModel>): ManifestModel => ({
  name: 'm', version: '1', platform: 'onnx_onnxv1', file: 'm.onnx', sha256: '0'.repeat(64), bytes: 1, serveByDefault: true,
  inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }], maxBatchSize: 256,
  ...overrides,
});

describe('crossoverRows', () => {
  it('is the last batch size at which the local route is still at least as fast', () => {
    // local 1 + 1·n, remote 10 + 0.1·n: equal at n = 10; remote pays from 11 rows.
    const local = perRow(1, 1);
    const remote = perRow(10, 0.1);
    const threshold = crossoverRows(local, remote);
    expect(threshold).toBe(10);
    expect(estimateMs(remote, 4 * (threshold + 1))).toBeLessThan(estimateMs(local, 4 * (threshold + 1)));
    expect(estimateMs(remote, 4 * threshold)).toBeGreaterThanOrEqual(estimateMs(local, 4 * threshold));
  });

  it('is 0 when the remote is faster even for one row, and Infinity when its per-row cost is no lower', () => {
    expect(crossoverRows(perRow(5, 2), perRow(1, 1))).toBe(0);
    expect(crossoverRows(perRow(1, 0.5), perRow(3, 0.5))).toBe(Infinity);
    expect(crossoverRows(perRow(1, 0.1), perRow(3, 0.2))).toBe(Infinity);
  });

  it('compares per-row costs when the two routes were measured at different row widths', () => {
    // Same per-row costs as the first case, measured on rows of 4 and of 1024 elements.
    expect(crossoverRows(perRow(1, 1, 4), perRow(10, 0.1, 1024))).toBe(10);
  });
});

describe('measureCost', () => {
  it('recovers the fixed and per-element cost of a run whose time is linear in its rows', async () => {
    // Prepare: a "run" that takes 2 ms + 0.25 ms per row on the clock measureCost reads (no wall time: the test does not depend on the machine's load).
    let clock = 0;
    const run = async (inputs: { shape: readonly number[] }[]) => {
      clock += 2 + 0.25 * inputs[0]!.shape[0]!;
    };
    // Act
    const cost = await measureCost(model({ maxBatchSize: 32 }), run, () => clock);
    // Assess
    expect(cost.elementsPerRow).toBe(4);
    expect(cost.perElementMs * cost.elementsPerRow).toBeCloseTo(0.25, 9);
    expect(cost.fixedMs).toBeCloseTo(2, 9);
  });
});

describe('calibrationInputs', () => {
  it('puts the rows in batched first dims, keeps fixed dims, sizes other variable dims as the warm-up and honours warmupFill', () => {
    const inputs = calibrationInputs(model({
      inputs: [
        { name: 'x', datatype: 'FP32', shape: [-1, 3, -1, -1] },
        { name: 'sr', datatype: 'INT64', shape: [] },
        { name: 'k', datatype: 'INT32', shape: [2] },
      ],
      warmupFill: { sr: 16000 },
    }), 8);
    expect(inputs.map((t) => t.shape)).toEqual([[8, 3, 32, 32], [], [2]]);
    expect(Array.from(inputs[1]!.data as BigInt64Array)).toEqual([16000n]);
    expect((inputs[0]!.data as Float32Array).some((v) => v !== 0)).toBe(true);
  });

  it('runs at most 64 rows, and fewer when the model batches less', () => {
    expect(calibrationRows(model({ maxBatchSize: 256 }))).toBe(64);
    expect(calibrationRows(model({ maxBatchSize: 8 }))).toBe(8);
    expect(calibrationRows(model({ maxBatchSize: 1 }))).toBe(1);
  });
});
