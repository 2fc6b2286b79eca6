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

  describe('validateInferInputs on tensors from any door', () => {
    it.each([
      ['a dim past 2^31-1', { ...fp32('input', [1, 4]), shape: [1, 2 ** 31] }, "input 'input': dim 1 is 2147483648; each dim must be an integer from 0 to 2147483647"],
      ['a fractional dim', { ...fp32('input', [1, 4]), shape: [0.5, 4] }, "input 'input': dim 0 is 0.5; each dim must be an integer from 0 to 2147483647"],
      ['data shorter than the shape', fp32('input', [2, 4], [1, 2, 3, 4]), "input 'input': shape [2,4] holds 8 elements but the tensor has 4"],
      ['data for a zero-size shape', fp32('input', [0, 4], [1, 2, 3, 4]), "input 'input': shape [0,4] holds 0 elements but the tensor has 4"],
    ])('refuses a tensor with %s', (_, tensor, message) => {
      // Act
      const error = refusal(() => validateInferInputs({ ...iris, maxBatchSize: 0, inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, -1] }] }, [tensor]));

      // Assess
      expect(error.message).toBe(message);
    });

    it('refuses the same input twice', () => {
      // Act
      const error = refusal(() => validateInferInputs(iris, [fp32('input', [1, 4]), fp32('input', [1, 4])]));

      // Assess
      expect(error.message).toBe("input 'input' appears more than once");
    });
  });

  describe('validateInferInputs with manifest constraints', () => {
    const SILERO_HINT = 'send 64 samples of context and 512 new ones at 16 kHz, 32 and 256 at 8 kHz';
    const SIDE_HINT = 'resize or pad the image so both sides are multiples of 32';
    const constrainedVad: ModelSignature = {
      ...vad,
      constraints: {
        sr: { oneOf: [8000, 16000], unit: 'Hz' },
        input: {
          dims: [
            { axis: 0, label: 'batch', min: 1 },
            { axis: 1, label: 'samples', byValueOf: { input: 'sr', sizes: { 16000: 576, 8000: 288 } }, hint: SILERO_HINT },
          ],
        },
        state: { dims: [{ axis: 1, label: 'batch', equalsDimOf: { input: 'input', axis: 0 } }] },
      },
    };
    const textDetector: ModelSignature = {
      name: 'text-detector',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3, -1, -1] }],
      outputs: [{ name: 'map', datatype: 'FP32', shape: [-1, 1, -1, -1] }],
      maxBatchSize: 8,
      constraints: {
        x: {
          dims: [
            { axis: 2, label: 'height', min: 32, multipleOf: 32, hint: SIDE_HINT },
            { axis: 3, label: 'width', min: 32, multipleOf: 32, hint: SIDE_HINT },
          ],
        },
      },
    };
    const sr = (value: bigint): HostTensor => ({ name: 'sr', datatype: 'INT64', shape: [], data: new BigInt64Array([value]) });

    it('accepts the window each rate takes: 576 samples at 16 kHz, 288 at 8 kHz', () => {
      // Act
      const at16k = () => validateInferInputs(constrainedVad, vadInputs());
      const at8k = () => validateInferInputs(constrainedVad, vadInputs({ input: fp32('input', [1, 288]), sr: sr(8000n) }));

      // Assess
      expect(at16k).not.toThrow();
      expect(at8k).not.toThrow();
    });

    it('names the allowed values and unit when a scalar input has another value', () => {
      // Act
      const error = refusal(() => validateInferInputs(constrainedVad, vadInputs({ sr: sr(12345n) })));

      // Assess
      expect(error.message).toBe("input 'sr': must be one of 8000, 16000 (Hz), got 12345");
    });

    it('checks allowed values before the dims that depend on them', () => {
      // Act: a wrong rate and a wrong window: the rate is what to fix first.
      const error = refusal(() => validateInferInputs(constrainedVad, vadInputs({ input: fp32('input', [1, 1]), sr: sr(44100n) })));

      // Assess
      expect(error.message).toBe("input 'sr': must be one of 8000, 16000 (Hz), got 44100");
    });

    it.each([
      ['one sample at 16 kHz', [1, 1], 16000n, "input 'input': dim 1 (samples) must be 576 when 'sr' is 16000, got 1"],
      ['the 16 kHz window at 8 kHz', [1, 576], 8000n, "input 'input': dim 1 (samples) must be 288 when 'sr' is 8000, got 576"],
      ['512 samples without context', [1, 512], 16000n, "input 'input': dim 1 (samples) must be 576 when 'sr' is 16000, got 512"],
    ])('says which window the rate needs when given %s', (_, shape, rate, message) => {
      // Act
      const error = refusal(() => validateInferInputs(constrainedVad, vadInputs({ input: fp32('input', shape), sr: sr(rate) })));

      // Assess
      expect(error.message).toBe(`${message}; ${SILERO_HINT}`);
    });

    it('refuses a zero batch where the model says min 1', () => {
      // Act
      const error = refusal(() => validateInferInputs(constrainedVad, vadInputs({ input: fp32('input', [0, 576]), state: fp32('state', [2, 0, 128]) })));

      // Assess
      expect(error.message).toBe("input 'input': dim 0 (batch) must be at least 1, got 0");
    });

    it('refuses a dim that must equal another input\'s, naming both', () => {
      // Act
      const error = refusal(() => validateInferInputs(constrainedVad, vadInputs({ state: fp32('state', [2, 0, 128]) })));

      // Assess
      expect(error.message).toBe("input 'state': dim 1 (batch) must be equal to dim 0 of input 'input' (1), got 0");
    });

    it.each([
      ['a 7x9 image', [1, 3, 7, 9], 'dim 2 (height)', 7],
      ['a zero height', [1, 3, 0, 64], 'dim 2 (height)', 0],
      ['a width one past a multiple', [1, 3, 64, 33], 'dim 3 (width)', 33],
      ['a side of 30 (the graph runs it, to a 32-pixel map)', [1, 3, 32, 30], 'dim 3 (width)', 30],
    ])('says sides must be multiples of 32 when given %s', (_, shape, dim, size) => {
      // Act
      const error = refusal(() => validateInferInputs(textDetector, [fp32('x', shape)]));

      // Assess
      expect(error.message).toBe(`input 'x': ${dim} must be at least 32 and a multiple of 32, got ${size}; ${SIDE_HINT}`);
    });

    it('accepts non-square multiples of 32 and a zero batch where no rule forbids it', () => {
      // Act
      const wide = () => validateInferInputs(textDetector, [fp32('x', [2, 3, 32, 96])]);
      const empty = () => validateInferInputs(textDetector, [fp32('x', [0, 3, 64, 32])]);

      // Assess
      expect(wide).not.toThrow();
      expect(empty).not.toThrow();
    });

    it('names the element and its index when one element of a longer input is not allowed', () => {
      // Prepare
      const model: ModelSignature = {
        name: 'm',
        inputs: [{ name: 'k', datatype: 'INT32', shape: [-1, 2] }],
        outputs: [{ name: 'y', datatype: 'FP32', shape: [-1] }],
        maxBatchSize: 0,
        constraints: { k: { oneOf: [1, 2, 3] } },
      };

      // Act
      const error = refusal(() => validateInferInputs(model, [{ name: 'k', datatype: 'INT32', shape: [2, 2], data: Int32Array.from([1, 2, 3, 5]) }]));

      // Assess
      expect(error.message).toBe("input 'k': element 3 (index [1,1]) must be one of 1, 2, 3, got 5");
    });

    it('compares FP16 inputs by their half value and 64-bit integers exactly', () => {
      // Prepare
      const model: ModelSignature = {
        name: 'm',
        inputs: [{ name: 'h', datatype: 'FP16', shape: [] }, { name: 'n', datatype: 'UINT64', shape: [] }],
        outputs: [{ name: 'y', datatype: 'FP32', shape: [] }],
        maxBatchSize: 0,
        constraints: { h: { oneOf: [0.5] }, n: { oneOf: [9007199254740991] } },
      };
      const half = { name: 'h', datatype: 'FP16', shape: [], data: Uint16Array.from([0x3800]) } as const;
      const exact = { name: 'n', datatype: 'UINT64', shape: [], data: BigUint64Array.from([9007199254740991n]) } as const;
      const past = { name: 'n', datatype: 'UINT64', shape: [], data: BigUint64Array.from([9007199254740993n]) } as const;

      // Act
      const ok = () => validateInferInputs(model, [half, exact]);
      const error = refusal(() => validateInferInputs(model, [half, past]));

      // Assess
      expect(ok).not.toThrow();
      expect(error.message).toBe("input 'n': must be one of 9007199254740991, got 9007199254740993");
    });

    it('names the values that set a dim when the value has no size and no oneOf rule', () => {
      // Prepare
      const model: ModelSignature = {
        ...vad,
        constraints: { input: { dims: [{ axis: 1, byValueOf: { input: 'sr', sizes: { 16000: 576, 8000: 288 } } }] } },
      };

      // Act
      const error = refusal(() => validateInferInputs(model, vadInputs({ sr: sr(44100n) })));

      // Assess
      expect(error.message).toBe("input 'sr': must be one of 8000, 16000 (it sets dim 1 of input 'input'), got 44100");
    });

    it('reports a missing input before any constraint that refers to it', () => {
      // Act
      const error = refusal(() => validateInferInputs(constrainedVad, vadInputs().slice(0, 2)));

      // Assess
      expect(error.message).toBe("model 'silero-vad' needs input 'sr' (INT64 [])");
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
      const names = resolveRequestedOutputs(iris, [{ name: 'label' }, { name: 'probabilities' }]);

      // Assess
      expect(names).toEqual(['label', 'probabilities']);
    });

    it('names the real outputs when given an unknown output', () => {
      // Act
      const error = refusal(() => resolveRequestedOutputs(iris, [{ name: 'label' }, { name: 'logits' }]));

      // Assess
      expect(error.message).toBe("model 'iris-classifier' has no output 'logits'; its outputs are: probabilities, label");
    });
  });
});
