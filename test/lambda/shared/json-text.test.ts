/**
 * The lossless JSON scanner: agrees with JSON.parse on what is valid and what it means, keeps number and string
 * tokens as written, bounds depth without recursion, and refuses what RFC 8259 does not allow.
 */
import { jsonObjectText, JsonTextError, scanJson } from '../../../lambda/shared/json-text';

describe('scanJson', () => {
  const valid = [
    '{}',
    '[]',
    '0',
    '-0.0',
    '"x"',
    'true',
    'null',
    ' { "a" : [ 1 , 2.50 , -3e+7 , { } ] , "b" : "\\u00fc\\n\\"" , "c" : null } ',
    '[[[[["deep"]]]]]',
    '{"":""}',
    '{"a":{"b":{"c":[false]}}}',
  ];

  it.each(valid)('reads %j as JSON.parse does, without whitespace', (text) => {
    const scanned = scanJson(text);
    expect(JSON.parse(scanned.text)).toEqual(JSON.parse(text));
    expect(scanned.text).not.toMatch(/^\s|\s$/);
  });

  it('keeps the digits and escapes of every token', () => {
    expect(scanJson('{ "price" : 1.10, "big": 12345678901234567890, "e": 1E-400, "s": "\\u00fc" }').text).toBe(
      '{"price":1.10,"big":12345678901234567890,"e":1E-400,"s":"\\u00fc"}',
    );
  });

  it('gives the root object\'s members as compact text with their depth', () => {
    const scanned = scanJson('{"a": 1, "data": { "x": [ [1] ] }, "s": "t"}');
    expect(scanned).toMatchObject({ kind: 'object', depth: 4 });
    expect([...scanned.members].map(([name, value]) => [name, value.text, value.kind, value.depth])).toEqual([
      ['a', '1', 'number', 0],
      ['data', '{"x":[[1]]}', 'object', 3],
      ['s', '"t"', 'string', 0],
    ]);
  });

  it.each(['', '{', '[1,]', '{"a":1,}', '{"a" 1}', '01', '1.', '.5', '"\u0001"', '"\\x"', "{'a':1}", 'undefined', '[1] [2]', 'NaN', '{"a":1}}'])(
    'refuses %j like JSON.parse',
    (text) => {
      expect(() => JSON.parse(text)).toThrow(SyntaxError);
      expect(() => scanJson(text)).toThrow(JsonTextError);
    },
  );

  it('stops at the depth bound, naming the root member it happened in, at any depth and without recursion', () => {
    const deep = `{"ok":1,"data":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
    let error: unknown;
    try {
      scanJson(deep, { maxDepth: 33 });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(JsonTextError);
    // The 34th container: the root, then the 33rd "[" of data, which starts at character 15.
    expect(error).toMatchObject({ problem: 'depth', member: 'data', position: 15 + 32 });
    expect(scanJson(deep).depth).toBe(200_001);
  });

  it('refuses a repeated member name of the root object, naming it', () => {
    expect(() => scanJson('{"a":1,"b":2,"a":3}')).toThrow(expect.objectContaining({ problem: 'duplicate', member: 'a' }));
    // Only the root's names identify fields; nested objects are data and left as written.
    expect(scanJson('{"x":{"a":1,"a":2}}').members.get('x')?.text).toBe('{"a":1,"a":2}');
  });
});

describe('jsonObjectText', () => {
  it('accepts only an object', () => {
    expect(jsonObjectText(' { "a" : 1 } ')).toBe('{"a":1}');
    expect(() => jsonObjectText('[1]')).toThrow(/Expected a JSON object/);
  });
});
