import fc from 'fast-check';
import { allocateNumeric } from '../../../lib/protocol/datatypes';
import { decodeInferRequest } from '../../../lib/protocol/infer-request-decoder';
import { encodeInferResponse, type EncodedInferResponse, type InferResponseParts } from '../../../lib/protocol/infer-response-encoder';
import { elementCount, OIP_DATATYPES, type HostTensor, type OipDatatype } from '../../../lib/protocol/tensor';

type NumericDatatype = Exclude<OipDatatype, 'BYTES'>;

const utf8 = new TextEncoder();

function parts(outputs: HostTensor[], binary: string[] = [], extra: Partial<InferResponseParts> = {}): InferResponseParts {
  return { modelName: 'm', modelVersion: '1', outputs, binaryOutputs: new Set(binary), ...extra };
}

function header(encoded: EncodedInferResponse): Record<string, unknown> & { outputs: Record<string, unknown>[] } {
  const length = encoded.inferenceHeaderContentLength ?? encoded.body.byteLength;
  return JSON.parse(encoded.body.subarray(0, length).toString('utf8'));
}

/**
 * Decodes a response with the request decoder's rules: the response header's `outputs` become
 * a request's `inputs`, followed by the same binary part.
 */
function decodeResponse(encoded: EncodedInferResponse): HostTensor[] {
  const { outputs } = header(encoded);
  const asRequest = Buffer.from(JSON.stringify({ inputs: outputs }));
  const binaryPart = encoded.body.subarray(encoded.inferenceHeaderContentLength ?? encoded.body.byteLength);
  const body = Buffer.concat([asRequest, binaryPart]);
  const headers = encoded.inferenceHeaderContentLength === undefined ? {} : { 'inference-header-content-length': String(asRequest.byteLength) };
  return [...decodeInferRequest(body, headers).inputs];
}

function values(tensor: HostTensor): unknown[] {
  return Array.from(tensor.data as ArrayLike<unknown>);
}

/** What JSON can carry back: JSON.stringify writes -0 as 0, so negative zero comes back positive (FP16 0x8000 as 0x0000). */
function jsonValues(tensor: HostTensor): unknown[] {
  return values(tensor).map((v) => (Object.is(v, -0) || (tensor.datatype === 'FP16' && v === 0x8000) ? 0 : v));
}

const numericDatatypes = OIP_DATATYPES.filter((d): d is NumericDatatype => d !== 'BYTES');

/** Arbitrary stored elements per datatype (FP16 as any non-NaN bit pattern, floats including non-finite). */
function elementArbitrary(datatype: OipDatatype): fc.Arbitrary<unknown> {
  switch (datatype) {
    case 'BOOL': return fc.integer({ min: 0, max: 1 });
    case 'UINT8': return fc.integer({ min: 0, max: 255 });
    case 'UINT16': return fc.integer({ min: 0, max: 65535 });
    case 'UINT32': return fc.integer({ min: 0, max: 4294967295 });
    case 'UINT64': return fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
    case 'INT8': return fc.integer({ min: -128, max: 127 });
    case 'INT16': return fc.integer({ min: -32768, max: 32767 });
    case 'INT32': return fc.integer({ min: -2147483648, max: 2147483647 });
    case 'INT64': return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    case 'FP16': return fc.integer({ min: 0, max: 0xffff }).filter((bits) => (bits & 0x7c00) !== 0x7c00 || (bits & 0x3ff) === 0);
    case 'FP32': return fc.float();
    case 'FP64': return fc.double();
    case 'BYTES': return fc.string({ unit: 'grapheme', maxLength: 8 }).map((s) => utf8.encode(s));
  }
}

const tensorArbitrary = (name: string): fc.Arbitrary<HostTensor> =>
  fc
    .record({ datatype: fc.constantFrom(...OIP_DATATYPES), shape: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }) })
    .chain(({ datatype, shape }) =>
      fc.array(elementArbitrary(datatype), { minLength: elementCount(shape), maxLength: elementCount(shape) }).map((elements): HostTensor => {
        if (datatype === 'BYTES') return { name, datatype, shape, data: elements as Uint8Array[] };
        const data = allocateNumeric(datatype, elements.length);
        (data as unknown as unknown[]).forEach((_, i) => ((data as unknown as unknown[])[i] = elements[i]));
        return { name, datatype, shape, data };
      }),
    );

describe('infer-response-encoder', () => {
  describe('JSON encoding', () => {
    it('answers model name, version, id, parameters and outputs as JSON when no output is binary', () => {
      // Prepare
      const output: HostTensor = { name: 'y', datatype: 'FP32', shape: [1, 2], data: new Float32Array([0.5, 0.25]) };

      // Act
      const encoded = encodeInferResponse(parts([output], [], { id: 'r1', parameters: { route: 'local-wasm' } }));

      // Assess
      expect(encoded.contentType).toBe('application/json');
      expect(encoded.inferenceHeaderContentLength).toBeUndefined();
      expect(JSON.parse(encoded.body.toString('utf8'))).toEqual({
        model_name: 'm', model_version: '1', id: 'r1', parameters: { route: 'local-wasm' },
        outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 2], data: [0.5, 0.25] }],
      });
    });

    it('leaves out id and parameters when the response has none', () => {
      // Act
      const body = header(encodeInferResponse(parts([{ name: 'y', datatype: 'INT32', shape: [1], data: new Int32Array([3]) }])));

      // Assess
      expect(Object.keys(body)).toEqual(['model_name', 'model_version', 'outputs']);
    });

    it('writes FP16 as numbers, INT64 as numbers or strings past 2^53, BOOL as booleans and BYTES as strings', () => {
      // Prepare
      const outputs: HostTensor[] = [
        { name: 'h', datatype: 'FP16', shape: [3], data: new Uint16Array([0x3c00, 0xb800, 0x7bff]) },
        { name: 'i', datatype: 'INT64', shape: [3], data: new BigInt64Array([-5n, 2n ** 53n, -(2n ** 63n)]) },
        { name: 'u', datatype: 'UINT64', shape: [1], data: new BigUint64Array([2n ** 64n - 1n]) },
        { name: 'b', datatype: 'BOOL', shape: [2], data: new Uint8Array([1, 0]) },
        { name: 's', datatype: 'BYTES', shape: [2], data: [utf8.encode('héllo'), new Uint8Array(0)] },
      ];

      // Act
      const body = header(encodeInferResponse(parts(outputs)));

      // Assess
      expect(body.outputs.map((o) => o.data)).toEqual([
        [1, -0.5, 65504],
        [-5, '9007199254740992', '-9223372036854775808'],
        ['18446744073709551615'],
        [true, false],
        ['héllo', ''],
      ]);
    });

    it('writes non-finite floats as "NaN", "Infinity" and "-Infinity" strings for FP16, FP32 and FP64', () => {
      // Prepare
      const outputs: HostTensor[] = [
        { name: 'h', datatype: 'FP16', shape: [4], data: new Uint16Array([0x7e00, 0x7c00, 0xfc00, 0x3c00]) },
        { name: 'f', datatype: 'FP32', shape: [4], data: new Float32Array([NaN, Infinity, -Infinity, 1]) },
        { name: 'd', datatype: 'FP64', shape: [4], data: new Float64Array([NaN, Infinity, -Infinity, 1]) },
      ];

      // Act
      const text = encodeInferResponse(parts(outputs)).body.toString('utf8');

      // Assess
      expect(text).not.toContain('null');
      expect(JSON.parse(text).outputs.map((o: { data: unknown[] }) => o.data)).toEqual([
        ['NaN', 'Infinity', '-Infinity', 1],
        ['NaN', 'Infinity', '-Infinity', 1],
        ['NaN', 'Infinity', '-Infinity', 1],
      ]);
    });
  });

  describe('binary encoding', () => {
    it('puts binary outputs after the JSON header with binary_data_size and the header length', () => {
      // Prepare
      const probabilities: HostTensor = { name: 'p', datatype: 'FP32', shape: [1, 3], data: new Float32Array([0.7, 0.2, 0.1]) };
      const label: HostTensor = { name: 'label', datatype: 'INT64', shape: [1], data: new BigInt64Array([2n]) };

      // Act
      const encoded = encodeInferResponse(parts([probabilities, label], ['p']));

      // Assess
      expect(encoded.contentType).toBe('application/octet-stream');
      const json = header(encoded);
      expect(json.outputs).toEqual([
        { name: 'p', datatype: 'FP32', shape: [1, 3], parameters: { binary_data_size: 12 } },
        { name: 'label', datatype: 'INT64', shape: [1], data: [2] },
      ]);
      expect(encoded.body.byteLength).toBe(encoded.inferenceHeaderContentLength! + 12);
      const tail = encoded.body.subarray(encoded.inferenceHeaderContentLength!);
      expect(Array.from(new Float32Array(new Uint8Array(tail).buffer))).toEqual(Array.from(new Float32Array([0.7, 0.2, 0.1])));
    });

    it('writes only the viewed bytes when an output is a view into a larger buffer', () => {
      // Prepare
      const backing = new Float32Array([9, 1, 2, 9]);
      const output: HostTensor = { name: 'y', datatype: 'FP32', shape: [2], data: backing.subarray(1, 3) };

      // Act
      const encoded = encodeInferResponse(parts([output], ['y']));

      // Assess
      expect(Array.from(decodeResponse(encoded)[0]!.data as Float32Array)).toEqual([1, 2]);
    });

    it('writes BYTES outputs length-prefixed in binary', () => {
      // Prepare
      const output: HostTensor = { name: 's', datatype: 'BYTES', shape: [2], data: [utf8.encode('ab'), new Uint8Array([0xff])] };

      // Act
      const encoded = encodeInferResponse(parts([output], ['s']));

      // Assess
      const tail = [...encoded.body.subarray(encoded.inferenceHeaderContentLength!)];
      expect(tail).toEqual([2, 0, 0, 0, 0x61, 0x62, 1, 0, 0, 0, 0xff]);
      expect(header(encoded).outputs[0]!.parameters).toEqual({ binary_data_size: 11 });
    });
  });

  describe('round trip through the request decoder', () => {
    it('gives back every tensor exactly when any outputs of any datatype are encoded in binary', () => {
      fc.assert(
        fc.property(fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), tensorArbitrary('a'), tensorArbitrary('b'), tensorArbitrary('c'), (binary, a, b, c) => {
          // Prepare
          const outputs = [a, b, c];
          const binaryNames = outputs.filter((_, i) => binary[i]).map((t) => t.name);
          // JSON BYTES must be UTF-8 text to survive; binary BYTES carry any bytes.
          const jsonSafe = outputs.map((t) => (t.datatype === 'BYTES' && !binaryNames.includes(t.name) ? { ...t, data: (t.data as Uint8Array[]).map((e) => utf8.encode(new TextDecoder().decode(e))) } : t));

          // Act
          const decoded = decodeResponse(encodeInferResponse(parts(jsonSafe, binaryNames)));

          // Assess
          expect(decoded.map((t) => [t.name, t.datatype, t.shape])).toEqual(jsonSafe.map((t) => [t.name, t.datatype, t.shape]));
          decoded.forEach((tensor, i) => {
            const sent = jsonSafe[i]!;
            expect(values(tensor)).toEqual(binaryNames.includes(sent.name) ? values(sent) : jsonValues(sent));
          });
        }),
        { numRuns: 500 },
      );
    });

    it.each(numericDatatypes)('gives back %s values exactly when sent as JSON (non-finite floats as strings)', (datatype) => {
      fc.assert(
        fc.property(fc.array(elementArbitrary(datatype), { minLength: 1, maxLength: 20 }), (elements) => {
          // Prepare
          const data = allocateNumeric(datatype, elements.length);
          elements.forEach((e, i) => ((data as unknown as unknown[])[i] = e));
          const tensor: HostTensor = { name: 'y', datatype, shape: [elements.length], data };

          // Act
          const decoded = decodeResponse(encodeInferResponse(parts([tensor])));

          // Assess
          expect(values(decoded[0]!)).toEqual(jsonValues(tensor));
        }),
        { numRuns: 200 },
      );
    });

    it('keeps FP16 bits when every finite half is sent as a JSON output and decoded as an FP16 input', () => {
      // Prepare: every finite half but negative zero (JSON writes -0 as 0).
      const bits = new Uint16Array(0x7c00 * 2 - 1);
      for (let i = 0; i < 0x7c00; i++) bits[i] = i;
      for (let i = 1; i < 0x7c00; i++) bits[0x7c00 + i - 1] = 0x8000 | i;

      // Act
      const decoded = decodeResponse(encodeInferResponse(parts([{ name: 'h', datatype: 'FP16', shape: [bits.length], data: bits }])));

      // Assess
      expect(decoded[0]!.data).toEqual(bits);
    });
  });
});
