import { InvalidRequestError } from '../../../lib/errors/hotpath-error';
import { runtimeFailureToRequestError } from '../../../lib/errors/runtime-failure';

/**
 * Messages captured from onnxruntime 1.30.0 (web: ort.node.min.js on WASM, node: the native
 * addon) running this repository's models on inputs that pass their shapes but not the graph.
 */
const CAPTURED = {
  webBroadcast:
    'failed to call OrtRun(). ERROR_CODE: 1, ERROR_MESSAGE: /mnt/azure_nvme_temp/_work/1/s/onnxruntime/core/providers/cpu/math/element_wise_ops.h:563 void onnxruntime::BroadcastIterator::Init(ptrdiff_t, ptrdiff_t) axis == 1 || axis == largest was false. Attempting to broadcast an axis by a dimension other than 1. 3 by 4\n',
  nodeBroadcast:
    "Non-zero status code returned while running Add node. Name:'p2o.Add.248' Status Message: /onnxruntime_src/onnxruntime/core/providers/cpu/math/element_wise_ops.h:563 void onnxruntime::BroadcastIterator::Init(ptrdiff_t, ptrdiff_t) axis == 1 || axis == largest was false. Attempting to broadcast an axis by a dimension other than 1. 3 by 4\n",
  webSileroOneSample:
    "failed to call OrtRun(). ERROR_CODE: 2, ERROR_MESSAGE: Non-zero status code returned while running If node. Name:'If_0' Status Message: Non-zero status code returned while running Pad node. Name:'If_0_then_branch__Inline_0__/stft/padding/Pad' Status Message: Pad reflect requires axis length >= 2 after slicing. Input shape:{1,1}",
  nodeSileroRate:
    "Non-zero status code returned while running If node. Name:'If_0' Status Message: Non-zero status code returned while running If node. Name:'If_0_else_branch__Inline_0__/decoder/If_1' Status Message: Non-zero status code returned while running LSTM node. Name:'If_0_else_branch__Inline_0__/decoder/rnn/LSTM' Status Message: Input X must have 3 dimensions only. Actual:{1,1,1,128,2}",
  webZeroHeight:
    "failed to call OrtRun(). ERROR_CODE: 2, ERROR_MESSAGE: Non-zero status code returned while running Conv node. Name:'p2o.Conv.0' Status Message: Invalid input shape: {0,32}",
  webInvalidDims:
    'failed to call OrtRun(). ERROR_CODE: 2, ERROR_MESSAGE: Got invalid dimensions for input: input for the following indices\n index: 1 Got: 5 Expected: 4\n Please fix either the inputs/outputs or the model.',
  webAbort: 'Aborted(). Build with -sASSERTIONS for more info.',
  commonDims: 'dims[1] must be an integer, got: 1e+300',
} as const;

/** The part of the WebAssembly global this test uses (the project's TypeScript lib has no DOM/WebAssembly types). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
  RuntimeError: new () => Error;
}

/** No absolute path, source file:line, C++ signature or stack frame may reach the caller. */
function expectNothingInternal(message: string): void {
  expect(message).not.toMatch(/\/(mnt|onnxruntime_src|work|opt|var|tmp|home)\//);
  expect(message).not.toMatch(/\.(cc|h|cpp|ts|js|mjs):\d+/);
  expect(message).not.toMatch(/onnxruntime::|ptrdiff_t|\bat \S+ \(|wasm:\/\/|wasm-function/);
  expect(message).not.toMatch(/ERROR_CODE|failed to call Ort/);
}

describe('runtimeFailureToRequestError', () => {
  it.each([
    ['onnxruntime-web', 'a broadcast failure (text-detector 33x33)', CAPTURED.webBroadcast, 'axis == 1 || axis == largest was false. Attempting to broadcast an axis by a dimension other than 1. 3 by 4'],
    ['onnxruntime-node', 'a broadcast failure (text-detector 33x33)', CAPTURED.nodeBroadcast, 'Add node: axis == 1 || axis == largest was false. Attempting to broadcast an axis by a dimension other than 1. 3 by 4'],
    ['onnxruntime-web', 'a failure nested in If nodes (silero-vad, 1 sample)', CAPTURED.webSileroOneSample, 'Pad node: Pad reflect requires axis length >= 2 after slicing. Input shape:{1,1}'],
    ['onnxruntime-node', 'a failure nested in two If nodes (silero-vad, sr 12345)', CAPTURED.nodeSileroRate, 'LSTM node: Input X must have 3 dimensions only. Actual:{1,1,1,128,2}'],
    ['onnxruntime-web', 'a zero-size image side', CAPTURED.webZeroHeight, 'Conv node: Invalid input shape: {0,32}'],
    ['onnxruntime-web', 'a multi-line dims message', CAPTURED.webInvalidDims, 'Got invalid dimensions for input: input for the following indices index: 1 Got: 5 Expected: 4'],
    ['onnxruntime-web', 'an Emscripten abort', CAPTURED.webAbort, 'the runtime aborted'],
    ['onnxruntime-common', 'a tensor constructor TypeError', CAPTURED.commonDims, 'dims[1] must be an integer, got: 1e+300'],
  ])('keeps %s\'s reason for %s and drops its internals', (_, __, captured, reason) => {
    // Act
    const error = runtimeFailureToRequestError(new Error(captured), 'm@1');

    // Assess
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.status).toBe(400);
    expect(error.expose).toBe(true);
    expect(error.message).toBe(`model 'm@1' cannot run this input: ${reason}`);
    expectNothingInternal(error.message);
  });

  it('keeps the original error as the cause, for the log', () => {
    // Prepare
    const original = new Error(CAPTURED.webBroadcast);

    // Act
    const error = runtimeFailureToRequestError(original, 'text-detector@1');

    // Assess
    expect(error.cause).toBe(original);
  });

  it('drops stack frames and WASM frames quoted inside a message', () => {
    // Prepare: a message that carries its own stack, as some wrapped errors do.
    const captured = 'bad input\n    at g (/work/main/node_modules/onnxruntime-web/dist/ort.node.min.js:6:4901)\n    at wasm://wasm/0145fffe:wasm-function[0]:0x1e';

    // Act
    const error = runtimeFailureToRequestError(new Error(captured), 'm@1');

    // Assess
    expect(error.message).toBe("model 'm@1' cannot run this input: bad input");
  });

  it('names a WASM trap from a kernel without its frames', () => {
    // Prepare: a real trap (a module whose only function is `unreachable`).
    const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
    const module = new wasm.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 7, 5, 1, 1, 102, 0, 0, 10, 5, 1, 3, 0, 0, 11]));
    const trap = (() => {
      try {
        (new wasm.Instance(module).exports.f as () => void)();
      } catch (error) {
        return error;
      }
      throw new Error('expected a trap');
    })();

    // Act
    const error = runtimeFailureToRequestError(trap, 'silence-detector@1');

    // Assess
    expect(trap).toBeInstanceOf(wasm.RuntimeError);
    expect(error.message).toBe("model 'silence-detector@1' cannot run this input: the runtime trapped: unreachable");
  });

  it('replaces absolute paths left in a reason', () => {
    // Act
    const unix = runtimeFailureToRequestError(new Error('cannot read /opt/ml/models/x/model.onnx here'), 'm@1');
    const windows = runtimeFailureToRequestError(new Error('cannot read C:\\models\\x.onnx here'), 'm@1');

    // Assess
    expect(unix.message).toBe("model 'm@1' cannot run this input: cannot read <path> here");
    expect(windows.message).toBe("model 'm@1' cannot run this input: cannot read <path> here");
  });

  it('keeps a node name\'s slashes out of path replacement (they are not file paths)', () => {
    // Act
    const error = runtimeFailureToRequestError(new Error('tensor If_0_then_branch__Inline_0__/stft/padding/Pad is empty'), 'm@1');

    // Assess
    expect(error.message).toBe("model 'm@1' cannot run this input: tensor If_0_then_branch__Inline_0__/stft/padding/Pad is empty");
  });

  it('returns an InvalidRequestError it is given unchanged (a kernel argument error already says what to fix)', () => {
    // Prepare
    const refusal = new InvalidRequestError("input 'k': expected an integer in [1, 150], got 0");

    // Act / Assess
    expect(runtimeFailureToRequestError(refusal, 'iris-neighbors@1')).toBe(refusal);
  });

  it('reads the message of an error from another realm (onnxruntime-node\'s addon throws those)', () => {
    // Prepare: an error-shaped object that is not an instance of this realm's Error.
    const foreign = Object.create(null) as Record<string, unknown>;
    foreign.name = 'Error';
    foreign.message = CAPTURED.nodeBroadcast;

    // Act
    const error = runtimeFailureToRequestError(foreign, 'text-detector@1');

    // Assess
    expect(foreign instanceof Error).toBe(false);
    expect(error.message).toBe(
      "model 'text-detector@1' cannot run this input: Add node: axis == 1 || axis == largest was false. Attempting to broadcast an axis by a dimension other than 1. 3 by 4",
    );
  });

  it.each([
    ['a string', 'bad things', 'bad things'],
    ['an object', { code: 7 }, 'the runtime gave no reason'],
    ['undefined', undefined, 'the runtime gave no reason'],
    ['an empty message', new Error(''), 'the runtime gave no reason'],
  ])('says something readable when the runtime threw %s', (_, thrown, reason) => {
    // Act
    const error = runtimeFailureToRequestError(thrown, 'm@1');

    // Assess
    expect(error.message).toBe(`model 'm@1' cannot run this input: ${reason}`);
  });

  it('cuts a very long reason', () => {
    // Act
    const error = runtimeFailureToRequestError(new Error('x'.repeat(5000)), 'm@1');

    // Assess
    expect(error.message.length).toBeLessThan(700);
    expect(error.message.endsWith('…')).toBe(true);
  });
});
