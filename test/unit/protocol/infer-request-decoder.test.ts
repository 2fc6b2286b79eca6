import { InvalidRequestError } from '../../../lib/errors/hotpath-error';
import { float32ToHalfBits } from '../../../lib/protocol/datatypes';
import { decodeInferRequest, type InferRequest } from '../../../lib/protocol/infer-request-decoder';
import type { OipDatatype } from '../../../lib/protocol/tensor';
import { refusal } from '../../support/expect-refusal';

const utf8 = new TextEncoder();

function jsonBody(value: unknown): Uint8Array {
  return utf8.encode(JSON.stringify(value));
}

function decodeJson(value: unknown): InferRequest {
  return decodeInferRequest(jsonBody(value), { 'content-type': 'application/json' });
}

/**
 * A Triton binary-extension body: the JSON header (padded with trailing spaces to `headerLength`
 * when given, to place the binary part at a chosen offset), then the chunks back to back.
 */
function binaryRequest(header: unknown, chunks: Uint8Array[], headerLength?: number): { body: Uint8Array; headers: Record<string, string> } {
  let json = JSON.stringify(header);
  if (headerLength !== undefined) {
    if (headerLength < json.length) throw new Error(`header is ${json.length} bytes, longer than ${headerLength}`);
    json = json.padEnd(headerLength, ' ');
  }
  const jsonBytes = utf8.encode(json);
  const total = jsonBytes.byteLength + chunks.reduce((n, c) => n + c.byteLength, 0);
  const body = new Uint8Array(total);
  body.set(jsonBytes, 0);
  let offset = jsonBytes.byteLength;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { body, headers: { 'inference-header-content-length': String(jsonBytes.byteLength), 'content-type': 'application/octet-stream' } };
}

function bytesOf(array: ArrayBufferView): Uint8Array {
  return new Uint8Array(array.buffer.slice(array.byteOffset, array.byteOffset + array.byteLength));
}

/** BYTES elements in Triton's binary form: a 4-byte little-endian length before each. */
function lengthPrefixed(elements: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(elements.reduce((n, e) => n + 4 + e.byteLength, 0));
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const element of elements) {
    view.setUint32(offset, element.byteLength, true);
    out.set(element, offset + 4);
    offset += 4 + element.byteLength;
  }
  return out;
}


function input(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'x', datatype: 'FP32', shape: [2, 2], data: [1, 2, 3, 4], ...overrides };
}

/** [datatype, JSON data for shape [2, 2], the stored array it must decode to] */
const EVERY_NUMERIC: [OipDatatype, unknown[], ArrayLike<number | bigint>][] = [
  ['BOOL', [true, false, 1, 0], new Uint8Array([1, 0, 1, 0])],
  ['UINT8', [0, 1, 254, 255], new Uint8Array([0, 1, 254, 255])],
  ['UINT16', [0, 1, 65534, 65535], new Uint16Array([0, 1, 65534, 65535])],
  ['UINT32', [0, 1, 4294967294, 4294967295], new Uint32Array([0, 1, 4294967294, 4294967295])],
  ['UINT64', [0, 1, '18446744073709551615', 2 ** 53], new BigUint64Array([0n, 1n, 2n ** 64n - 1n, 2n ** 53n])],
  ['INT8', [-128, -1, 0, 127], new Int8Array([-128, -1, 0, 127])],
  ['INT16', [-32768, -1, 0, 32767], new Int16Array([-32768, -1, 0, 32767])],
  ['INT32', [-2147483648, -1, 0, 2147483647], new Int32Array([-2147483648, -1, 0, 2147483647])],
  ['INT64', ['-9223372036854775808', -1, 0, '9223372036854775807'], new BigInt64Array([-(2n ** 63n), -1n, 0n, 2n ** 63n - 1n])],
  ['FP16', [1, -2, 0.5, 65504], new Uint16Array([0x3c00, 0xc000, 0x3800, 0x7bff])],
  ['FP32', [1.5, -2.25, 0.1, 3e38], new Float32Array([1.5, -2.25, 0.1, 3e38])],
  ['FP64', [1.5, -2.25, 0.1, 1e300], new Float64Array([1.5, -2.25, 0.1, 1e300])],
];

function nest2x2(flat: unknown[]): unknown[] {
  return [flat.slice(0, 2), flat.slice(2, 4)];
}

describe('infer-request-decoder', () => {
  describe('JSON data', () => {
    it.each(EVERY_NUMERIC)('decodes flat %s data into its typed storage', (datatype, data, expected) => {
      // Act
      const request = decodeJson({ inputs: [input({ datatype, data })] });

      // Assess
      const tensor = request.inputs[0]!;
      expect(tensor).toMatchObject({ name: 'x', datatype, shape: [2, 2] });
      expect(tensor.data.constructor).toBe(expected.constructor);
      expect(Array.from(tensor.data as ArrayLike<number | bigint>)).toEqual(Array.from(expected));
    });

    it.each(EVERY_NUMERIC)('decodes nested %s data the same as flat data', (datatype, data, expected) => {
      // Act
      const request = decodeJson({ inputs: [input({ datatype, data: nest2x2(data) })] });

      // Assess
      expect(Array.from(request.inputs[0]!.data as ArrayLike<number | bigint>)).toEqual(Array.from(expected));
    });

    it('decodes BYTES strings to UTF-8 bytes when given flat or nested strings', () => {
      // Act
      const flat = decodeJson({ inputs: [input({ datatype: 'BYTES', data: ['a', 'é', '', '日本'] })] });
      const nested = decodeJson({ inputs: [input({ datatype: 'BYTES', data: [['a', 'é'], ['', '日本']] })] });

      // Assess
      const expected = [utf8.encode('a'), utf8.encode('é'), new Uint8Array(0), utf8.encode('日本')];
      expect(flat.inputs[0]!.data).toEqual(expected);
      expect(nested.inputs[0]!.data).toEqual(expected);
    });

    it('refuses BYTES elements that are not strings naming the element', () => {
      // Act
      const error = refusal(() => decodeJson({ inputs: [input({ datatype: 'BYTES', shape: [2], data: ['a', 7] })] }));

      // Assess
      expect(error.message).toBe("input 'x': element 1 must be a string for BYTES");
    });

    it('takes "NaN", "Infinity" and "-Infinity" strings among FP32 numbers', () => {
      // Act
      const request = decodeJson({ inputs: [input({ data: [1, 'NaN', 'Infinity', '-Infinity'] })] });

      // Assess
      expect(Array.from(request.inputs[0]!.data as Float32Array)).toEqual([1, NaN, Infinity, -Infinity]);
    });

    it('names the element when an FP32 element is neither a number nor a non-finite string', () => {
      // Act
      const error = refusal(() => decodeJson({ inputs: [input({ data: [1, 2, '3', 4] })] }));

      // Assess
      expect(error.message).toBe('input \'x\' element 2: expected a number for FP32, got the string "3"');
    });

    it('names the element and range when an integer is out of range', () => {
      // Act
      const error = refusal(() => decodeJson({ inputs: [input({ datatype: 'UINT8', data: [1, 2, 3, 256] })] }));

      // Assess
      expect(error.message).toBe("input 'x' element 3: 256 is out of range for UINT8 [0, 255]");
    });

    it('decodes a scalar when given shape [] and one element', () => {
      // Act
      const request = decodeJson({ inputs: [{ name: 'sr', datatype: 'INT64', shape: [], data: [16000] }] });

      // Assess
      expect(request.inputs[0]!.data).toEqual(new BigInt64Array([16000n]));
    });

    it('decodes an empty tensor when a dimension is 0', () => {
      // Act
      const request = decodeJson({ inputs: [input({ shape: [0, 4], data: [] })] });

      // Assess
      expect(request.inputs[0]!.data).toEqual(new Float32Array(0));
    });

    it('refuses when the flat element count does not match the shape', () => {
      // Act
      const more = refusal(() => decodeJson({ inputs: [input({ data: [1, 2, 3, 4, 5] })] }));
      const fewer = refusal(() => decodeJson({ inputs: [input({ shape: [3, 4], data: [1] })] }));

      // Assess
      expect(more.message).toBe('input \'x\': shape [2,2] holds 4 elements but "data" has 5');
      expect(fewer.message).toBe('input \'x\': shape [3,4] holds 12 elements but "data" has 1');
    });

    it('names the path of the first ragged row when nested data is ragged', () => {
      // Act
      const shortRow = refusal(() => decodeJson({ inputs: [input({ shape: [2, 3], data: [[1, 2, 3], [4, 5]] })] }));
      const deep = refusal(() => decodeJson({ inputs: [input({ shape: [2, 2, 2], data: [[[1, 2], [3, 4]], [[5, 6], [7]]] })] }));
      const scalarRow = refusal(() => decodeJson({ inputs: [input({ shape: [2, 2], data: [[1, 2], 3] })] }));
      const outer = refusal(() => decodeJson({ inputs: [input({ shape: [3, 2], data: [[1, 2], [3, 4]] })] }));

      // Assess
      expect(shortRow.message).toBe('input \'x\': nested "data" is ragged at [1]: expected 3 elements, got 2');
      expect(deep.message).toBe('input \'x\': nested "data" is ragged at [1,1]: expected 2 elements, got 1');
      expect(scalarRow.message).toBe('input \'x\': nested "data" is ragged at [1]: expected an array of 2, got a scalar');
      expect(outer.message).toBe('input \'x\': nested "data" is ragged at []: expected 3 elements, got 2');
    });

    it('refuses nested data deeper than the shape naming where', () => {
      // Act
      const error = refusal(() => decodeJson({ inputs: [input({ shape: [2], data: [[1], [2]] })] }));

      // Assess
      expect(error.message).toBe('input \'x\': "data" nests deeper than shape [2] at [0]');
    });
  });

  describe('text bodies', () => {
    it('decodes the same request from text as from its UTF-8 bytes when the transport delivered text', () => {
      // Prepare
      const value = { id: 'é', inputs: [{ name: 'x', shape: [2, 2], datatype: 'FP32', data: [[1.5, -2], [0.25, 3]] }] };
      const text = JSON.stringify(value);

      // Act
      const fromText = decodeInferRequest(text, {});
      const fromBytes = decodeInferRequest(jsonBody(value), {});

      // Assess
      expect(fromText).toEqual(fromBytes);
    });

    it('reads a text body with a leading BOM as the bytes path does when given a BOM', () => {
      // Prepare
      const text = `\uFEFF${JSON.stringify({ inputs: [{ name: 'x', shape: [1], datatype: 'INT32', data: [7] }] })}`;

      // Act
      const request = decodeInferRequest(text, {});

      // Assess
      expect(Array.from(request.inputs[0]!.data as Int32Array)).toEqual([7]);
    });

    it('refuses an empty text body with the message the bytes path gives', () => {
      expect(() => decodeInferRequest('', {})).toThrow('request body is empty; send an infer request with "inputs"');
    });
  });

  describe('request structure', () => {
    it('keeps id and parameters and leaves outputs undefined when none are asked for', () => {
      // Act
      const request = decodeJson({ id: 'req-1', parameters: { trace: true }, inputs: [input()] });

      // Assess
      expect(request.id).toBe('req-1');
      expect(request.parameters).toEqual({ trace: true });
      expect(request.outputs).toBeUndefined();
      expect(request.binaryOutputsByDefault).toBe(false);
    });

    it.each([
      ['the body is empty', new Uint8Array(0), 'request body is empty; send an infer request with "inputs"'],
      ['the body is not JSON', utf8.encode('{"inputs": ['), 'request body is not valid JSON: '],
      ['the body is a JSON array', utf8.encode('[1]'), 'request body must be a JSON object with "inputs"'],
      ['the body is JSON null', utf8.encode('null'), 'request body must be a JSON object with "inputs"'],
    ])('refuses when %s', (_, body, message) => {
      // Act
      const error = refusal(() => decodeInferRequest(body, {}));

      // Assess
      expect(error.message.startsWith(message)).toBe(true);
      expect(error.status).toBe(400);
    });

    it.each([
      ['"inputs" is missing', {}, 'request has no "inputs"; send "inputs": [{"name", "shape", "datatype", "data"}]'],
      ['"inputs" is empty', { inputs: [] }, '"inputs" must be a non-empty array'],
      ['"inputs" is an object', { inputs: { x: 1 } }, '"inputs" must be a non-empty array'],
      ['"id" is a number', { id: 7, inputs: [input()] }, '"id" must be a string'],
      ['"parameters" is an array', { parameters: [], inputs: [input()] }, '"parameters" must be an object'],
      ['"parameters" is null', { parameters: null, inputs: [input()] }, '"parameters" must be an object'],
      ['"outputs" is an object', { inputs: [input()], outputs: { name: 'y' } }, '"outputs" must be an array of {"name"}'],
      ['an output has no name', { inputs: [input()], outputs: [{ name: 'y' }, {}] }, 'outputs[1] must be an object with a string "name"'],
      ['an output is a string', { inputs: [input()], outputs: ['y'] }, 'outputs[0] must be an object with a string "name"'],
      ['output parameters are not an object', { inputs: [input()], outputs: [{ name: 'y', parameters: 1 }] }, 'output \'y\': "parameters" must be an object'],
      ['an input is not an object', { inputs: [3] }, 'inputs[0] must be an object with "name", "shape", "datatype" and "data"'],
      ['an input has no name', { inputs: [input(), input({ name: '' })] }, 'inputs[1] has no string "name"'],
      ['a shape has a negative dim', { inputs: [input({ shape: [-1, 4] })] }, 'input \'x\': "shape" must be an array of non-negative integers, got [-1,4]'],
      ['a shape has a fraction', { inputs: [input({ shape: [1.5] })] }, 'input \'x\': "shape" must be an array of non-negative integers, got [1.5]'],
      ['a shape is missing', { inputs: [input({ shape: undefined })] }, 'input \'x\': "shape" must be an array of non-negative integers, got undefined'],
      ['a datatype is unknown', { inputs: [input({ datatype: 'FLOAT32' })] }, 'input \'x\': "datatype" "FLOAT32" is not an Open Inference Protocol datatype (BOOL, UINT8..64, INT8..64, FP16, FP32, FP64, BYTES)'],
      ['input parameters are not an object', { inputs: [input({ parameters: 'x' })] }, 'input \'x\': "parameters" must be an object'],
      ['an input has no data', { inputs: [input({ data: undefined })] }, "input 'x' has no \"data\""],
      ['data is not an array', { inputs: [input({ data: 5 })] }, 'input \'x\': "data" must be an array (flat or nested, row-major)'],
      ['two inputs share a name', { inputs: [input(), input({ name: 'y' }), input()] }, "input 'x' appears more than once"],
    ])('refuses with a message saying what to fix when %s', (_, request, message) => {
      // Act
      const error = refusal(() => decodeJson(request));

      // Assess
      expect(error.message).toBe(message);
    });

    it('asks for binary outputs per output, defaulting to parameters.binary_data_output', () => {
      // Act
      const byDefault = decodeJson({
        parameters: { binary_data_output: true },
        inputs: [input()],
        outputs: [{ name: 'a' }, { name: 'b', parameters: { binary_data: false } }],
      });
      const perOutput = decodeJson({ inputs: [input()], outputs: [{ name: 'a', parameters: { binary_data: true } }, { name: 'b' }] });

      // Assess
      expect(byDefault.binaryOutputsByDefault).toBe(true);
      expect(byDefault.outputs).toEqual([{ name: 'a', binary: true }, { name: 'b', binary: false, parameters: { binary_data: false } }]);
      expect(perOutput.binaryOutputsByDefault).toBe(false);
      expect(perOutput.outputs).toEqual([{ name: 'a', binary: true, parameters: { binary_data: true } }, { name: 'b', binary: false }]);
    });
  });

  describe('Triton binary data extension', () => {
    it('views aligned FP32 data in the body without copying when the binary part starts on a 4-byte boundary', () => {
      // Prepare
      const values = new Float32Array([1.5, -2, 3.25, 4]);
      const header = { inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 2], parameters: { binary_data_size: 16 } }] };
      const { body, headers } = binaryRequest(header, [bytesOf(values)], 96);

      // Act
      const request = decodeInferRequest(body, headers);

      // Assess
      const data = request.inputs[0]!.data as Float32Array;
      expect(data).toBeInstanceOf(Float32Array);
      expect(data.buffer).toBe(body.buffer);
      expect(data.byteOffset).toBe(96);
      expect(Array.from(data)).toEqual([1.5, -2, 3.25, 4]);
    });

    it.each([
      ['FP32', new Float32Array([1.5, -2, 3.25, NaN])],
      ['FP64', new Float64Array([1e300, -0.5, Math.PI, -Infinity])],
      ['INT64', new BigInt64Array([-(2n ** 63n), -1n, 0n, 2n ** 63n - 1n])],
      ['UINT64', new BigUint64Array([0n, 1n, 2n ** 64n - 1n, 42n])],
      ['INT32', new Int32Array([-2147483648, -1, 0, 2147483647])],
      ['UINT16', new Uint16Array([0, 1, 65534, 65535])],
      ['FP16', new Uint16Array([0x3c00, 0xc000, 0x7c00, 0x0001])],
    ] as const)('copies unaligned %s data with the right values when the binary part starts off its element boundary', (datatype, values) => {
      for (const misalignment of [1, 2, 3, 5, 7]) {
        if (misalignment % values.BYTES_PER_ELEMENT === 0) continue;
        // Prepare
        const header = { inputs: [{ name: 'x', datatype, shape: [4], parameters: { binary_data_size: values.byteLength } }] };
        const { body, headers } = binaryRequest(header, [bytesOf(values)], 120 + misalignment);

        // Act
        const data = decodeInferRequest(body, headers).inputs[0]!.data as ArrayLike<number | bigint> & ArrayBufferView;

        // Assess
        expect(data.buffer).not.toBe(body.buffer);
        expect(data.constructor).toBe(values.constructor);
        expect(Array.from(data)).toEqual(Array.from(values as ArrayLike<number | bigint>));
      }
    });

    it('reads right values when the body itself is a subarray at an odd offset of a larger buffer', () => {
      // Prepare: as a pooled Buffer would be.
      const values = new Float32Array([7, 8, 9]);
      const header = { inputs: [{ name: 'x', datatype: 'FP32', shape: [3], parameters: { binary_data_size: 12 } }] };
      const { body, headers } = binaryRequest(header, [bytesOf(values)], 128);
      const pool = new Uint8Array(body.byteLength + 3);
      pool.set(body, 3);
      const pooledBody = pool.subarray(3);

      // Act
      const data = decodeInferRequest(pooledBody, headers).inputs[0]!.data as Float32Array;

      // Assess
      expect(Array.from(data)).toEqual([7, 8, 9]);
    });

    it('decodes several binary inputs in order and JSON inputs beside them', () => {
      // Prepare
      const a = new Uint8Array([1, 0, 1]);
      const b = new BigInt64Array([5n, -6n]);
      const header = {
        inputs: [
          { name: 'a', datatype: 'BOOL', shape: [3], parameters: { binary_data_size: 3 } },
          { name: 'j', datatype: 'INT32', shape: [2], data: [10, 20] },
          { name: 'b', datatype: 'INT64', shape: [2], parameters: { binary_data_size: 16 } },
        ],
      };
      const { body, headers } = binaryRequest(header, [a, bytesOf(b)]);

      // Act
      const request = decodeInferRequest(body, headers);

      // Assess
      expect(request.inputs.map((t) => t.name)).toEqual(['a', 'j', 'b']);
      expect(Array.from(request.inputs[0]!.data as Uint8Array)).toEqual([1, 0, 1]);
      expect(Array.from(request.inputs[1]!.data as Int32Array)).toEqual([10, 20]);
      expect(Array.from(request.inputs[2]!.data as BigInt64Array)).toEqual([5n, -6n]);
    });

    it('decodes BYTES elements as length-prefixed byte strings, including empty and non-UTF-8 ones', () => {
      // Prepare
      const elements = [utf8.encode('hello'), new Uint8Array(0), new Uint8Array([0xff, 0x00, 0xfe])];
      const chunk = lengthPrefixed(elements);
      const header = { inputs: [{ name: 's', datatype: 'BYTES', shape: [3], parameters: { binary_data_size: chunk.byteLength } }] };
      const { body, headers } = binaryRequest(header, [chunk], 133);

      // Act
      const data = decodeInferRequest(body, headers).inputs[0]!.data as Uint8Array[];

      // Assess
      expect(data).toEqual(elements);
    });

    it('refuses BYTES binary data whose prefixes do not fit or whose count differs from the shape', () => {
      // Prepare
      const one = lengthPrefixed([utf8.encode('abc')]);
      const truncatedPrefix = new Uint8Array([...one, 1, 0]);
      const overlong = lengthPrefixed([utf8.encode('abc')]);
      new DataView(overlong.buffer).setUint32(0, 4, true);
      const request = (chunk: Uint8Array, count: number) => {
        const header = { inputs: [{ name: 's', datatype: 'BYTES', shape: [count], parameters: { binary_data_size: chunk.byteLength } }] };
        const { body, headers } = binaryRequest(header, [chunk]);
        return () => decodeInferRequest(body, headers);
      };

      const twoEmpty = lengthPrefixed([new Uint8Array(0), new Uint8Array(0)]);

      // Act
      const messages = [request(truncatedPrefix, 2), request(overlong, 1), request(one, 2), request(twoEmpty, 3), request(twoEmpty, 1)]
        .map((run) => refusal(run).message);

      // Assess
      expect(messages).toEqual([
        "input 's': BYTES element 1 has a truncated length prefix",
        "input 's': BYTES element 0 runs past binary_data_size",
        "input 's': shape [2] holds 2 BYTES elements, but binary_data_size 7 can carry at most 1 (each has a 4-byte length prefix)",
        "input 's': shape [3] holds 3 BYTES elements, but binary_data_size 8 can carry at most 2 (each has a 4-byte length prefix)",
        "input 's': shape holds 1 BYTES elements but binary_data_size has 4 bytes more after them",
      ]);
    });

    it('refuses a header length beyond the body when the header says so', () => {
      // Prepare
      const body = jsonBody({ inputs: [input()] });

      // Act
      const error = refusal(() => decodeInferRequest(body, { 'inference-header-content-length': String(body.byteLength + 1) }));

      // Assess
      expect(error.message).toBe(`header Inference-Header-Content-Length is ${body.byteLength + 1} but the body has only ${body.byteLength} bytes`);
    });

    it.each(['abc', '-1', '1.5'])('refuses a header length of %s', (value) => {
      // Act
      const error = refusal(() => decodeInferRequest(jsonBody({ inputs: [input()] }), { 'inference-header-content-length': value }));

      // Assess
      expect(error.message).toBe(`header Inference-Header-Content-Length: '${value}' is not a non-negative integer`);
    });

    it('decodes JSON-only inputs when the header length covers the whole body', () => {
      // Prepare
      const body = jsonBody({ inputs: [input()] });

      // Act
      const request = decodeInferRequest(body, { 'inference-header-content-length': String(body.byteLength) });

      // Assess
      expect(Array.from(request.inputs[0]!.data as Float32Array)).toEqual([1, 2, 3, 4]);
    });

    it('refuses binary sizes that do not add up to the binary part', () => {
      // Prepare
      const header = (size: number) => ({ inputs: [{ name: 'x', datatype: 'FP32', shape: [2], parameters: { binary_data_size: size } }] });
      const extra = binaryRequest(header(8), [new Uint8Array(12)]);
      const pastEnd = binaryRequest(header(8), [new Uint8Array(4)]);

      // Act
      const extraError = refusal(() => decodeInferRequest(extra.body, extra.headers));
      const pastEndError = refusal(() => decodeInferRequest(pastEnd.body, pastEnd.headers));

      // Assess
      expect(extraError.message).toBe("the binary part of the body has 12 bytes but the inputs' binary_data_size add up to 8");
      expect(pastEndError.message).toBe("input 'x': binary_data_size 8 runs past the end of the body (4 bytes left)");
    });

    it('refuses a binary_data_size that does not match shape and datatype', () => {
      // Prepare
      const header = { inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 2], parameters: { binary_data_size: 12 } }] };
      const { body, headers } = binaryRequest(header, [new Uint8Array(12)]);

      // Act
      const error = refusal(() => decodeInferRequest(body, headers));

      // Assess
      expect(error.message).toBe("input 'x': shape [2,2] of FP32 needs 16 bytes, binary_data_size is 12");
    });

    it('refuses an input that has both data and binary_data_size', () => {
      // Prepare
      const header = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1], parameters: { binary_data_size: 4 } }] };
      const { body, headers } = binaryRequest(header, [new Uint8Array(4)]);

      // Act
      const error = refusal(() => decodeInferRequest(body, headers));

      // Assess
      expect(error.message).toBe("input 'x' has both \"data\" and binary_data_size; send one");
    });

    it('refuses binary_data_size in a request without the header-length header', () => {
      // Act
      const error = refusal(() => decodeJson({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1], parameters: { binary_data_size: 4 } }] }));

      // Assess
      expect(error.message).toBe("input 'x' has binary_data_size but the request has no Inference-Header-Content-Length header");
    });

    it.each([-4, 2.5, '4'])('refuses a binary_data_size of %p', (size) => {
      // Prepare
      const header = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1], parameters: { binary_data_size: size } }] };
      const { body, headers } = binaryRequest(header, [new Uint8Array(4)]);

      // Act
      const error = refusal(() => decodeInferRequest(body, headers));

      // Assess
      expect(error.message).toBe("input 'x': binary_data_size must be a non-negative integer");
    });
  });
});

describe('infer-request-decoder bounds before allocation', () => {
  it.each([
    ['a dim of 1e300 beside a zero', [0, 1e300], 1, '1e+300'],
    ['a dim of 2^31', [1, 2 ** 31], 1, '2147483648'],
    ['two dims of 1e10', [1e10, 1e10], 0, '10000000000'],
  ])('refuses %s naming the dim and the largest allowed', (_, shape, dim, printed) => {
    // Act
    const error = refusal(() => decodeJson({ inputs: [input({ shape, data: [] })] }));

    // Assess
    expect(error.message).toBe(`input 'x': "shape" dim ${dim} is ${printed}; each dim must be at most 2147483647`);
  });

  it('takes a dim of exactly 2^31-1 and then refuses the count against the data', () => {
    // Act
    const error = refusal(() => decodeJson({ inputs: [input({ shape: [2147483647], data: [1, 2] })] }));

    // Assess
    expect(error.message).toBe(`input 'x': shape [2147483647] holds 2147483647 elements but "data" has 2`);
  });

  it('prints the exact element count when it is past 2^53 (no float overflow or rounding)', () => {
    // Prepare: 2147483647^3 is about 9.9e27; as a double product it would print rounded.
    const shape = [2147483647, 2147483647, 2147483647];

    // Act
    const error = refusal(() => decodeJson({ inputs: [input({ shape, data: [1] })] }));

    // Assess
    expect(error.message).toBe(`input 'x': shape ${JSON.stringify(shape)} holds ${(2147483647n ** 3n).toString()} elements but "data" has 1`);
  });

  it('refuses nested data at its first row when a declared dim is huge (walks the data, not the shape)', () => {
    // Act
    const error = refusal(() => decodeJson({ inputs: [input({ shape: [2, 2147483647], data: [[1, 2], [3, 4]] })] }));

    // Assess
    expect(error.message).toBe('input \'x\': nested "data" is ragged at [0]: expected 2147483647 elements, got 2');
  });

  it('refuses a binary shape bigger than its binary_data_size before allocating (1e9 FP32 in 16 bytes)', () => {
    // Prepare
    const header = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1000000000], parameters: { binary_data_size: 16 } }] };
    const { body, headers } = binaryRequest(header, [new Uint8Array(16)]);

    // Act
    const error = refusal(() => decodeInferRequest(body, headers));

    // Assess
    expect(error.message).toBe("input 'x': shape [1000000000] of FP32 needs 4000000000 bytes, binary_data_size is 16");
  });

  it('refuses a huge BYTES count in a short body from the count alone, before any element is read', () => {
    // Prepare: 2^62 elements declared, 8 bytes sent; the elements' length prefixes are never read.
    const header = { inputs: [{ name: 's', datatype: 'BYTES', shape: [2147483647, 2147483647], parameters: { binary_data_size: 8 } }] };
    const { body, headers } = binaryRequest(header, [new Uint8Array([255, 255, 255, 255, 255, 255, 255, 255])]);

    // Act
    const error = refusal(() => decodeInferRequest(body, headers));

    // Assess
    expect(error.message).toBe(
      `input 's': shape [2147483647,2147483647] holds ${(2147483647n ** 2n).toString()} BYTES elements, but binary_data_size 8 can carry at most 2 (each has a 4-byte length prefix)`,
    );
  });

  describe('zero-size tensors', () => {
    it.each([
      ['FP32 [0, 576]', { name: 'x', datatype: 'FP32', shape: [0, 576], data: [] }, Float32Array],
      ['INT64 [3, 0]', { name: 'x', datatype: 'INT64', shape: [3, 0], data: [] }, BigInt64Array],
      ['FP32 [2, 0] as nested rows', { name: 'x', datatype: 'FP32', shape: [2, 0], data: [[], []] }, Float32Array],
      ['FP32 [0, 1e9] (each dim in bounds)', { name: 'x', datatype: 'FP32', shape: [0, 1e9], data: [] }, Float32Array],
    ])('decodes JSON %s to an empty typed array with its shape', (_, tensor, Storage) => {
      // Act
      const decoded = decodeJson({ inputs: [tensor] }).inputs[0]!;

      // Assess
      expect(decoded.shape).toEqual(tensor.shape);
      expect(decoded.data).toBeInstanceOf(Storage);
      expect((decoded.data as ArrayLike<number>).length).toBe(0);
    });

    it('decodes zero-size binary tensors (numeric and BYTES) of binary_data_size 0 beside a non-empty one', () => {
      // Prepare
      const header = {
        inputs: [
          { name: 'a', datatype: 'FP32', shape: [0, 4], parameters: { binary_data_size: 0 } },
          { name: 'b', datatype: 'BYTES', shape: [0], parameters: { binary_data_size: 0 } },
          { name: 'c', datatype: 'INT32', shape: [1], parameters: { binary_data_size: 4 } },
        ],
      };
      const { body, headers } = binaryRequest(header, [new Uint8Array(0), new Uint8Array(0), bytesOf(new Int32Array([7]))]);

      // Act
      const [a, b, c] = decodeInferRequest(body, headers).inputs;

      // Assess
      expect(a!.shape).toEqual([0, 4]);
      expect((a!.data as Float32Array).length).toBe(0);
      expect(b!.data).toEqual([]);
      expect(Array.from(c!.data as Int32Array)).toEqual([7]);
    });

    it('refuses a zero-size binary tensor that was sent bytes', () => {
      // Prepare
      const header = { inputs: [{ name: 'x', datatype: 'FP32', shape: [0, 4], parameters: { binary_data_size: 4 } }] };
      const { body, headers } = binaryRequest(header, [new Uint8Array(4)]);

      // Act
      const error = refusal(() => decodeInferRequest(body, headers));

      // Assess
      expect(error.message).toBe("input 'x': shape [0,4] of FP32 needs 0 bytes, binary_data_size is 4");
    });
  });
});

describe('infer-request-decoder requested outputs', () => {
  it('carries each output\'s parameters as sent (class_count for the classification extension)', () => {
    // Act
    const decoded = decodeJson({ inputs: [input()], outputs: [{ name: 'probabilities', parameters: { class_count: 2, binary_data: false } }, { name: 'label' }] });

    // Assess
    expect(decoded.outputs).toEqual([
      { name: 'probabilities', binary: false, parameters: { class_count: 2, binary_data: false } },
      { name: 'label', binary: false },
    ]);
  });
});

describe('decodeInferRequest Inference-Header-Content-Length parsing', () => {
  it.each(['', ' ', '0x10', '1e1', '-1', '12.0', 'abc'])('refuses %j as a header length', (value) => {
    const body = Buffer.from('{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]}]}');
    expect(() => decodeInferRequest(body, { 'inference-header-content-length': value })).toThrow(/is not a non-negative integer/);
  });
});

describe('decodeInferRequest with the non-finite literals Triton\'s Python client writes', () => {
  it('reads bare NaN, Infinity and -Infinity outside strings as the float values', () => {
    // Prepare: python-rapidjson's dumps of [nan, inf, -inf, 1.0]; the id holds the same words as text.
    const body = '{"id":"NaN Infinity","inputs":[{"name":"x","shape":[4],"datatype":"FP32","data":[NaN,Infinity,-Infinity,1.0]}]}';

    // Act
    const request = decodeInferRequest(body, {});

    // Assess
    expect(request.id).toBe('NaN Infinity');
    expect(Array.from(request.inputs[0]!.data as Float32Array)).toEqual([NaN, Infinity, -Infinity, 1]);
  });

  it('still refuses a body that is not JSON with the literals replaced', () => {
    expect(() => decodeInferRequest('{"inputs":[NaN,', {})).toThrow(/request body is not valid JSON/);
    expect(() => decodeInferRequest('{"inputs": nan}', {})).toThrow(/request body is not valid JSON/);
  });
});
