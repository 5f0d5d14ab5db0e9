/**
 * The shared JSON helpers: what counts as a JSON object, parsing that reports instead of throwing, and reading a
 * parsed answer by shape.
 */
import { isJsonObject, jsonMember, parseJson, parseJsonObject } from '../../../lambda/shared/json';

describe('isJsonObject', () => {
  it.each([
    ['an object', {}, true],
    ['an object with members', { a: 1 }, true],
    ['an array', [], false],
    ['null', null, false],
    ['a string', '{}', false],
    ['a number', 1, false],
    ['undefined', undefined, false],
  ])('%s -> %s', (_name, value, expected) => {
    expect(isJsonObject(value)).toBe(expected);
  });
});

describe('parseJson', () => {
  it('returns the value of valid JSON, whatever its type', () => {
    expect(parseJson('{"a":[1,"x"]}')).toEqual({ ok: true, value: { a: [1, 'x'] } });
    expect(parseJson('null')).toEqual({ ok: true, value: null });
  });

  it("reports a syntax error with JSON.parse's reason instead of throwing", () => {
    const result = parseJson('{"a":');
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.reason).toMatch(/JSON/);
  });
});

describe('parseJsonObject', () => {
  it('is the object for an object, undefined for anything else', () => {
    expect(parseJsonObject('{"status":"ok"}')).toEqual({ status: 'ok' });
    expect(parseJsonObject('[{"status":"ok"}]')).toBeUndefined();
    expect(parseJsonObject('"ok"')).toBeUndefined();
    expect(parseJsonObject('not json')).toBeUndefined();
  });
});

describe('jsonMember', () => {
  it('reads a member of an object, nested by chaining, and undefined off the shape', () => {
    const answer: unknown = { experiment: { state: { status: 'running' } }, list: ['a'] };
    expect(jsonMember(jsonMember(jsonMember(answer, 'experiment'), 'state'), 'status')).toBe('running');
    expect(jsonMember(jsonMember(answer, 'missing'), 'state')).toBeUndefined();
    // An array is not an object here: its indexes and length are not members.
    expect(jsonMember(jsonMember(answer, 'list'), 'length')).toBeUndefined();
    expect(jsonMember(null, 'status')).toBeUndefined();
  });
});
