import fc from 'fast-check';
import {
  allocateNumeric,
  bytesPerElement,
  float32ToHalfBits,
  halfBitsToFloat32,
  isFloatDatatype,
  isOipDatatype,
  jsonElementToStored,
  numericView,
  storedToJson,
} from '../../../lib/protocol/datatypes';
import { InvalidRequestError } from '../../../lib/errors/hotpath-error';
import { OIP_DATATYPES, type OipDatatype } from '../../../lib/protocol/tensor';
import { refusal } from '../../support/expect-refusal';

type NumericDatatype = Exclude<OipDatatype, 'BYTES'>;

// ---------- an independent binary16 reference ----------

/** binary16 value of non-negative bits (no NaN), written from the IEEE 754 definition, not from the unit. */
function referenceHalfValue(bits: number): number {
  const exponent = bits >> 10;
  const fraction = bits & 0x3ff;
  if (exponent === 0x1f) return Infinity;
  return exponent === 0 ? fraction * 2 ** -24 : (1024 + fraction) * 2 ** (exponent - 25);
}

/** Every finite non-negative half value by bits (0x0000..0x7bff), plus 65536 in the infinity slot: rounding to it means overflow. */
const HALF_TABLE: number[] = Array.from({ length: 0x7c01 }, (_, bits) => (bits === 0x7c00 ? 65536 : referenceHalfValue(bits)));

/** Round a double straight to binary16 bits (nearest, ties to even), by search in the table of all halves. */
function referenceToHalf(x: number): number {
  if (Number.isNaN(x)) return -1; // checked separately: any NaN pattern
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65536) return sign | 0x7c00;
  let lo = 0;
  let hi = 0x7c00;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (HALF_TABLE[mid]! <= a) lo = mid;
    else hi = mid;
  }
  if (HALF_TABLE[lo] === a) return sign | lo;
  const below = a - HALF_TABLE[lo]!;
  const above = HALF_TABLE[hi]! - a;
  if (below < above) return sign | lo;
  if (above < below) return sign | hi;
  return sign | (lo % 2 === 0 ? lo : hi);
}

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);
/** The next double towards +Infinity (x > 0 finite). */
function nextUp(x: number): number {
  f64[0] = x;
  u64[0] = u64[0]! + 1n;
  return f64[0];
}
/** The next double towards 0 (x > 0 finite). */
function nextDown(x: number): number {
  f64[0] = x;
  u64[0] = u64[0]! - 1n;
  return f64[0];
}

function isHalfNaN(bits: number): boolean {
  return (bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0;
}


const where = () => "input 'x' element 3";

describe('datatypes', () => {
  describe('halfBitsToFloat32', () => {
    it('decodes known bit patterns when given normals, subnormals, zeros and infinities', () => {
      // Prepare
      const known: [number, number][] = [
        [0x3c00, 1], [0xc000, -2], [0x3555, 0.333251953125], [0x7bff, 65504], [0xfbff, -65504],
        [0x0400, 2 ** -14], [0x03ff, 1023 * 2 ** -24], [0x0001, 2 ** -24], [0x8001, -(2 ** -24)],
        [0x0000, 0], [0x7c00, Infinity], [0xfc00, -Infinity], [0x3bff, 1 - 2 ** -11],
      ];

      // Act
      const decoded = known.map(([bits]) => halfBitsToFloat32(bits));

      // Assess
      expect(decoded).toEqual(known.map(([, value]) => value));
      expect(Object.is(halfBitsToFloat32(0x8000), -0)).toBe(true);
      expect(Object.is(halfBitsToFloat32(0x0000), 0)).toBe(true);
    });

    it('decodes NaN when the exponent is all ones and the mantissa is not zero', () => {
      // Prepare
      const nans = [0x7e00, 0x7c01, 0xfe00, 0x7fff];

      // Act
      const decoded = nans.map(halfBitsToFloat32);

      // Assess
      expect(decoded.every(Number.isNaN)).toBe(true);
    });

    it('matches the reference and is exact in binary32 when given every one of the 65536 patterns', () => {
      // Prepare
      const mismatches: number[] = [];

      // Act
      for (let bits = 0; bits <= 0xffff; bits++) {
        if (isHalfNaN(bits)) continue;
        const value = halfBitsToFloat32(bits);
        const expected = (bits & 0x8000 ? -1 : 1) * referenceHalfValue(bits & 0x7fff);
        if (!Object.is(value, expected) || Math.fround(value) !== value) mismatches.push(bits);
      }

      // Assess
      expect(mismatches).toEqual([]);
    });
  });

  describe('float32ToHalfBits', () => {
    it('round-trips every non-NaN half pattern when given its decoded value', () => {
      // Prepare
      const mismatches: number[] = [];

      // Act
      for (let bits = 0; bits <= 0xffff; bits++) {
        if (isHalfNaN(bits)) continue;
        if (float32ToHalfBits(halfBitsToFloat32(bits)) !== bits) mismatches.push(bits);
      }

      // Assess
      expect(mismatches).toEqual([]);
    });

    it('keeps the sign of zero and infinities and gives a NaN pattern when given ±0, ±Infinity and NaN', () => {
      // Act
      const results = [0, -0, Infinity, -Infinity].map(float32ToHalfBits);
      const nan = float32ToHalfBits(NaN);

      // Assess
      expect(results).toEqual([0x0000, 0x8000, 0x7c00, 0xfc00]);
      expect(isHalfNaN(nan)).toBe(true);
    });

    it('rounds ties to even when given values exactly between two halves', () => {
      // Prepare
      const ties: [number, number][] = [
        [1 + 2 ** -11, 0x3c00], // between 0x3c00 (even) and 0x3c01
        [1 + 3 * 2 ** -11, 0x3c02], // between 0x3c01 and 0x3c02 (even)
        [65520, 0x7c00], // between 65504 (0x7bff, odd) and the overflow slot: infinity
        [2 ** -25, 0x0000], // between 0 and the smallest subnormal
        [3 * 2 ** -25, 0x0002], // between subnormals 1 and 2
        [-(1 + 2 ** -11), 0xbc00],
      ];

      // Act
      const results = ties.map(([value]) => float32ToHalfBits(value));

      // Assess
      expect(results).toEqual(ties.map(([, bits]) => bits));
    });

    it('overflows to infinity and underflows to signed zero when given values past the half range', () => {
      // Act
      const results = [nextDown(65520), 65536, 1e6, 1e300, -1e300, nextDown(2 ** -25), -(2 ** -30), 1e-300].map(float32ToHalfBits);

      // Assess
      expect(results).toEqual([0x7bff, 0x7c00, 0x7c00, 0x7c00, 0xfc00, 0x0000, 0x8000, 0x0000]);
    });

    it('rounds a double just off a tie the way its lost bits say when binary32 would round it onto the tie', () => {
      // Prepare: each is a double that binary32 rounds to an exact half-way point.
      const cases: [number, number][] = [
        [nextUp(1 + 2 ** -11), 0x3c01],
        [nextDown(1 + 3 * 2 ** -11), 0x3c01],
        [nextUp(2 ** -25), 0x0001],
        [nextDown(65520), 0x7bff],
        [-nextUp(1 + 2 ** -11), 0xbc01],
      ];

      // Act
      const results = cases.map(([value]) => float32ToHalfBits(value));

      // Assess
      expect(results).toEqual(cases.map(([, bits]) => bits));
    });

    it('matches direct round-to-nearest-even when given any binary32 value (Math.fround)', () => {
      fc.assert(
        fc.property(fc.double({ noNaN: true }).map(Math.fround), (value) => {
          expect(float32ToHalfBits(value)).toBe(referenceToHalf(value));
        }),
        { numRuns: 20000 },
      );
    });

    it('matches direct round-to-nearest-even when given any double in the half range', () => {
      fc.assert(
        fc.property(fc.double({ min: -70000, max: 70000, noNaN: true }), (value) => {
          expect(float32ToHalfBits(value)).toBe(referenceToHalf(value));
        }),
        { numRuns: 20000 },
      );
    });

    it('rounds to even at every tie and away from it one double off when given any two neighbouring halves', () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 0x7bfe }), fc.boolean(), (low, negative) => {
          // Prepare
          const tie = (HALF_TABLE[low]! + HALF_TABLE[low + 1]!) / 2;
          const sign = negative ? -1 : 1;
          const signBit = negative ? 0x8000 : 0;
          const even = low % 2 === 0 ? low : low + 1;

          // Act
          const atTie = float32ToHalfBits(sign * tie);
          const justAbove = float32ToHalfBits(sign * nextUp(tie));
          const justBelow = float32ToHalfBits(sign * nextDown(tie));

          // Assess
          expect(atTie).toBe(signBit | even);
          expect(justAbove).toBe(signBit | (low + 1));
          expect(justBelow).toBe(signBit | low);
        }),
        { numRuns: 5000 },
      );
    });
  });

  describe('jsonElementToStored', () => {
    const ranges: [NumericDatatype, number, number][] = [
      ['UINT8', 0, 255], ['UINT16', 0, 65535], ['UINT32', 0, 4294967295],
      ['INT8', -128, 127], ['INT16', -32768, 32767], ['INT32', -2147483648, 2147483647],
    ];

    it.each(ranges)('accepts the bounds of %s when given its min and max', (datatype, min, max) => {
      // Act
      const stored = [jsonElementToStored(datatype, min, where), jsonElementToStored(datatype, max, where)];

      // Assess
      expect(stored).toEqual([min, max]);
    });

    it.each(ranges)('refuses %s values one past either bound with the range in the message', (datatype, min, max) => {
      // Act
      const below = refusal(() => jsonElementToStored(datatype, min - 1, where));
      const above = refusal(() => jsonElementToStored(datatype, max + 1, where));

      // Assess
      expect(below.message).toBe(`input 'x' element 3: ${min - 1} is out of range for ${datatype} [${min}, ${max}]`);
      expect(above.message).toBe(`input 'x' element 3: ${max + 1} is out of range for ${datatype} [${min}, ${max}]`);
      expect(below.status).toBe(400);
    });

    it.each(ranges.map(([d]) => d))('refuses fractions, strings, booleans and null for %s naming the element', (datatype) => {
      // Act
      const messages = [1.5, '7', true, null, [1]].map((value) => refusal(() => jsonElementToStored(datatype, value, where)).message);

      // Assess
      expect(messages).toEqual([
        `input 'x' element 3: expected an integer for ${datatype}, got 1.5`,
        `input 'x' element 3: expected an integer for ${datatype}, got the string "7"`,
        `input 'x' element 3: expected an integer for ${datatype}, got true`,
        `input 'x' element 3: expected an integer for ${datatype}, got null`,
        `input 'x' element 3: expected an integer for ${datatype}, got an array`,
      ]);
    });

    it('takes 64-bit integers as numbers or decimal strings and keeps them exact as BigInt', () => {
      // Act
      const stored = [
        jsonElementToStored('INT64', '9223372036854775807', where),
        jsonElementToStored('INT64', '-9223372036854775808', where),
        jsonElementToStored('INT64', -42, where),
        jsonElementToStored('UINT64', '18446744073709551615', where),
        jsonElementToStored('UINT64', 0, where),
      ];

      // Assess
      expect(stored).toEqual([2n ** 63n - 1n, -(2n ** 63n), -42n, 2n ** 64n - 1n, 0n]);
    });

    it('refuses 64-bit integers out of range, fractional or not decimal when given them', () => {
      // Act
      const messages = [
        refusal(() => jsonElementToStored('INT64', '9223372036854775808', where)).message,
        refusal(() => jsonElementToStored('INT64', '-9223372036854775809', where)).message,
        refusal(() => jsonElementToStored('UINT64', '18446744073709551616', where)).message,
        refusal(() => jsonElementToStored('UINT64', -1, where)).message,
        refusal(() => jsonElementToStored('INT64', 1.5, where)).message,
        refusal(() => jsonElementToStored('INT64', '1e3', where)).message,
        refusal(() => jsonElementToStored('UINT64', '0x10', where)).message,
      ];

      // Assess
      expect(messages).toEqual([
        "input 'x' element 3: 9223372036854775808 is out of range for INT64",
        "input 'x' element 3: -9223372036854775809 is out of range for INT64",
        "input 'x' element 3: 18446744073709551616 is out of range for UINT64",
        "input 'x' element 3: -1 is out of range for UINT64",
        "input 'x' element 3: expected an integer for INT64, got 1.5",
        'input \'x\' element 3: expected an integer for INT64, got the string "1e3"',
        'input \'x\' element 3: expected an integer for UINT64, got the string "0x10"',
      ]);
    });

    it('round-trips any INT64 and UINT64 through its decimal string and storedToJson', () => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((v) => ['INT64', v] as const),
            fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((v) => ['UINT64', v] as const),
          ),
          ([datatype, value]) => {
            // Act
            const stored = jsonElementToStored(datatype, value.toString(), where);
            const json = storedToJson(datatype, stored);

            // Assess
            expect(stored).toBe(value);
            const safe = value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER);
            expect(json).toEqual(safe ? Number(value) : value.toString());
            expect(jsonElementToStored(datatype, json, where)).toBe(value);
          },
        ),
      );
    });

    it('takes true/false and 0/1 for BOOL and refuses anything else', () => {
      // Act
      const stored = [true, false, 1, 0].map((v) => jsonElementToStored('BOOL', v, where));
      const messages = [2, 'true', null].map((v) => refusal(() => jsonElementToStored('BOOL', v, where)).message);

      // Assess
      expect(stored).toEqual([1, 0, 1, 0]);
      expect(messages).toEqual([
        "input 'x' element 3: expected true or false for BOOL, got 2",
        'input \'x\' element 3: expected true or false for BOOL, got the string "true"',
        "input 'x' element 3: expected true or false for BOOL, got null",
      ]);
    });

    it.each(['FP16', 'FP32', 'FP64'] as const)('takes "NaN", "Infinity", "+Infinity" and "-Infinity" for %s', (datatype) => {
      // Act
      const stored = ['NaN', 'Infinity', '+Infinity', '-Infinity'].map((v) => jsonElementToStored(datatype, v, where) as number);
      const asNumbers = datatype === 'FP16' ? stored.map(halfBitsToFloat32) : stored;

      // Assess
      expect(asNumbers).toEqual([NaN, Infinity, Infinity, -Infinity]);
    });

    it.each(['FP16', 'FP32', 'FP64'] as const)('refuses other strings, booleans and null for %s naming the element', (datatype) => {
      // Act
      const messages = ['nan', '1.5', false, null].map((v) => refusal(() => jsonElementToStored(datatype, v, where)).message);

      // Assess
      expect(messages).toEqual([
        `input 'x' element 3: expected a number for ${datatype}, got the string "nan"`,
        `input 'x' element 3: expected a number for ${datatype}, got the string "1.5"`,
        `input 'x' element 3: expected a number for ${datatype}, got false`,
        `input 'x' element 3: expected a number for ${datatype}, got null`,
      ]);
    });

    it('shortens long strings in the message when given one', () => {
      // Act
      const message = refusal(() => jsonElementToStored('FP32', 'x'.repeat(100), where)).message;

      // Assess
      expect(message).toBe(`input 'x' element 3: expected a number for FP32, got the string "${'x'.repeat(32)}…"`);
    });

    it('stores FP16 as rounded half bits when given a number', () => {
      // Act
      const stored = [1, -2, 0.1, 65504, 1e5].map((v) => jsonElementToStored('FP16', v, where));

      // Assess
      expect(stored).toEqual([0x3c00, 0xc000, 0x2e66, 0x7bff, 0x7c00]);
    });
  });

  describe('storedToJson', () => {
    it('turns non-finite floats into strings when given NaN or ±Infinity for FP16, FP32 and FP64', () => {
      // Act
      const fp16 = [0x7e00, 0x7c00, 0xfc00].map((bits) => storedToJson('FP16', bits));
      const fp32 = [NaN, Infinity, -Infinity].map((v) => storedToJson('FP32', v));
      const fp64 = [NaN, Infinity, -Infinity].map((v) => storedToJson('FP64', v));

      // Assess
      expect(fp16).toEqual(['NaN', 'Infinity', '-Infinity']);
      expect(fp32).toEqual(['NaN', 'Infinity', '-Infinity']);
      expect(fp64).toEqual(['NaN', 'Infinity', '-Infinity']);
    });

    it('gives numbers, booleans and safe 64-bit integers as JSON values when given finite stored values', () => {
      // Act
      const values = [
        storedToJson('FP16', 0x3c00), storedToJson('FP32', 1.5), storedToJson('BOOL', 1), storedToJson('BOOL', 0),
        storedToJson('INT64', 2n ** 53n - 1n), storedToJson('INT64', 2n ** 53n), storedToJson('UINT8', 255),
      ];

      // Assess
      expect(values).toEqual([1, 1.5, true, false, 9007199254740991, '9007199254740992', 255]);
    });
  });

  describe('numericView', () => {
    const numeric = OIP_DATATYPES.filter((d): d is NumericDatatype => d !== 'BYTES');

    it.each(numeric)('views %s without copying when the offset is aligned to the element size', (datatype) => {
      // Prepare
      const width = bytesPerElement(datatype)!;
      const bytes = new Uint8Array(width * 4);
      for (let i = 0; i < bytes.length; i++) bytes[i] = i + 1;

      // Act
      const view = numericView(datatype, bytes, width, 2);

      // Assess
      expect(view.buffer).toBe(bytes.buffer);
      expect(view.byteOffset).toBe(width);
      expect(new Uint8Array(view.buffer, view.byteOffset, view.byteLength)).toEqual(bytes.subarray(width, width * 3));
    });

    it.each(numeric.filter((d) => bytesPerElement(d)! > 1))('copies %s into an aligned array with the same values when the offset is unaligned', (datatype) => {
      // Prepare
      const width = bytesPerElement(datatype)!;
      const source = allocateNumeric(datatype, 3);
      const sourceBytes = new Uint8Array(source.buffer);
      for (let i = 0; i < sourceBytes.length; i++) sourceBytes[i] = (i * 37 + 11) & 0xff;
      const body = new Uint8Array(1 + sourceBytes.length);
      body.set(sourceBytes, 1);

      // Act
      const view = numericView(datatype, body, 1, 3);

      // Assess
      expect(view.buffer).not.toBe(body.buffer);
      expect(view.byteOffset % width).toBe(0);
      expect(Array.from(view as ArrayLike<number | bigint>)).toEqual(Array.from(source as ArrayLike<number | bigint>));
    });

    it('reads the right values at any offset into a subarray whose own byteOffset is odd', () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...numeric),
          fc.integer({ min: 0, max: 7 }),
          fc.integer({ min: 0, max: 7 }),
          fc.uint8Array({ minLength: 64, maxLength: 64 }),
          (datatype, outerOffset, innerOffset, payload) => {
            // Prepare: the expected values, read through an aligned copy.
            const width = bytesPerElement(datatype)!;
            const count = Math.floor(32 / width);
            const expected = allocateNumeric(datatype, count);
            new Uint8Array(expected.buffer).set(payload.subarray(0, count * width));
            const outer = new Uint8Array(8 + 8 + 64);
            outer.set(payload, outerOffset + innerOffset);
            const bytes = outer.subarray(outerOffset);

            // Act
            const view = numericView(datatype, bytes, innerOffset, count);

            // Assess
            const aligned = (outerOffset + innerOffset) % width === 0;
            expect(view.buffer === outer.buffer).toBe(aligned);
            expect(Array.from(view as ArrayLike<number | bigint>)).toEqual(Array.from(expected as ArrayLike<number | bigint>));
          },
        ),
      );
    });
    it('refuses a view past the end of the given bytes even when their buffer goes on (the next tensor\'s bytes)', () => {
      // Prepare: 8 bytes of a 16-byte buffer.
      const bytes = new Uint8Array(new ArrayBuffer(16), 0, 8);

      // Act / Assess
      expect(() => numericView('FP32', bytes, 4, 2)).toThrow(RangeError);
      expect(() => numericView('FP32', bytes, 0, -1)).toThrow(RangeError);
      expect(Array.from(numericView('FP32', bytes, 4, 1) as Float32Array)).toEqual([0]);
    });
  });

  describe('type helpers', () => {
    it('gives the Triton binary element width per datatype and none for BYTES', () => {
      // Act
      const widths = Object.fromEntries(OIP_DATATYPES.map((d) => [d, bytesPerElement(d)]));

      // Assess
      expect(widths).toEqual({
        BOOL: 1, UINT8: 1, UINT16: 2, UINT32: 4, UINT64: 8, INT8: 1, INT16: 2, INT32: 4, INT64: 8,
        FP16: 2, FP32: 4, FP64: 8, BYTES: undefined,
      });
    });

    it('recognises protocol datatypes and float datatypes when given names', () => {
      // Act
      const known = ['FP32', 'BYTES', 'fp32', 'FLOAT', 'INT128', 7, undefined].map(isOipDatatype);
      const floats = OIP_DATATYPES.filter(isFloatDatatype);

      // Assess
      expect(known).toEqual([true, true, false, false, false, false, false]);
      expect(floats).toEqual(['FP16', 'FP32', 'FP64']);
    });

    it('allocates zeroed storage of the datatype when given a length', () => {
      // Act
      const arrays = (['BOOL', 'FP16', 'INT64', 'UINT64', 'FP32'] as const).map((d) => allocateNumeric(d, 3));

      // Assess
      expect(arrays.map((a) => a.constructor.name)).toEqual(['Uint8Array', 'Uint16Array', 'BigInt64Array', 'BigUint64Array', 'Float32Array']);
      expect(arrays.every((a) => a.length === 3)).toBe(true);
    });
  });
});
