import { InvalidRequestError } from '../errors/hotpath-error';
import { OIP_DATATYPES, type NumericTensorData, type OipDatatype } from './tensor';

type NumericDatatype = Exclude<OipDatatype, 'BYTES'>;

interface TypedArrayConstructorLike {
  new (length: number): NumericTensorData;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): NumericTensorData;
  readonly BYTES_PER_ELEMENT: number;
}

const STORAGE: Record<NumericDatatype, TypedArrayConstructorLike> = {
  BOOL: Uint8Array, UINT8: Uint8Array, UINT16: Uint16Array, UINT32: Uint32Array, UINT64: BigUint64Array,
  INT8: Int8Array, INT16: Int16Array, INT32: Int32Array, INT64: BigInt64Array,
  FP16: Uint16Array, FP32: Float32Array, FP64: Float64Array,
};

/** Inclusive integer range per integer datatype (64-bit ones are checked as BigInt). */
const INTEGER_RANGE: Partial<Record<OipDatatype, readonly [number, number]>> = {
  UINT8: [0, 255], UINT16: [0, 65535], UINT32: [0, 4294967295],
  INT8: [-128, 127], INT16: [-32768, 32767], INT32: [-2147483648, 2147483647],
};

export function isOipDatatype(value: unknown): value is OipDatatype {
  return typeof value === 'string' && (OIP_DATATYPES as readonly string[]).includes(value);
}

export function isFloatDatatype(datatype: OipDatatype): boolean {
  return datatype === 'FP16' || datatype === 'FP32' || datatype === 'FP64';
}

/** Bytes per element in Triton's binary encoding, or undefined for BYTES (length-prefixed). */
export function bytesPerElement(datatype: OipDatatype): number | undefined {
  return datatype === 'BYTES' ? undefined : STORAGE[datatype].BYTES_PER_ELEMENT;
}

export function allocateNumeric(datatype: NumericDatatype, length: number): NumericTensorData {
  return new STORAGE[datatype](length);
}

/**
 * A typed-array view of `length` elements at `byteOffset` of `bytes` (little-endian, as
 * Triton's binary extension and every Lambda CPU are). Zero-copy when the offset is
 * aligned to the element size; otherwise one copy, because typed arrays cannot be unaligned.
 */
export function numericView(datatype: NumericDatatype, bytes: Uint8Array, byteOffset: number, length: number): NumericTensorData {
  const Storage = STORAGE[datatype];
  // `bytes` is often a window of a larger body: a view past its end would read the next tensor's bytes.
  if (!Number.isSafeInteger(length) || length < 0 || byteOffset < 0 || byteOffset + length * Storage.BYTES_PER_ELEMENT > bytes.byteLength) {
    throw new RangeError(`numericView: ${length} ${datatype} elements at byte ${byteOffset} run past the ${bytes.byteLength} bytes given`);
  }
  const absolute = bytes.byteOffset + byteOffset;
  if (absolute % Storage.BYTES_PER_ELEMENT === 0) return new Storage(bytes.buffer, absolute, length);
  const copy = new Uint8Array(length * Storage.BYTES_PER_ELEMENT);
  copy.set(bytes.subarray(byteOffset, byteOffset + copy.byteLength));
  return new Storage(copy.buffer, 0, length);
}

/**
 * Converts one JSON element to its stored value, or throws a message naming the input and
 * element. FP inputs also take the strings "NaN", "Infinity" and "-Infinity" (JSON has no
 * literal for them); 64-bit integers take decimal strings for values past 2^53.
 */
export function jsonElementToStored(datatype: NumericDatatype, value: unknown, where: () => string): number | bigint {
  switch (datatype) {
    case 'BOOL':
      if (typeof value === 'boolean') return value ? 1 : 0;
      if (value === 0 || value === 1) return value;
      throw new InvalidRequestError(`${where()}: expected true or false for BOOL, got ${describe(value)}`);
    case 'FP16':
    case 'FP32':
    case 'FP64': {
      const n = toFloat(value);
      if (n === undefined) throw new InvalidRequestError(`${where()}: expected a number for ${datatype}, got ${describe(value)}`);
      return datatype === 'FP16' ? float32ToHalfBits(n) : n;
    }
    case 'INT64':
    case 'UINT64': {
      const big = toBigInt(value);
      if (big === undefined) throw new InvalidRequestError(`${where()}: expected an integer for ${datatype}, got ${describe(value)}`);
      const [min, max] = datatype === 'INT64' ? [-(2n ** 63n), 2n ** 63n - 1n] : [0n, 2n ** 64n - 1n];
      if (big < min || big > max) throw new InvalidRequestError(`${where()}: ${big} is out of range for ${datatype}`);
      return big;
    }
    default: {
      const [min, max] = INTEGER_RANGE[datatype]!;
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        throw new InvalidRequestError(`${where()}: expected an integer for ${datatype}, got ${describe(value)}`);
      }
      if (value < min || value > max) throw new InvalidRequestError(`${where()}: ${value} is out of range for ${datatype} [${min}, ${max}]`);
      return value;
    }
  }
}

/** A stored element as a JSON value: FP16 bits back to a number, 64-bit integers as numbers when exact, else strings. */
export function storedToJson(datatype: OipDatatype, value: number | bigint): number | string | boolean {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  }
  if (datatype === 'BOOL') return value !== 0;
  const n = datatype === 'FP16' ? halfBitsToFloat32(value) : value;
  if (Number.isFinite(n)) return n;
  return Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity';
}

function toFloat(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (value === 'NaN') return NaN;
  if (value === 'Infinity' || value === '+Infinity') return Infinity;
  if (value === '-Infinity') return -Infinity;
  return undefined;
}

function toBigInt(value: unknown): bigint | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  return undefined;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 32 ? value.slice(0, 32) + '…' : value)}`;
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : String(value);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * A number → IEEE 754 binary16 bits, round to nearest even, with overflow to infinity and
 * subnormals. Goes through binary32 bits; when that step rounded a double (JSON numbers are
 * doubles), a remainder exactly half-way is not a real tie, so `sticky` breaks it the way the
 * double's lost bits say (direct rounding, as numpy's float64 → float16).
 */
export function float32ToHalfBits(value: number): number {
  f32[0] = value;
  const rounded = f32[0]!;
  const sticky = rounded === value ? 0 : Math.abs(value) > Math.abs(rounded) ? 1 : -1;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    if (halfExponent < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - halfExponent;
    let half = mantissa >>> shift;
    const remainder = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (remainder > halfway || (remainder === halfway && roundsUpAtTie(sticky, half))) half++;
    return sign | half;
  }
  let half = (halfExponent << 10) | (mantissa >>> 13);
  const remainder = mantissa & 0x1fff;
  if (remainder > 0x1000 || (remainder === 0x1000 && roundsUpAtTie(sticky, half))) half++;
  return sign | half;
}

function roundsUpAtTie(sticky: number, half: number): boolean {
  return sticky > 0 || (sticky === 0 && (half & 1) === 1);
}

/** IEEE 754 binary16 bits → number. */
export function halfBitsToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}
