import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { allocateNumeric } from '../../../lib/protocol/datatypes';
import { decodeInferResponse, MalformedInferResponseError } from '../../../lib/protocol/infer-response-decoder';
import { encodeInferResponse, type EncodedInferResponse } from '../../../lib/protocol/infer-response-encoder';
import { elementCount, OIP_DATATYPES, type HostTensor, type OipDatatype } from '../../../lib/protocol/tensor';

type NumericDatatype = Exclude<OipDatatype, 'BYTES'>;

const utf8 = new TextEncoder();

/** Deterministic, datatype-typical values (negatives, extremes, fractions), `count` of them. */
function sample(datatype: OipDatatype, shape: number[], seed = 1): HostTensor {
  const count = elementCount(shape);
  if (datatype === 'BYTES') {
    const words = ['', 'a', 'héllo', '日本語', '\u0000\u0001', 'x'.repeat(37), '😀'];
    return { name: `o_${datatype}`, datatype, shape, data: Array.from({ length: count }, (_, i) => utf8.encode(words[(i + seed) % words.length]!)) };
  }
  const data = allocateNumeric(datatype, count);
  for (let i = 0; i < count; i++) {
    const k = i + seed;
    switch (datatype) {
      case 'BOOL': (data as Uint8Array)[i] = k % 2; break;
      case 'INT64': (data as BigInt64Array)[i] = k % 3 === 0 ? -(2n ** 63n) + BigInt(k) : BigInt(k * 1_000_003) * (k % 2 ? -1n : 1n); break;
      case 'UINT64': (data as BigUint64Array)[i] = k % 3 === 0 ? 2n ** 64n - BigInt(k) : BigInt(k); break;
      case 'FP16': (data as Uint16Array)[i] = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x3555][k % 5]!; break;
      case 'FP32':
      case 'FP64': (data as Float32Array)[i] = (k % 2 ? -1 : 1) * (k / 7) * 10 ** ((k % 9) - 4); break;
      default: {
        const max = { UINT8: 255, UINT16: 65535, UINT32: 4294967295, INT8: 127, INT16: 32767, INT32: 2147483647 }[datatype]!;
        const signed = datatype.startsWith('INT');
        (data as Int32Array)[i] = signed && k % 2 ? -((k * 7919) % (max + 1)) : (k * 7919) % (max + 1);
      }
    }
  }
  return { name: `o_${datatype}`, datatype, shape, data };
}

function encode(outputs: HostTensor[], binary: string[], extra: { id?: string; parameters?: Record<string, unknown> } = {}): EncodedInferResponse {
  return encodeInferResponse({ modelName: 'm', modelVersion: '3', outputs, binaryOutputs: new Set(binary), ...extra });
}

function headersOf(encoded: EncodedInferResponse): Record<string, string> {
  return encoded.inferenceHeaderContentLength === undefined ? { 'content-type': encoded.contentType } : { 'content-type': encoded.contentType, 'inference-header-content-length': String(encoded.inferenceHeaderContentLength) };
}

function values(tensor: HostTensor): unknown[] {
  if (Array.isArray(tensor.data)) return tensor.data.map((b) => Buffer.from(b).toString('hex'));
  return Array.from(tensor.data as ArrayLike<unknown>);
}

/** Raw JSON body and headers for malformed-answer cases. */
function json(value: unknown): [string, Record<string, string>] {
  return [JSON.stringify(value), { 'content-type': 'application/json' }];
}

function malformed(body: Uint8Array | string, headers: Record<string, string>): MalformedInferResponseError {
  try {
    decodeInferResponse(body, headers);
  } catch (error) {
    if (error instanceof MalformedInferResponseError) return error;
    throw error;
  }
  throw new Error('expected a MalformedInferResponseError, nothing was thrown');
}

describe('decodeInferResponse', () => {
  describe.each(OIP_DATATYPES)('%s', (datatype) => {
    it.each([[[7]], [[3, 5]], [[1]], [[0]], [[2, 1, 3]]])('round-trips shape %j in binary', (shape) => {
      // Prepare: a leading 7-byte BYTES output (prefix + 'abc') pushes this output's bytes off alignment.
      const odd: HostTensor = { name: 'odd', datatype: 'BYTES', shape: [1], data: [utf8.encode('abc')] };
      const tensor = sample(datatype, shape);
      const encoded = encode([odd, tensor], ['odd', tensor.name], { id: 'req-1' });
      // Act
      const decoded = decodeInferResponse(encoded.body, headersOf(encoded));
      // Assess
      expect(decoded).toMatchObject({ modelName: 'm', modelVersion: '3', id: 'req-1' });
      expect(decoded.outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual([['odd', 'BYTES', [1]], [tensor.name, datatype, shape]]);
      expect(values(decoded.outputs[1]!)).toEqual(values(tensor));
      if (datatype !== 'BYTES') expect(decoded.outputs[1]!.data.constructor).toBe(tensor.data.constructor);
    });

    it.each([[[7]], [[3, 5]], [[0]]])('round-trips shape %j in JSON, as bytes and as text', (shape) => {
      const tensor = sample(datatype, shape, 2);
      const encoded = encode([tensor], []);
      const fromBytes = decodeInferResponse(encoded.body, headersOf(encoded));
      const fromText = decodeInferResponse(encoded.body.toString('utf8'), headersOf(encoded));
      expect(values(fromBytes.outputs[0]!)).toEqual(values(tensor));
      expect(values(fromText.outputs[0]!)).toEqual(values(tensor));
      expect(fromBytes.outputs[0]!.shape).toEqual(shape);
    });
  });

  it('round-trips a mix of binary and JSON outputs in any order (property)', () => {
    const datatypeArb = fc.constantFrom(...OIP_DATATYPES);
    const outputArb = fc.record({ datatype: datatypeArb, shape: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 0, maxLength: 3 }), binary: fc.boolean(), seed: fc.nat(50) });
    fc.assert(
      fc.property(fc.array(outputArb, { minLength: 1, maxLength: 5 }), (specs) => {
        const tensors = specs.map((s, i) => ({ ...sample(s.datatype, s.shape, s.seed), name: `out${i}` }));
        const encoded = encode(tensors, tensors.filter((_, i) => specs[i]!.binary).map((t) => t.name));
        const decoded = decodeInferResponse(encoded.body, headersOf(encoded));
        decoded.outputs.forEach((o, i) => {
          expect(o.shape).toEqual(tensors[i]!.shape);
          // JSON cannot carry a negative zero (-0 and FP16 0x8000 come back as +0).
          const expected = values(tensors[i]!).map((v) => (!specs[i]!.binary && (Object.is(v, -0) || (o.datatype === 'FP16' && v === 0x8000)) ? 0 : v));
          expect(values(o)).toEqual(expected);
        });
      }),
      { seed: Number(process.env.FC_SEED ?? 7), numRuns: 200 },
    );
  });

  it('reads NaN, infinities and 64-bit integers past 2^53 from JSON', () => {
    const [body, headers] = json({
      model_name: 'm',
      outputs: [
        { name: 'f', datatype: 'FP32', shape: [4], data: ['NaN', 'Infinity', '-Infinity', 1.5] },
        { name: 'i', datatype: 'INT64', shape: [2], data: ['-9223372036854775808', 9007199254740991] },
        { name: 'u', datatype: 'UINT64', shape: [1], data: ['18446744073709551615'] },
        { name: 'b', datatype: 'BOOL', shape: [2], data: [true, false] },
      ],
    });
    const decoded = decodeInferResponse(body, headers);
    expect(Array.from(decoded.outputs[0]!.data as Float32Array)).toEqual([NaN, Infinity, -Infinity, 1.5]);
    expect(Array.from(decoded.outputs[1]!.data as BigInt64Array)).toEqual([-(2n ** 63n), 9007199254740991n]);
    expect(Array.from(decoded.outputs[2]!.data as BigUint64Array)).toEqual([2n ** 64n - 1n]);
    expect(Array.from(decoded.outputs[3]!.data as Uint8Array)).toEqual([1, 0]);
    expect(decoded.modelVersion).toBeUndefined();
  });

  it('keeps the response parameters', () => {
    const encoded = encode([sample('FP32', [2])], [], { parameters: { route: 'local-wasm' } });
    expect(decodeInferResponse(encoded.body, headersOf(encoded)).parameters).toEqual({ route: 'local-wasm' });
  });

  const good = { model_name: 'm', outputs: [{ name: 'x', datatype: 'FP32', shape: [2], data: [1, 2] }] };
  const binaryBody = (header: unknown, tail: number[], headerLength?: string): [Buffer, Record<string, string>] => {
    const head = Buffer.from(JSON.stringify(header));
    return [Buffer.concat([head, Buffer.from(tail)]), { 'inference-header-content-length': headerLength ?? String(head.byteLength) }];
  };
  const binaryOutput = (extra: Record<string, unknown>) => ({ model_name: 'm', outputs: [{ name: 'x', datatype: 'FP32', shape: [2], parameters: { binary_data_size: 8 }, ...extra }] });

  it.each<[string, () => [Uint8Array | string, Record<string, string>], RegExp]>([
    ['an empty body', () => ['', {}], /the body is empty/],
    ['a body that is not JSON', () => ['{"model_name":', {}], /not valid JSON/],
    ['a JSON array', () => json([good]), /not a JSON object/],
    ['no model_name', () => json({ outputs: [] }), /"model_name" is missing/],
    ['a numeric model_version', () => json({ ...good, model_version: 1 }), /"model_version" is not a string/],
    ['no outputs', () => json({ model_name: 'm' }), /"outputs" is missing/],
    ['an output that is not an object', () => json({ model_name: 'm', outputs: [3] }), /outputs\[0\] is not an object/],
    ['an unknown datatype', () => json({ model_name: 'm', outputs: [{ name: 'x', datatype: 'STRING', shape: [1], data: ['a'] }] }), /"datatype" "STRING"/],
    ['a negative dim', () => json({ model_name: 'm', outputs: [{ name: 'x', datatype: 'FP32', shape: [-1], data: [] }] }), /"shape" \[-1\]/],
    ['too few data', () => json({ model_name: 'm', outputs: [{ name: 'x', datatype: 'FP32', shape: [3], data: [1, 2] }] }), /holds 3 elements but "data" has 2/],
    ['nested data', () => json({ model_name: 'm', outputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [[1, 2]] }] }), /holds 2 elements but "data" has 1/],
    ['a string in FP32 data', () => json({ model_name: 'm', outputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: ['1.5'] }] }), /output 'x' element 0: expected a number for FP32/],
    ['an out-of-range UINT8', () => json({ model_name: 'm', outputs: [{ name: 'x', datatype: 'UINT8', shape: [1], data: [256] }] }), /256 is out of range for UINT8/],
    ['a number for BYTES', () => json({ model_name: 'm', outputs: [{ name: 'x', datatype: 'BYTES', shape: [1], data: [1] }] }), /element 0: expected a string for BYTES/],
    ['neither data nor binary_data_size', () => json({ model_name: 'm', outputs: [{ name: 'x', datatype: 'FP32', shape: [1] }] }), /neither a "data" array nor binary_data_size/],
    ['an output twice', () => json({ model_name: 'm', outputs: [good.outputs[0], good.outputs[0]] }), /output 'x' appears more than once/],
    ['binary_data_size without the header', () => json(binaryOutput({})), /no Inference-Header-Content-Length/],
    ['both data and binary_data_size', () => binaryBody(binaryOutput({ data: [1, 2] }), new Array(8).fill(0)), /both "data" and binary_data_size/],
    ['a header length past the body', () => binaryBody(good, [], '9999'), /Inference-Header-Content-Length is 9999 but the body has only/],
    ['a header length that is not a number', () => binaryBody(good, [], '0x10'), /'0x10' is not a non-negative integer/],
    ['binary data past the body', () => binaryBody(binaryOutput({}), [1, 2, 3]), /binary_data_size 8 runs past the end of the body \(3 bytes left\)/],
    ['a binary size that does not fit the shape', () => binaryBody({ model_name: 'm', outputs: [{ name: 'x', datatype: 'FP32', shape: [3], parameters: { binary_data_size: 8 } }] }, new Array(8).fill(0)), /3 elements of FP32 take 12 bytes, binary_data_size is 8/],
    ['bytes left over after the outputs', () => binaryBody(binaryOutput({}), new Array(9).fill(0)), /binary part has 9 bytes but the outputs' binary_data_size add up to 8/],
    ['a fractional binary_data_size', () => binaryBody({ model_name: 'm', outputs: [{ name: 'x', datatype: 'FP32', shape: [2], parameters: { binary_data_size: 7.5 } }] }, new Array(8).fill(0)), /binary_data_size 7.5 is not a non-negative integer/],
    ['BYTES with fewer elements than the shape', () => binaryBody({ model_name: 'm', outputs: [{ name: 's', datatype: 'BYTES', shape: [2], parameters: { binary_data_size: 5 } }] }, [1, 0, 0, 0, 97]), /2 BYTES elements need at least 8 bytes/],
    ['a BYTES element past its chunk', () => binaryBody({ model_name: 'm', outputs: [{ name: 's', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: 6 } }] }, [9, 0, 0, 0, 97, 98]), /BYTES element 0 of 9 bytes runs past binary_data_size/],
    ['BYTES with more elements than the shape', () => binaryBody({ model_name: 'm', outputs: [{ name: 's', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: 10 } }] }, [1, 0, 0, 0, 97, 1, 0, 0, 0, 98]), /5 bytes are left after the shape's 1 BYTES elements/],
    ['a header that is not UTF-8', () => [Buffer.from([0x7b, 0xff, 0x7d]), { 'inference-header-content-length': '3' }], /not valid UTF-8/],
    ['a gzip body not yet inflated', () => [gzipSync(JSON.stringify(good)), { 'content-encoding': 'gzip' }], /still gzip-encoded; inflate it before decoding/],
  ])('refuses %s with a 502 that says what is wrong', (_, make, message) => {
    const [body, headers] = make();
    const error = malformed(body, headers);
    expect(error.status).toBe(502);
    expect(error.message).toMatch(/^the inference server's answer is malformed: /);
    expect(error.message).toMatch(message);
  });

  it('shares memory with the body for aligned binary outputs and copies unaligned ones', () => {
    const tensor = sample('FP32', [4]);
    const aligned = encode([tensor], [tensor.name]);
    const decoded = decodeInferResponse(aligned.body, headersOf(aligned)).outputs[0]!.data as Float32Array;
    const offset = aligned.inferenceHeaderContentLength!;
    if ((aligned.body.byteOffset + offset) % 4 === 0) expect(decoded.buffer).toBe(aligned.body.buffer);
    else expect(decoded.buffer).not.toBe(aligned.body.buffer);
    expect(Array.from(decoded)).toEqual(Array.from(tensor.data as Float32Array));
  });
});

describe('decodeInferResponse bounds before allocation', () => {
  const binaryAnswer = (output: Record<string, unknown>, tail: Uint8Array): [Buffer, Record<string, string>] => {
    const head = Buffer.from(JSON.stringify({ model_name: 'm', outputs: [output] }));
    return [Buffer.concat([head, tail]), { 'inference-header-content-length': String(head.byteLength) }];
  };

  it.each<[string, () => [Uint8Array | string, Record<string, string>], string]>([
    [
      'a dim of 2^31',
      () => json({ model_name: 'm', outputs: [{ name: 'x', datatype: 'FP32', shape: [0, 2 ** 31], data: [] }] }),
      `output 'x': "shape" dim 1 is 2147483648; each dim must be at most 2147483647`,
    ],
    [
      'JSON data far short of a huge shape (exact count, no float rounding)',
      () => json({ model_name: 'm', outputs: [{ name: 'x', datatype: 'FP32', shape: [2147483647, 2147483647, 2147483647], data: [1] }] }),
      `output 'x': shape [2147483647,2147483647,2147483647] holds ${(2147483647n ** 3n).toString()} elements but "data" has 1 (a flat row-major array is expected)`,
    ],
    [
      '1e9 FP32 elements in 16 binary bytes',
      () => binaryAnswer({ name: 'x', datatype: 'FP32', shape: [1000000000], parameters: { binary_data_size: 16 } }, new Uint8Array(16)),
      "output 'x': 1000000000 elements of FP32 take 4000000000 bytes, binary_data_size is 16",
    ],
    [
      '2^62 BYTES elements in 8 binary bytes (refused from the count, no prefix read)',
      () => binaryAnswer({ name: 's', datatype: 'BYTES', shape: [2147483647, 2147483647], parameters: { binary_data_size: 8 } }, new Uint8Array(8).fill(255)),
      `output 's': ${(2147483647n ** 2n).toString()} BYTES elements need at least ${(2147483647n ** 2n * 4n).toString()} bytes of length prefixes, binary_data_size is 8`,
    ],
    [
      'BYTES data that ends before the shape\'s count',
      () => binaryAnswer({ name: 's', datatype: 'BYTES', shape: [2], parameters: { binary_data_size: 8 } }, new Uint8Array([4, 0, 0, 0, 97, 98, 99, 100])),
      "output 's': shape holds 2 BYTES elements but the binary data ends after 1",
    ],
  ])('refuses %s with a 502 naming the counts', (_, make, message) => {
    // Prepare
    const [body, headers] = make();

    // Act
    const error = malformed(body, headers);

    // Assess
    expect(error.status).toBe(502);
    expect(error.message).toBe(`the inference server's answer is malformed: ${message}`);
  });

  it('decodes a zero-size output whose other dim is large (each dim in bounds)', () => {
    // Act
    const decoded = decodeInferResponse(...json({ model_name: 'm', outputs: [{ name: 'x', datatype: 'FP32', shape: [0, 1e9], data: [] }] }));

    // Assess
    expect(decoded.outputs[0]!.shape).toEqual([0, 1e9]);
    expect(decoded.outputs[0]!.data).toEqual(new Float32Array(0));
  });
});
