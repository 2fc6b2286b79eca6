import { InvalidRequestError } from '../../../lib/errors/hotpath-error';
import { decodeTensors, parseJsonObject, splitAtHeaderLength, type TensorPayloadContext, type TensorRole } from '../../../lib/protocol/tensor-payload-decoder';

/** A caller's own error class, as each decoder has (400 for requests, 502 for answers). */
class CallerError extends Error {}

/** A context for `role` whose fail records each message and cause it is asked to raise. */
function recording(role: TensorRole): TensorPayloadContext & { readonly failures: { message: string; cause: unknown }[] } {
  const failures: { message: string; cause: unknown }[] = [];
  return {
    role,
    failures,
    fail: (message, cause) => {
      failures.push({ message, cause });
      return new CallerError(message);
    },
  };
}

describe('tensor-payload-decoder', () => {
  describe.each<TensorRole>(['input', 'output'])('as %s', (role) => {
    it('raises the caller\'s error, naming the tensor by role, when a JSON element does not convert', () => {
      // Prepare
      const ctx = recording(role);

      // Act
      const run = () => decodeTensors([{ name: 'x', datatype: 'FP32', shape: [2], data: [1, 'x'] }], undefined, ctx);

      // Assess
      expect(run).toThrow(CallerError);
      expect(ctx.failures).toEqual([{ message: `${role} 'x' element 1: expected a number for FP32, got the string "x"`, cause: expect.any(InvalidRequestError) }]);
    });

    it('takes binary chunks in entry order, with JSON entries between them, when the body is binary', () => {
      // Prepare: 'a' takes bytes 0..3 (INT32 7), 'b' is JSON, 'c' takes bytes 4..5 (two BOOLs).
      const binary = new Uint8Array([7, 0, 0, 0, 1, 0]);
      const entries = [
        { name: 'a', datatype: 'INT32', shape: [1], parameters: { binary_data_size: 4 } },
        { name: 'b', datatype: 'UINT8', shape: [1], data: [9] },
        { name: 'c', datatype: 'BOOL', shape: [2], parameters: { binary_data_size: 2 } },
      ];

      // Act
      const [a, b, c] = decodeTensors(entries, binary, recording(role));

      // Assess
      expect(Array.from(a!.data as Int32Array)).toEqual([7]);
      expect(Array.from(b!.data as Uint8Array)).toEqual([9]);
      expect(Array.from(c!.data as Uint8Array)).toEqual([1, 0]);
    });

    it.each([
      ['a name is used twice', [{ name: 'y', datatype: 'INT8', shape: [1], data: [1] }, { name: 'y', datatype: 'INT8', shape: [1], data: [2] }], "'y' appears more than once"],
      ['a dim is over 2^31-1 (before the data is looked at)', [{ name: 'x', datatype: 'FP32', shape: [2 ** 31, 0], data: [] }], "'x': \"shape\" dim 0 is 2147483648; each dim must be at most 2147483647"],
    ])('refuses with the caller\'s error when %s', (_, entries, message) => {
      // Prepare
      const ctx = recording(role);

      // Act
      const run = () => decodeTensors(entries, undefined, ctx);

      // Assess
      expect(run).toThrow(CallerError);
      expect(ctx.failures.map((f) => f.message)).toEqual([`${role} ${message}`]);
    });
  });

  it('reads nested data for inputs and wants flat data for outputs', () => {
    // Prepare
    const entry = { name: 'x', datatype: 'INT32', shape: [2, 2], data: [[1, 2], [3, 4]] };
    const outputs = recording('output');

    // Act
    const input = decodeTensors([entry], undefined, recording('input'))[0]!;
    const output = () => decodeTensors([entry], undefined, outputs);

    // Assess
    expect(Array.from(input.data as Int32Array)).toEqual([1, 2, 3, 4]);
    expect(output).toThrow(CallerError);
    expect(outputs.failures.map((f) => f.message)).toEqual([`output 'x': shape [2,2] holds 4 elements but "data" has 2 (a flat row-major array is expected)`]);
  });

  it('splits a body at its header length into views of the same bytes', () => {
    // Prepare
    const body = new Uint8Array([123, 125, 1, 2, 3]);

    // Act
    const { header, binary } = splitAtHeaderLength(body, ' 2 ', recording('input'));

    // Assess
    expect(Array.from(header)).toEqual([123, 125]);
    expect(Array.from(binary)).toEqual([1, 2, 3]);
    expect(binary.buffer).toBe(body.buffer);
  });

  it('parses JSON with the reread only after JSON.parse refuses, and fails with JSON.parse\'s reason when the reread cannot read it', () => {
    // Prepare
    const reread = jest.fn((text: string) => (text === 'odd' ? { read: true } : undefined));
    const outputs = recording('output');

    // Act
    const plain = parseJsonObject('{"a":1}', recording('input'), reread);
    const fromReread = parseJsonObject('odd', recording('input'), reread);
    const invalid = () => parseJsonObject('{', outputs, reread);

    // Assess
    expect(plain).toEqual({ a: 1 });
    expect(fromReread).toEqual({ read: true });
    expect(invalid).toThrow(CallerError);
    expect(reread.mock.calls.map(([text]) => text)).toEqual(['odd', '{']);
    expect(outputs.failures).toEqual([{ message: expect.stringMatching(/^the body is not valid JSON \(.+\)$/), cause: expect.any(SyntaxError) }]);
  });
});
