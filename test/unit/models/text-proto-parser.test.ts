import { ModelRepositoryError } from '../../../layers/models/model-repository/model-repository-error';
import { parseTextProto, type TextField, type TextValue } from '../../../layers/models/model-repository/text-proto-parser';

/** Fields as plain data (positions dropped) so expectations read like the text. */
function plain(fields: readonly TextField[]): unknown[] {
  const value = (v: TextValue): unknown => (v.kind === 'message' ? plain(v.fields) : v.kind === 'number' ? v.value : `${v.kind}:${v.value}`);
  return fields.map((field) => [field.name, value(field.value)]);
}

function parseError(text: string): ModelRepositoryError {
  try {
    parseTextProto(text, 'm/config.pbtxt');
  } catch (error) {
    if (error instanceof ModelRepositoryError) return error;
    throw error;
  }
  throw new Error('expected a ModelRepositoryError');
}

describe('parseTextProto', () => {
  it('reads scalars, enums, nested messages and comments as Triton configs write them', () => {
    const text = [
      '# a Triton config',
      'name: "iris"  platform: "onnxruntime_onnx"',
      'max_batch_size: 8',
      'input { name: "x" data_type: TYPE_FP32 dims: [ 4 ] }',
      'dynamic_batching < max_queue_delay_microseconds: 100 >',
    ].join('\n');

    const fields = parseTextProto(text, 'config.pbtxt');

    expect(plain(fields)).toEqual([
      ['name', 'string:iris'], ['platform', 'string:onnxruntime_onnx'], ['max_batch_size', 8],
      ['input', [['name', 'string:x'], ['data_type', 'identifier:TYPE_FP32'], ['dims', 4]]],
      ['dynamic_batching', [['max_queue_delay_microseconds', 100]]],
    ]);
    expect(fields[2]!.at).toEqual({ line: 3, column: 1 });
  });

  it('expands list syntax into one field per element, for scalars and for messages, with or without a colon', () => {
    const fields = parseTextProto('dims: [ -1, 3, 0x10 ]\ninput [ { name: "a" }, { name: "b" } ]\noutput: [{ name: "c" }]\nempty: []', 'f');

    expect(plain(fields)).toEqual([
      ['dims', -1], ['dims', 3], ['dims', 16],
      ['input', [['name', 'string:a']]], ['input', [['name', 'string:b']]],
      ['output', [['name', 'string:c']]],
    ]);
  });

  it('accepts the separators, quotes, escapes, string concatenation and number forms of the text format', () => {
    const fields = parseTextProto(`a: 'it\\'s' "\\x41\\101\\u00e9\\n", b: 1.5e3; c: .25 d: 2f e: -inf f: 017`, 'f');

    expect(plain(fields)).toEqual([['a', "string:it'sAAé\n"], ['b', 1500], ['c', 0.25], ['d', 2], ['e', -Infinity], ['f', 15]]);
  });

  it.each([
    ['name "x"', "m/config.pbtxt:1:6: expected ':' after 'name', found '\"x\"'"],
    ['input { name: "x"', "m/config.pbtxt:1:18: expected a field name or '}', found the end of the file (a '{' or '<' is not closed)"],
    ['name: "x', 'm/config.pbtxt:1:7: string is not closed on its line'],
    ['dims: [1 2]', "m/config.pbtxt:1:10: expected ',' or ']' in the list of 'dims', found '2'"],
    ['max_batch_size: 8x', "m/config.pbtxt:1:17: '8x' is not a number"],
    ['[ext.field]: 1', 'm/config.pbtxt:1:1: extension and Any fields ([...]) are not part of a Triton model config; remove it'],
    ['name: "a\\qb"', "m/config.pbtxt:1:9: unknown escape '\\q' in a string"],
    ['a: 1\n  }', "m/config.pbtxt:2:3: expected a field name, found '}'"],
    ['a: @', "m/config.pbtxt:1:4: unexpected character '@'"],
  ])('refuses %j naming the file, line and column', (text, message) => {
    expect(parseError(text).message).toBe(message);
  });
});
