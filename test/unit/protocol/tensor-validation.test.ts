import { InvalidRequestError } from '../../../lib/errors/hotpath-error';
import { resolveRequestedOutputs, validateInferInputs, type ModelSignature } from '../../../lib/protocol/tensor-validation';
import type { HostTensor } from '../../../lib/protocol/tensor';
import { refusal } from '../../support/expect-refusal';

const iris: ModelSignature = {
  name: 'iris-classifier',
  inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }],
  outputs: [
    { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
    { name: 'label', datatype: 'INT64', shape: [-1] },
  ],
  maxBatchSize: 64,
};

const vad: ModelSignature = {
  name: 'silero-vad',
  inputs: [
    { name: 'input', datatype: 'FP32', shape: [-1, -1] },
    { name: 'state', datatype: 'FP32', shape: [2, -1, 128] },
    { name: 'sr', datatype: 'INT64', shape: [] },
  ],
  outputs: [{ name: 'output', datatype: 'FP32', shape: [-1, 1] }],
  maxBatchSize: 1,
  finiteInputs: ['input'],
};

function fp32(name: string, shape: number[], values?: number[]): HostTensor {
  const count = shape.reduce((a, b) => a * b, 1);
  return { name, datatype: 'FP32', shape, data: values ? Float32Array.from(values) : new Float32Array(count) };
}

function vadInputs(overrides: Partial<Record<'input' | 'state' | 'sr', HostTensor>> = {}): HostTensor[] {
  return [
    overrides.input ?? fp32('input', [1, 576]),
    overrides.state ?? fp32('state', [2, 1, 128]),
    overrides.sr ?? { name: 'sr', datatype: 'INT64', shape: [], data: new BigInt64Array([16000n]) },
  ];
}


describe('tensor-validation', () => {
  describe('validateInferInputs', () => {
    it('accepts inputs that match the signature when given them in any order', () => {
      // Prepare
      const inputs = vadInputs().reverse();

      // Act
      const run = () => validateInferInputs(vad, inputs);

      // Assess
      expect(run).not.toThrow();
    });

    it('names the real inputs when given an unknown input', () => {
      // Act
      const error = refusal(() => validateInferInputs(vad, [...vadInputs(), fp32('h', [1])]));

      // Assess
      expect(error.message).toBe("model 'silero-vad' has no input 'h'; its inputs are: input, state, sr");
      expect(error.status).toBe(400);
    });

    it('names each missing input with its datatype and shape when inputs are missing', () => {
      // Act
      const one = refusal(() => validateInferInputs(iris, []));
      const two = refusal(() => validateInferInputs(vad, [fp32('input', [1, 576])]));

      // Assess
      expect(one.message).toBe("model 'iris-classifier' needs input 'input' (FP32 [-1,4])");
      expect(two.message).toBe("model 'silero-vad' needs inputs 'state' (FP32 [2,-1,128]), 'sr' (INT64 [])");
    });

    it('says which datatype is expected when given the wrong one', () => {
      // Act
      const error = refusal(() => validateInferInputs(iris, [{ name: 'input', datatype: 'FP64', shape: [1, 4], data: new Float64Array(4) }]));

      // Assess
      expect(error.message).toBe("input 'input': expected datatype FP32, got FP64");
    });

    it('says the model takes numeric tensors when given BYTES', () => {
      // Act
      const error = refusal(() => validateInferInputs(iris, [{ name: 'input', datatype: 'BYTES', shape: [1, 4], data: [] }]));

      // Assess
      expect(error.message).toBe("input 'input': expected datatype FP32, got BYTES; model 'iris-classifier' takes numeric tensors, not BYTES");
    });

    it.each([
      [[4], 'rank too low'],
      [[1, 4, 1], 'rank too high'],
      [[1, 5], 'fixed dim wrong'],
      [[], 'a scalar'],
    ])('refuses shape %j (%s) with expected and actual shapes', (shape) => {
      // Act
      const error = refusal(() => validateInferInputs(iris, [fp32('input', shape)]));

      // Assess
      expect(error.message).toBe(`input 'input': expected shape [-1,4], got ${JSON.stringify(shape)}`);
    });

    it('checks fixed dims that are not first when the signature has them', () => {
      // Act
      const error = refusal(() => validateInferInputs(vad, vadInputs({ state: fp32('state', [3, 1, 128]) })));

      // Assess
      expect(error.message).toBe("input 'state': expected shape [2,-1,128], got [3,1,128]");
    });

    it('accepts the max batch size and refuses one more', () => {
      // Act
      const atMax = () => validateInferInputs(iris, [fp32('input', [64, 4])]);
      const over = refusal(() => validateInferInputs(iris, [fp32('input', [65, 4])]));

      // Assess
      expect(atMax).not.toThrow();
      expect(over.message).toBe(
        "input 'input': batch of 65 is over model 'iris-classifier''s max batch size 64; split the request or use batch scoring",
      );
    });

    it('does not limit the batch when maxBatchSize is 0', () => {
      // Prepare
      const unbatched: ModelSignature = { ...iris, maxBatchSize: 0 };

      // Act
      const run = () => validateInferInputs(unbatched, [fp32('input', [10000, 4])]);

      // Assess
      expect(run).not.toThrow();
    });

    it('names the element and its multi-dim index when a float input holds NaN or Infinity', () => {
      // Prepare
      const values = new Array<number>(2 * 4).fill(1);
      values[6] = NaN;
      const infinite = new Array<number>(2 * 4).fill(1);
      infinite[3] = -Infinity;

      // Act
      const nan = refusal(() => validateInferInputs(iris, [fp32('input', [2, 4], values)]));
      const inf = refusal(() => validateInferInputs(iris, [fp32('input', [2, 4], infinite)]));

      // Assess
      expect(nan.message).toBe("input 'input': element 6 (index [1,2]) is NaN; this model accepts finite values only");
      expect(inf.message).toBe("input 'input': element 3 (index [0,3]) is -Infinity; this model accepts finite values only");
    });

    it('unravels a 3-d index row-major when the bad element is deep in the tensor', () => {
      // Prepare: [2, 3, 4]; flat 23 is [1, 2, 3].
      const signature: ModelSignature = { name: 'cube', inputs: [{ name: 'x', datatype: 'FP64', shape: [2, 3, 4] }], outputs: [], maxBatchSize: 0 };
      const data = new Float64Array(24);
      data[23] = Infinity;

      // Act
      const error = refusal(() => validateInferInputs(signature, [{ name: 'x', datatype: 'FP64', shape: [2, 3, 4], data }]));

      // Assess
      expect(error.message).toBe("input 'x': element 23 (index [1,2,3]) is Infinity; this model accepts finite values only");
    });

    it('checks FP16 inputs by their half value when given NaN bits', () => {
      // Prepare
      const signature: ModelSignature = { name: 'half', inputs: [{ name: 'x', datatype: 'FP16', shape: [3] }], outputs: [], maxBatchSize: 0 };
      const finite = new Uint16Array([0x3c00, 0x7bff, 0xfbff]);
      const withNaN = new Uint16Array([0x3c00, 0x7e00, 0]);

      // Act
      const ok = () => validateInferInputs(signature, [{ name: 'x', datatype: 'FP16', shape: [3], data: finite }]);
      const error = refusal(() => validateInferInputs(signature, [{ name: 'x', datatype: 'FP16', shape: [3], data: withNaN }]));

      // Assess
      expect(ok).not.toThrow();
      expect(error.message).toBe("input 'x': element 1 (index [1]) is NaN; this model accepts finite values only");
    });

    it('lets non-finite values through inputs the model does not list in finiteInputs', () => {
      // Prepare
      const state = fp32('state', [2, 1, 128]);
      (state.data as Float32Array)[5] = NaN;

      // Act
      const stateNaN = () => validateInferInputs(vad, vadInputs({ state }));
      const inputNaN = refusal(() => validateInferInputs(vad, vadInputs({ input: fp32('input', [1, 2], [0, NaN]) })));

      // Assess
      expect(stateNaN).not.toThrow();
      expect(inputNaN.message).toBe("input 'input': element 1 (index [0,1]) is NaN; this model accepts finite values only");
    });
  });

  describe('resolveRequestedOutputs', () => {
    it('gives every output when none or an empty list is asked for', () => {
      // Act
      const none = resolveRequestedOutputs(iris, undefined);
      const empty = resolveRequestedOutputs(iris, []);

      // Assess
      expect(none).toEqual(['probabilities', 'label']);
      expect(empty).toEqual(['probabilities', 'label']);
    });

    it('gives the asked-for outputs in the asked order when they exist', () => {
      // Act
      const names = resolveRequestedOutputs(iris, [{ name: 'label', binary: false }, { name: 'probabilities', binary: true }]);

      // Assess
      expect(names).toEqual(['label', 'probabilities']);
    });

    it('names the real outputs when given an unknown output', () => {
      // Act
      const error = refusal(() => resolveRequestedOutputs(iris, [{ name: 'label', binary: false }, { name: 'logits', binary: false }]));

      // Assess
      expect(error.message).toBe("model 'iris-classifier' has no output 'logits'; its outputs are: probabilities, label");
    });
  });
});
