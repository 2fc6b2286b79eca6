import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import * as ortNode from 'onnxruntime-node';
import { runtimeFailureToRequestError } from '../../../lib/errors/runtime-failure';
import type { HostTensor } from '../../../lib/protocol/tensor';
import { createInProcessApi, type InProcessApi } from '../../support/in-process-api';

/**
 * Inputs a user gets wrong answer 4xx with a message that says what to fix, and nothing of the
 * server's insides (paths, source lines, stack frames). Each "Why" case of issue 7 answered 500
 * before the manifest constraints and the decoder bounds.
 */
let api: InProcessApi;
beforeAll(async () => {
  // silero-vad kept on onnxruntime-web (its default is the kernels): the runtime-failure cases read
  // onnxruntime-web's own errors; the kernel executor's refusals are in test/unit/kernels/silero-vad-model.test.ts.
  api = await createInProcessApi({ wasmModels: ['silero-vad'] });
});
afterAll(async () => {
  await api.runtime.registry.dispose();
});

const zeros = (n: number) => new Array<number>(n).fill(0);
const state = (batch = 1) => ({ name: 'state', datatype: 'FP32', shape: [2, batch, 128], data: zeros(2 * batch * 128) });
const sr = (rate: number) => ({ name: 'sr', datatype: 'INT64', shape: [], data: [rate] });
const audio = (shape: number[]) => ({ name: 'input', datatype: 'FP32', shape, data: zeros(shape.reduce((a, b) => a * b, 1)) });
const image = (shape: number[]) => ({ name: 'x', datatype: 'FP32', shape, data: zeros(shape.reduce((a, b) => a * b, 1)) });
const SIDES = 'resize or pad the image so both sides are multiples of 32';
const WINDOW = "send the previous window's last 64 samples (zeros at stream start) and 512 new ones at 16 kHz, 32 and 256 at 8 kHz";

async function infer(model: string, body: unknown): Promise<APIGatewayProxyStructuredResultV2> {
  return api.call('POST', `/v2/models/${model}/infer`, { body: JSON.stringify(body) });
}

/** A 400 whose message is exactly `message`, with no path, source location or stack frame in the body. */
function expectUserMistake(result: APIGatewayProxyStructuredResultV2, message: string): void {
  expect({ status: result.statusCode, body: JSON.parse(result.body ?? '{}') }).toEqual({ status: 400, body: { error: message } });
  expectNothingInternal(result.body ?? '');
}

function expectNothingInternal(text: string): void {
  expect(text).not.toMatch(/\/(work|opt|mnt|var|tmp|home|onnxruntime_src)\//);
  expect(text).not.toMatch(/\.(cc|h|cpp|ts|js|mjs):\d+/);
  expect(text).not.toMatch(/\bat \S+ \(|wasm-function|onnxruntime::/);
}

describe('user mistakes over the API (in process, real models)', () => {
  describe('the cases of issue 7', () => {
    it('refuses silero-vad with sr 12345, naming the rates it takes', async () => {
      // Act
      const result = await infer('silero-vad', { inputs: [audio([1, 576]), state(), sr(12345)] });

      // Assess
      expectUserMistake(result, "input 'sr': must be one of 8000, 16000 (Hz), got 12345");
    });

    it('refuses a 1-sample silero-vad input, naming the window its rate needs', async () => {
      // Act
      const result = await infer('silero-vad', { inputs: [audio([1, 1]), state(), sr(16000)] });

      // Assess
      expectUserMistake(result, `input 'input': dim 1 (samples) must be 576 when 'sr' is 16000, got 1; ${WINDOW}`);
    });

    it('refuses a zero-size [0, 576] silero-vad input (with a zero or a one state batch)', async () => {
      // Act: [0, 576] with state [2, 0, 128] aborts onnxruntime (the native addon ends the process).
      const withEmptyState = await infer('silero-vad', { inputs: [audio([0, 576]), state(0), sr(16000)] });
      const withState = await infer('silero-vad', { inputs: [audio([0, 576]), state(1), sr(16000)] });

      // Assess
      expectUserMistake(withEmptyState, "input 'input': dim 0 (batch) must be at least 1, got 0");
      expectUserMistake(withState, "input 'input': dim 0 (batch) must be at least 1, got 0");
    });

    it('refuses a state whose batch is not the audio\'s', async () => {
      // Act
      const result = await infer('silero-vad', { inputs: [audio([1, 576]), state(0), sr(16000)] });

      // Assess
      expectUserMistake(
        result,
        "input 'state': dim 1 (batch) must be equal to dim 0 of input 'input' (1), got 0; send zeros [2, 1, 128] at stream start, then the previous answer's stateN",
      );
    });

    it('takes the 8 kHz window (288 samples) and answers a probability', async () => {
      // Act
      const result = await infer('silero-vad', { inputs: [audio([1, 288]), state(), sr(8000)] });

      // Assess
      expect(result.statusCode).toBe(200);
      expect(JSON.parse(result.body!).outputs[0].shape).toEqual([1, 1]);
    });

    it.each([
      ['silero-vad', { inputs: [{ name: 'input', datatype: 'FP32', shape: [0, 1e300], data: [] }, state(), sr(16000)] }, 'input'],
      ['iris-classifier', { inputs: [{ name: 'input', datatype: 'FP32', shape: [0, 1e300], data: [] }] }, 'input'],
      ['text-detector', { inputs: [{ name: 'x', datatype: 'FP32', shape: [0, 3, 1e300, 32], data: [] }] }, 'x'],
    ])('refuses a [0, 1e300]-like shape to %s at the dim bound', async (model, body, name) => {
      // Act
      const result = await infer(model, body);

      // Assess
      const dim = body.inputs[0]!.shape.indexOf(1e300);
      expectUserMistake(result, `input '${name}': "shape" dim ${dim} is 1e+300; each dim must be at most 2147483647`);
    });

    it.each([
      ['[1, 3, 0, 32]', [1, 3, 0, 32], 'dim 2 (height)', 0],
      ['[1, 3, 32, 0]', [1, 3, 32, 0], 'dim 3 (width)', 0],
      ['a 7x9 image', [1, 3, 7, 9], 'dim 2 (height)', 7],
      ['a 33x33 image', [1, 3, 33, 33], 'dim 2 (height)', 33],
      ['a 32x30 image (the graph would answer a 32x32 map)', [1, 3, 32, 30], 'dim 3 (width)', 30],
    ])('refuses %s to text-detector, saying sides must be multiples of 32', async (_, shape, dim, size) => {
      // Act
      const result = await infer('text-detector', { inputs: [image(shape)] });

      // Assess
      expectUserMistake(result, `input 'x': ${dim} must be at least 32 and a multiple of 32, got ${size}; ${SIDES}`);
    });

    it('answers text-detector on a non-square image of multiples of 32 and on a zero batch', async () => {
      // Act
      const wide = await infer('text-detector', { inputs: [image([1, 3, 32, 64])] });
      const empty = await infer('text-detector', { inputs: [image([0, 3, 32, 32])] });

      // Assess
      expect(wide.statusCode).toBe(200);
      expect(JSON.parse(wide.body!).outputs[0].shape).toEqual([1, 1, 32, 64]);
      expect(empty.statusCode).toBe(200);
      expect(JSON.parse(empty.body!).outputs[0].shape).toEqual([0, 1, 32, 32]);
    });
  });

  describe('decoder bounds', () => {
    it('refuses [1e10, 1e10] at the dim bound', async () => {
      // Act
      const result = await infer('iris-classifier', { inputs: [{ name: 'input', datatype: 'FP32', shape: [1e10, 1e10], data: [1, 2, 3, 4] }] });

      // Assess
      expectUserMistake(result, 'input \'input\': "shape" dim 0 is 10000000000; each dim must be at most 2147483647');
    });

    it('refuses dims in bounds whose count the data does not carry, with the exact count', async () => {
      // Act
      const result = await infer('iris-classifier', { inputs: [{ name: 'input', datatype: 'FP32', shape: [2147483647, 2147483647, 4], data: [1, 2, 3, 4] }] });

      // Assess
      expectUserMistake(result, `input 'input': shape [2147483647,2147483647,4] holds ${(2147483647n * 2147483647n * 4n).toString()} elements but "data" has 4`);
    });

    it('refuses a binary tensor bigger than its binary_data_size before allocating it', async () => {
      // Prepare: 1e9 FP32 declared, 16 bytes sent.
      const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [250000000, 4], parameters: { binary_data_size: 16 } }] }));
      const body = Buffer.concat([header, Buffer.alloc(16)]);

      // Act
      const result = await api.call('POST', '/v2/models/iris-classifier/infer', {
        body, headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.byteLength) },
      });

      // Assess
      expectUserMistake(result, "input 'input': shape [250000000,4] of FP32 needs 4000000000 bytes, binary_data_size is 16");
    });

    it('refuses a huge BYTES count in a short binary body from the count alone', async () => {
      // Prepare
      const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'input', datatype: 'BYTES', shape: [2147483647, 4], parameters: { binary_data_size: 8 } }] }));
      const body = Buffer.concat([header, Buffer.alloc(8, 0xff)]);

      // Act
      const result = await api.call('POST', '/v2/models/iris-classifier/infer', {
        body, headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.byteLength) },
      });

      // Assess
      expectUserMistake(
        result,
        `input 'input': shape [2147483647,4] holds ${2147483647 * 4} BYTES elements, but binary_data_size 8 can carry at most 2 (each has a 4-byte length prefix)`,
      );
    });

    it('answers a zero-size batch to a model that takes one', async () => {
      // Act
      const result = await infer('iris-classifier', { inputs: [{ name: 'input', datatype: 'FP32', shape: [0, 4], data: [] }] });

      // Assess
      expect(result.statusCode).toBe(200);
      expect(JSON.parse(result.body!).outputs[0]).toEqual({ name: 'probabilities', datatype: 'FP32', shape: [0, 3], data: [] });
    });
  });

  describe('runtime failures past validation (the real sessions)', () => {
    const MODELS_DIR = join(__dirname, '..', '..', '..', 'layers', 'models', 'build', 'models');
    const badImage: HostTensor = { name: 'x', datatype: 'FP32', shape: [1, 3, 33, 33], data: new Float32Array(3 * 33 * 33) };
    const oneSample: HostTensor[] = [
      { name: 'input', datatype: 'FP32', shape: [1, 1], data: new Float32Array(1) },
      { name: 'state', datatype: 'FP32', shape: [2, 1, 128], data: new Float32Array(256) },
      { name: 'sr', datatype: 'INT64', shape: [], data: BigInt64Array.from([16000n]) },
    ];

    /** Runs the served session directly (as if validation had let the input through) and maps what it throws. */
    async function servedFailure(model: string, inputs: readonly HostTensor[]): Promise<string> {
      const entry = api.runtime.registry.findReady(model);
      const thrown = await entry.state.session.run(inputs).then(() => undefined, (error: unknown) => error);
      expect(thrown).toBeInstanceOf(Error);
      return runtimeFailureToRequestError(thrown, `${model}@1`).message;
    }

    it('maps onnxruntime-web\'s failure on a 33x33 image to its reason, without paths or source lines', async () => {
      // Act
      const message = await servedFailure('text-detector', [badImage]);

      // Assess
      expect(message).toBe(
        "model 'text-detector@1' cannot run this input: axis == 1 || axis == largest was false. Attempting to broadcast an axis by a dimension other than 1. 3 by 4",
      );
      expectNothingInternal(message);
    });

    it('maps onnxruntime-web\'s failure on a 1-sample silero-vad input to the innermost node\'s reason', async () => {
      // Act
      const message = await servedFailure('silero-vad', oneSample);

      // Assess
      expect(message).toBe("model 'silero-vad@1' cannot run this input: Pad node: Pad reflect requires axis length >= 2 after slicing. Input shape:{1,1}");
    });

    it('maps onnxruntime-node\'s failure on the same inputs the same way', async () => {
      // Prepare
      const session = await ortNode.InferenceSession.create(readFileSync(join(MODELS_DIR, 'text-detector', '1', 'model.onnx')));
      const feeds = { x: new ortNode.Tensor('float32', badImage.data as Float32Array, [...badImage.shape]) };

      // Act
      const thrown = await session.run(feeds).then(() => undefined, (error: unknown) => error);
      await session.release();
      const message = runtimeFailureToRequestError(thrown, 'text-detector@1').message;

      // Assess
      expect((thrown as Error).message).toMatch(/onnxruntime_src\/onnxruntime\/core\/.+\.h:\d+/);
      expect(message).toMatch(/^model 'text-detector@1' cannot run this input: \w+ node: axis == 1 \|\| axis == largest was false\. Attempting to broadcast an axis by a dimension other than 1\. \d by \d$/);
      expectNothingInternal(message);
    });
  });
});
