/**
 * JSON as Triton's Python HTTP client writes and reads it. tritonclient.http serialises with
 * python-rapidjson (`import rapidjson as json`; `json.dumps(infer_request)` in
 * `_utils._get_inference_request`, `json.loads` in `_infer_result.InferResult`), whose
 * defaults differ from `JSON.stringify` in ways that show on the wire:
 *
 * - compact output, keys in insertion order (Python dicts keep it);
 * - `ensure_ascii=True`: every non-ASCII character is a `\uXXXX` escape with UPPERCASE hex,
 *   astral characters as a surrogate pair; controls other than \b \t \n \f \r are `\u00XX`;
 *   only `"` and `\` are escaped besides (not `/`) — rapidjson `Writer::WriteString`
 *   (Tencent/rapidjson include/rapidjson/writer.h, with the `ASCII<>` target encoding that
 *   python-rapidjson's `dumps` uses when ensure_ascii is set: rapidjson.cpp);
 * - floats are written with Python's `repr()` (rapidjson.cpp: "use Python's repr() to emit a
 *   raw value instead of writer->Double(d)"): `1.0`, `1e-05`, `1e+16`, `5.099999904632568`;
 * - NaN and ±Infinity are written as the bare literals `NaN`, `Infinity`, `-Infinity`
 *   (number_mode NM_NAN is the default) and read back the same way;
 * - integers are Python ints: any size, written and read exactly.
 *
 * JavaScript numbers do not say whether they are an int or a float, so a float is passed as a
 * {@link PyFloat}; a plain `number` is an int when it is integral (and a float otherwise),
 * a `bigint` is always an int.
 */

/** A Python float (so that `1` is written `1.0`, as Python would). */
export class PyFloat {
  constructor(readonly value: number) {}
}

export type PyJsonValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | PyFloat
  | readonly PyJsonValue[]
  | { readonly [key: string]: PyJsonValue | undefined };

const HEX = '0123456789ABCDEF';
const SHORT_ESCAPES: Readonly<Record<number, string>> = { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r', 34: '\\"', 92: '\\\\' };

/** `rapidjson.dumps(value)` with python-rapidjson's defaults. Keys whose value is `undefined` are left out. */
export function pyJsonDumps(value: PyJsonValue): string {
  if (value === null) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value).toString() : pythonFloatLiteral(value);
  if (value instanceof PyFloat) return pythonFloatLiteral(value.value);
  if (typeof value === 'string') return rapidjsonAsciiString(value);
  if (Array.isArray(value)) return `[${value.map((item) => pyJsonDumps(item)).join(',')}]`;
  const fields: string[] = [];
  for (const [key, item] of Object.entries(value as Record<string, PyJsonValue | undefined>)) {
    if (item !== undefined) fields.push(`${rapidjsonAsciiString(key)}:${pyJsonDumps(item)}`);
  }
  return `{${fields.join(',')}}`;
}

function pythonFloatLiteral(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  return pythonFloatRepr(x);
}

/**
 * Python's `repr(float)`: the shortest digits that round-trip (the same digits as
 * `Number.prototype.toString`), in fixed notation when the decimal exponent is in [-4, 16),
 * else in exponent notation with a sign and at least two exponent digits; fixed notation
 * always has a fractional part (`1.0`). CPython `float_repr` → `PyOS_double_to_string(x, 'r',
 * 0, Py_DTSF_ADD_DOT_0)`.
 */
export function pythonFloatRepr(x: number): string {
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const text = String(Math.abs(x));
  const [mantissa, exponentText] = text.split('e') as [string, string | undefined];
  const [integerPart, fractionPart = ''] = mantissa.split('.') as [string, string | undefined];
  let digits = integerPart + fractionPart;
  // Position of the decimal point counted from the first digit.
  let point = integerPart.length + (exponentText === undefined ? 0 : Number(exponentText));
  const leadingZeros = digits.length - digits.replace(/^0+/, '').length;
  digits = digits.slice(leadingZeros).replace(/0+$/, '');
  point -= leadingZeros;
  if (point > -4 && point <= 16) {
    if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
    if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}.0`;
    return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
  }
  const exponent = point - 1;
  const head = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${sign}${head}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
}

function rapidjsonAsciiString(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    const short = SHORT_ESCAPES[unit];
    if (short !== undefined) out += short;
    else if (unit < 0x20 || unit >= 0x80) out += `\\u${HEX[(unit >> 12) & 15]}${HEX[(unit >> 8) & 15]}${HEX[(unit >> 4) & 15]}${HEX[unit & 15]}`;
    else out += text[i];
  }
  return `${out}"`;
}

/** A parsed JSON value as Python would hold it: ints past 2^53 as `bigint`, floats and safe ints as `number`. */
export type PyParsed = null | boolean | number | bigint | string | PyParsed[] | { [key: string]: PyParsed };

/**
 * `rapidjson.loads(text)` with python-rapidjson's defaults: strict JSON plus the literals
 * `NaN`, `Infinity` and `-Infinity`; integers of any size kept exact (as `bigint` when they are
 * not safe JavaScript integers); a repeated key keeps its last value (a Python dict). Throws a
 * SyntaxError naming the offset on anything else.
 */
export function pyJsonLoads(text: string): PyParsed {
  const parser = new StrictJsonParser(text);
  const value = parser.value();
  parser.end();
  return value;
}

class StrictJsonParser {
  private at = 0;
  constructor(private readonly text: string) {}

  end(): void {
    this.skipSpace();
    if (this.at !== this.text.length) this.fail('unexpected content after the JSON value');
  }

  value(): PyParsed {
    this.skipSpace();
    const c = this.text[this.at];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    if (c === 't') return this.literal('true', true);
    if (c === 'f') return this.literal('false', false);
    if (c === 'n') return this.literal('null', null);
    if (c === 'N') return this.literal('NaN', NaN);
    if (c === 'I') return this.literal('Infinity', Infinity);
    if (c === '-' && this.text.startsWith('-Infinity', this.at)) return this.literal('-Infinity', -Infinity);
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    return this.fail('expected a JSON value');
  }

  private object(): { [key: string]: PyParsed } {
    const out: { [key: string]: PyParsed } = {};
    this.at++;
    this.skipSpace();
    if (this.text[this.at] === '}') {
      this.at++;
      return out;
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.at] !== '"') this.fail('expected a string key');
      const key = this.string();
      this.skipSpace();
      if (this.text[this.at] !== ':') this.fail("expected ':'");
      this.at++;
      Object.defineProperty(out, key, { value: this.value(), enumerable: true, writable: true, configurable: true });
      this.skipSpace();
      const c = this.text[this.at++];
      if (c === '}') return out;
      if (c !== ',') this.fail("expected ',' or '}'", this.at - 1);
    }
  }

  private array(): PyParsed[] {
    const out: PyParsed[] = [];
    this.at++;
    this.skipSpace();
    if (this.text[this.at] === ']') {
      this.at++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.skipSpace();
      const c = this.text[this.at++];
      if (c === ']') return out;
      if (c !== ',') this.fail("expected ',' or ']'", this.at - 1);
    }
  }

  private string(): string {
    const start = ++this.at;
    let out = '';
    let chunkStart = start;
    for (;;) {
      const unit = this.text.charCodeAt(this.at);
      if (Number.isNaN(unit)) this.fail('unterminated string', start - 1);
      if (unit === 0x22) break;
      if (unit < 0x20) this.fail('control character in a string');
      if (unit !== 0x5c) {
        this.at++;
        continue;
      }
      out += this.text.slice(chunkStart, this.at);
      const escape = this.text[this.at + 1];
      const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
      if (escape !== undefined && simple[escape] !== undefined) {
        out += simple[escape];
        this.at += 2;
      } else if (escape === 'u' && /^[0-9a-fA-F]{4}$/.test(this.text.slice(this.at + 2, this.at + 6))) {
        out += String.fromCharCode(parseInt(this.text.slice(this.at + 2, this.at + 6), 16));
        this.at += 6;
      } else {
        this.fail('invalid escape');
      }
      chunkStart = this.at;
    }
    out += this.text.slice(chunkStart, this.at);
    this.at++;
    return out;
  }

  private number(): number | bigint {
    const match = /^-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.text.slice(this.at, this.at + 400));
    if (!match) return this.fail('invalid number');
    this.at += match[0].length;
    if (match[1] === undefined && match[2] === undefined) {
      const big = BigInt(match[0]);
      return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
    }
    return Number(match[0]);
  }

  private literal<T extends PyParsed>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.at)) this.fail(`expected '${word}'`);
    this.at += word.length;
    return value;
  }

  private skipSpace(): void {
    while (this.at < this.text.length && ' \t\n\r'.includes(this.text[this.at]!)) this.at++;
  }

  private fail(message: string, at = this.at): never {
    throw new SyntaxError(`JSON parse error at offset ${at}: ${message}`);
  }
}
