import { ModelRepositoryError } from './model-repository-error';

/** Where a token starts in the file (1-based), for messages such as `config.pbtxt:4:3: ...`. */
export interface TextPosition {
  readonly line: number;
  readonly column: number;
}

/** A value as written: the schema-aware reader (triton-model-config.ts) decides what it means. */
export type TextValue =
  | { readonly kind: 'string'; readonly value: string; readonly at: TextPosition }
  | { readonly kind: 'number'; readonly value: number; readonly text: string; readonly at: TextPosition }
  | { readonly kind: 'identifier'; readonly value: string; readonly at: TextPosition }
  | { readonly kind: 'message'; readonly fields: readonly TextField[]; readonly at: TextPosition };

/** One occurrence of a field; list syntax (`dims: [1, 2]`, `input [{...}, {...}]`) gives one per element. */
export interface TextField {
  readonly name: string;
  readonly value: TextValue;
  readonly at: TextPosition;
}

type TokenKind = 'identifier' | 'string' | 'number' | 'punct' | 'end';
interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  /** Strings: the unescaped value. */
  readonly value?: string;
  readonly at: TextPosition;
}

// '.' and '/' only appear in extension names ([type.googleapis.com/x]), which the parser refuses by name.
const PUNCTUATION = new Set(['{', '}', '[', ']', '<', '>', ':', ',', ';', '-', '.', '/']);
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', '\\': '\\', "'": "'", '"': '"', '?': '?' };

/**
 * Parses protobuf text format (what Triton's `config.pbtxt` is written in) into fields with
 * positions, without a schema. Strict: anything the text format does not allow is an error that
 * names the file, line and column; extension and Any fields (`[type.googleapis.com/...]`), which
 * no Triton model config uses, are refused.
 *
 * Written here rather than taken from a package: protobufjs has no text format, @bufbuild/protobuf's
 * needs the message's compiled descriptor (Triton's model_config.proto, which no package ships),
 * and prototxt-parser is schema-less and tells neither repeated fields nor enums from strings.
 *
 * @example
 * const fields = parseTextProto('max_batch_size: 8\ninput [{ name: "x" dims: [4] }]', 'config.pbtxt');
 * // [{ name: 'max_batch_size', value: { kind: 'number', value: 8, ... } }, { name: 'input', value: { kind: 'message', ... } }]
 */
export function parseTextProto(text: string, file: string): TextField[] {
  const tokens = tokenize(text, file);
  let index = 0;
  const peek = (): Token => tokens[index]!;
  const next = (): Token => tokens[index++]!;
  const fail = (token: Token, what: string): never => {
    throw new ModelRepositoryError(`${file}:${token.at.line}:${token.at.column}: ${what}`, { file });
  };
  const describe = (token: Token): string => (token.kind === 'end' ? 'the end of the file' : `'${token.text}'`);
  const isPunct = (token: Token, text: string): boolean => token.kind === 'punct' && token.text === text;

  function parseFields(closer: string | undefined): TextField[] {
    const fields: TextField[] = [];
    for (;;) {
      const token = peek();
      if (closer === undefined ? token.kind === 'end' : isPunct(token, closer)) return fields;
      if (token.kind === 'end') fail(token, `expected a field name or '${closer}', found the end of the file (a '{' or '<' is not closed)`);
      if (isPunct(token, '[')) fail(token, 'extension and Any fields ([...]) are not part of a Triton model config; remove it');
      if (token.kind !== 'identifier') fail(token, `expected a field name, found ${describe(token)}`);
      next();
      fields.push(...parseFieldValue(token));
      const separator = peek();
      if (isPunct(separator, ',') || isPunct(separator, ';')) next();
    }
  }

  function parseFieldValue(name: Token): TextField[] {
    const colon = isPunct(peek(), ':');
    if (colon) next();
    const start = peek();
    if (isPunct(start, '[')) {
      next();
      const values: TextValue[] = [];
      if (!isPunct(peek(), ']')) {
        for (;;) {
          values.push(colon ? parseValue() : parseMessage());
          const after = next();
          if (isPunct(after, ']')) break;
          if (!isPunct(after, ',')) fail(after, `expected ',' or ']' in the list of '${name.text}', found ${describe(after)}`);
        }
      } else {
        next();
      }
      return values.map((value) => ({ name: name.text, value, at: name.at }));
    }
    if (isPunct(start, '{') || isPunct(start, '<')) return [{ name: name.text, value: parseMessage(), at: name.at }];
    if (!colon) fail(start, `expected ':' after '${name.text}', found ${describe(start)}`);
    return [{ name: name.text, value: parseScalar(), at: name.at }];
  }

  function parseValue(): TextValue {
    const token = peek();
    return isPunct(token, '{') || isPunct(token, '<') ? parseMessage() : parseScalar();
  }

  function parseMessage(): TextValue {
    const open = next();
    if (!isPunct(open, '{') && !isPunct(open, '<')) fail(open, `expected '{', found ${describe(open)}`);
    const closer = open.text === '{' ? '}' : '>';
    const fields = parseFields(closer);
    next();
    return { kind: 'message', fields, at: open.at };
  }

  function parseScalar(): TextValue {
    const token = next();
    if (token.kind === 'string') {
      let value = token.value!;
      // Adjacent string literals concatenate, as in C.
      while (peek().kind === 'string') value += next().value!;
      return { kind: 'string', value, at: token.at };
    }
    if (isPunct(token, '-')) {
      const number = next();
      if (number.kind === 'number') return { kind: 'number', value: -Number(numberValue(number, fail)), text: `-${number.text}`, at: token.at };
      if (number.kind === 'identifier' && /^(inf|infinity|nan)$/i.test(number.text)) return { kind: 'number', value: -specialFloat(number.text), text: `-${number.text}`, at: token.at };
      fail(number, `expected a number after '-', found ${describe(number)}`);
    }
    if (token.kind === 'number') return { kind: 'number', value: numberValue(token, fail), text: token.text, at: token.at };
    if (token.kind === 'identifier') return { kind: 'identifier', value: token.text, at: token.at };
    return fail(token, `expected a value, found ${describe(token)}`);
  }

  return parseFields(undefined);
}

function specialFloat(text: string): number {
  return /^nan$/i.test(text) ? Number.NaN : Number.POSITIVE_INFINITY;
}

function numberValue(token: Token, fail: (token: Token, what: string) => never): number {
  const text = token.text.replace(/[fF]$/, '');
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) return Number.parseInt(text.slice(2), 16);
  if (/^0[0-7]+$/.test(text)) return Number.parseInt(text.slice(1), 8);
  if (/^(0|[1-9][0-9]*)$/.test(text) || /^([0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)([eE][+-]?[0-9]+)?$/.test(text)) return Number(text);
  return fail(token, `'${token.text}' is not a number`);
}

function tokenize(text: string, file: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let lineStart = 0;
  let i = 0;
  const at = (offset: number): TextPosition => ({ line, column: offset - lineStart + 1 });
  const fail = (offset: number, what: string): never => {
    const position = at(offset);
    throw new ModelRepositoryError(`${file}:${position.line}:${position.column}: ${what}`, { file });
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      i++;
      line++;
      lineStart = i;
    } else if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      i++;
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (/[A-Za-z_]/.test(c)) {
      const start = i;
      while (i < text.length && /[A-Za-z0-9_]/.test(text[i]!)) i++;
      tokens.push({ kind: 'identifier', text: text.slice(start, i), at: at(start) });
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      const start = i;
      while (i < text.length && /[0-9A-Za-z_.+-]/.test(text[i]!) && !(/[+-]/.test(text[i]!) && !/[eE]/.test(text[i - 1]!))) i++;
      tokens.push({ kind: 'number', text: text.slice(start, i), at: at(start) });
    } else if (c === '"' || c === "'") {
      const start = i;
      const { value, end } = readString(text, i, (offset, what) => fail(offset, what));
      i = end;
      tokens.push({ kind: 'string', text: text.slice(start, i), value, at: at(start) });
    } else if (PUNCTUATION.has(c)) {
      tokens.push({ kind: 'punct', text: c, at: at(i) });
      i++;
    } else {
      fail(i, `unexpected character '${c}'`);
    }
  }
  tokens.push({ kind: 'end', text: '', at: at(i) });
  return tokens;
}

function readString(text: string, start: number, fail: (offset: number, what: string) => never): { value: string; end: number } {
  const quote = text[start]!;
  let i = start + 1;
  let value = '';
  for (;;) {
    const c = text[i];
    if (c === undefined || c === '\n') return fail(start, 'string is not closed on its line');
    if (c === quote) return { value, end: i + 1 };
    if (c !== '\\') {
      value += c;
      i++;
      continue;
    }
    const e = text[i + 1];
    if (e !== undefined && e in SIMPLE_ESCAPES) {
      value += SIMPLE_ESCAPES[e];
      i += 2;
    } else if (e !== undefined && /[0-7]/.test(e)) {
      const digits = /^[0-7]{1,3}/.exec(text.slice(i + 1))![0];
      value += String.fromCharCode(Number.parseInt(digits, 8));
      i += 1 + digits.length;
    } else if (e === 'x' || e === 'X') {
      const digits = /^[0-9a-fA-F]{1,2}/.exec(text.slice(i + 2))?.[0];
      if (!digits) return fail(i, "'\\x' must be followed by hex digits");
      value += String.fromCharCode(Number.parseInt(digits, 16));
      i += 2 + digits.length;
    } else if (e === 'u' || e === 'U') {
      const length = e === 'u' ? 4 : 8;
      const digits = text.slice(i + 2, i + 2 + length);
      if (!new RegExp(`^[0-9a-fA-F]{${length}}$`).test(digits)) return fail(i, `'\\${e}' must be followed by ${length} hex digits`);
      value += String.fromCodePoint(Number.parseInt(digits, 16));
      i += 2 + length;
    } else {
      return fail(i, `unknown escape '\\${e ?? ''}' in a string`);
    }
  }
}
