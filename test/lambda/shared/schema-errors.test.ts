/**
 * The error messages for ajv's findings, on small schemas compiled here with the generator's options (the order
 * schema's own cases are in order-schema.test.ts): which problem is reported, the field's path, the display-safe value.
 */
import Ajv04 from 'ajv-draft-04';
import { ValidationError } from '../../../lambda/shared/errors';
import { PREVIEW_LENGTH, safeText, safeValue, schemaValidationError } from '../../../lambda/shared/schema-errors';
import { VALIDATOR_OPTIONS } from '../../../scripts/generate-validators';

const ajv = new Ajv04(VALIDATOR_OPTIONS);

/** The ValidationError for `data` under `schema`, as the processor would build it (root field "body"). */
function rejection(schema: object, data: unknown): ValidationError {
  const validate = ajv.compile(schema);
  if (validate(data)) throw new Error(`the schema accepted ${JSON.stringify(data)}`);
  return schemaValidationError(validate.errors ?? [], 'body');
}

function reported(schema: object, data: unknown): { readonly field: string; readonly value: unknown; readonly reason: string } {
  const { field, value, reason } = rejection(schema, data);
  return { field, value, reason };
}

const text = (extra: object = {}): object => ({ type: 'string', ...extra });
const object = (properties: Record<string, object>, extra: object = {}): object => ({ type: 'object', properties, ...extra });

describe('schema errors: the field', () => {
  it('names a nested field by its dotted path, array indices included', () => {
    const schema = object({ legs: { type: 'array', items: object({ price: text() }) } });
    expect(reported(schema, { legs: [{ price: '1' }, { price: 2 }] })).toMatchObject({ field: 'legs.1.price', value: 2 });
  });

  it('names the root by the name it is given', () => {
    expect(reported(object({}), [])).toMatchObject({ field: 'body', reason: 'must be a JSON object, not an array' });
  });

  it('decodes JSON Pointer escapes in names, "~1" before "~0"', () => {
    const schema = object({ 'a/b': object({ 'c~1': text() }) });
    expect(reported(schema, { 'a/b': { 'c~1': 5 } })).toMatchObject({ field: 'a/b.c~1', value: 5 });
  });

  it('names a missing field under its parent', () => {
    const schema = object({ outer: object({ inner: text() }, { required: ['inner'] }) });
    expect(reported(schema, { outer: {} })).toEqual({ field: 'outer.inner', value: undefined, reason: 'is required' });
  });

  it('names a stray field under its parent, shows its value and lists the allowed ones', () => {
    const schema = object({ outer: object({ a: text(), b: text() }, { additionalProperties: false }) });
    expect(reported(schema, { outer: { a: 'x', zz: [1] } })).toEqual({
      field: 'outer.zz',
      value: '[1]',
      reason: 'is not an allowed field (allowed: a, b)',
    });
  });

  it('shows a hostile field name display-safe and cut', () => {
    const name = `\u202E${'k'.repeat(100)}`;
    const { field } = rejection(object({}, { additionalProperties: false }), { [name]: 1 });
    expect(field).toBe(`<U+202E>${'k'.repeat(PREVIEW_LENGTH - 8)}…`);
  });

  it('reads own properties only: an inherited "constructor" is no field', () => {
    const schema = object({ constructor: text() }, { required: ['constructor'] });
    expect(reported(schema, {})).toEqual({ field: 'constructor', value: undefined, reason: 'is required' });
  });
});

describe('schema errors: the reason', () => {
  it.each([
    [object({}), 'x', 'must be a JSON object, not a string'],
    [object({}), 1.5, 'must be a JSON object, not a number'],
    [object({}), true, 'must be a JSON object, not a boolean'],
    [object({}), null, 'must be a JSON object, not null'],
    [object({}), undefined, 'must be a JSON object, not undefined'],
    [text(), {}, 'must be a JSON string, not an object'],
    [text({ description: 'a name' }), [], 'must be a JSON string (a name), not an array'],
    [text(), 10n, 'must be a JSON string, not a non-JSON value'],
    [text({ enum: ['A', 'B'] }), 'C', 'must be one of A, B'],
    [text({ maxLength: 3 }), 'abcd', 'must be at most 3 characters long'],
    [text({ minLength: 2 }), 'a', 'must be at least 2 characters long'],
    [text({ pattern: '^[a-z]+$' }), 'A', 'must be a string matching ^[a-z]+$'],
    [text({ pattern: '^[a-z]+$', description: 'lowercase letters' }), 'A', 'must be lowercase letters'],
    [text({ not: { pattern: '^0$', description: 'zero' } }), '0', 'must not be zero'],
    [text({ not: { pattern: '^0$' } }), '0', 'must not be valid against {"pattern":"^0$"}'],
    [{ type: 'number', minimum: 3 }, 2, "must satisfy the schema's minimum"],
  ] as const)('%j with %p: %s', (schema, data, reason) => {
    expect(reported(schema, data).reason).toBe(reason);
  });

  it('counts code points, as draft-04 does: an emoji is one character, a lone surrogate too', () => {
    const schema = text({ maxLength: 2 });
    expect(ajv.validate(schema, '😀😀')).toBe(true);
    expect(ajv.validate(schema, '\uD800\uDC00\uD800')).toBe(true);
    expect(reported(schema, '😀😀😀')).toMatchObject({ reason: 'must be at most 2 characters long', value: '<U+1F600><U+1F600><U+1F600>' });
  });

  it('blames the field a `not` over `required` forbids, with its value', () => {
    const schema = object({ a: text(), b: text() }, { not: { description: 'present', required: ['b'] } });
    expect(reported(schema, { a: 'x', b: 'y' })).toEqual({ field: 'b', value: 'y', reason: 'must not be present' });
  });

  it('blames a field only if it is the value\'s own, even for a validator that reads inherited ones', () => {
    // ajv's default (no ownProperties) counts Object.prototype.constructor as present.
    const validate = new Ajv04({ ...VALIDATOR_OPTIONS, ownProperties: false }).compile({ type: 'object', not: { description: 'present', required: ['constructor'] } });
    expect(validate({})).toBe(false);
    expect(schemaValidationError(validate.errors ?? [], 'body')).toMatchObject({ field: 'body', value: '{}', reason: 'must not be present' });
  });

  it('blames the value itself when a `not` over `required` fails on a value that is no object', () => {
    // `required` holds for anything but an object, so this `not` rejects null, and null has no fields to blame. Strict
    // mode (the generator's) refuses `required` without `type: object`; the messages serve any ajv validator.
    const validate = new Ajv04({ ...VALIDATOR_OPTIONS, strict: false }).compile({ not: { description: 'without a', required: ['a'] } });
    expect(validate(null)).toBe(false);
    expect(schemaValidationError(validate.errors ?? [], 'body')).toMatchObject({ field: 'body', value: null, reason: 'must not be without a' });
  });

  it('says nothing more than that the schema failed if no error says why', () => {
    expect(schemaValidationError([], 'body')).toMatchObject({ field: 'body', value: undefined, reason: 'does not match the schema' });
  });

  it('builds the message the handlers log and store', () => {
    expect(rejection(object({ q: text() }), { q: 5 }).message).toBe('Invalid q 5: must be a JSON string, not a number');
  });
});

describe('schema errors: which problem is reported', () => {
  it.each([
    ['the type over the enum', text({ enum: ['A'] }), 5, 'must be a JSON string, not a number'],
    ['the type over a `not` the wrong type passes', text({ not: { pattern: '^0$' } }), 5, 'must be a JSON string, not a number'],
    ['the enum over the length', text({ enum: ['A'], maxLength: 1 }), 'BB', 'must be one of A'],
    ['the maximum length over the pattern', text({ maxLength: 2, pattern: '^a+$' }), 'bbb', 'must be at most 2 characters long'],
    ['the minimum length over the pattern', text({ minLength: 1, pattern: '^a+$' }), '', 'must be at least 1 characters long'],
    ['the pattern over a `not`', text({ pattern: '^[0-9]$', not: { pattern: '^0', description: 'zero' } }), '00', 'must be a string matching ^[0-9]$'],
  ] as const)('%s', (_name, schema, data, reason) => {
    expect(reported(schema, data).reason).toBe(reason);
  });

  it('a wrong type anywhere over a missing field, a missing field over a stray one', () => {
    const schema = object({ a: text(), b: text() }, { required: ['a', 'b'], additionalProperties: false });
    expect(reported(schema, { b: 1, c: 1 })).toMatchObject({ field: 'b', reason: 'must be a JSON string, not a number' });
    expect(reported(schema, { b: 'x', c: 1 })).toMatchObject({ field: 'a', reason: 'is required' });
    expect(reported(schema, { a: 'x', b: 'x', c: 1 })).toMatchObject({ field: 'c' });
  });

  it('a value a `not` forbids over a stray field', () => {
    const schema = object({ q: text({ not: { pattern: '^0$', description: 'zero' } }) }, { additionalProperties: false });
    expect(reported(schema, { extra: 1, q: '0' })).toMatchObject({ field: 'q', reason: 'must not be zero' });
  });

  it('the first of equally basic problems, in the schema order', () => {
    const schema = object({ a: text(), b: text() }, { required: ['b', 'a'] });
    expect(reported(schema, {})).toMatchObject({ field: 'b', reason: 'is required' });
  });

  it('an unknown keyword after every known one', () => {
    const schema = object({ n: { type: 'number', minimum: 3 } }, { additionalProperties: false });
    expect(reported(schema, { n: 1, extra: true })).toMatchObject({ field: 'extra' });
  });

  it('a stray field over an unknown keyword that ajv reports before it', () => {
    // ajv checks maxProperties before additionalProperties; the stray field is still the one reported.
    const schema = object({ a: text() }, { additionalProperties: false, maxProperties: 1 });
    expect(reported(schema, { a: 'x', extra: 1 })).toMatchObject({ field: 'extra', reason: 'is not an allowed field (allowed: a)' });
  });
});

describe('schema errors: oneOf and anyOf', () => {
  const kind = (name: string, extra: object = {}): object => ({ properties: { kind: { enum: [name] } }, ...extra });
  const shapes = object(
    { kind: text(), size: text(), colour: text() },
    {
      oneOf: [
        kind('box', { description: 'kind is box', required: ['size'] }),
        kind('paint', { description: 'kind is paint', required: ['colour'] }),
      ],
    },
  );

  it('judges fields on their own first', () => {
    expect(reported(shapes, { kind: 7 })).toMatchObject({ field: 'kind', reason: 'must be a JSON string, not a number' });
  });

  it('reports the branch the value aimed at, saying which case it was', () => {
    expect(reported(shapes, { kind: 'paint' })).toEqual({ field: 'colour', value: undefined, reason: 'is required when kind is paint' });
  });

  it('lists the cases when the value aims at none of them', () => {
    expect(reported(shapes, { kind: 'rope' })).toEqual({
      field: 'body',
      value: '{"kind":"rope"}',
      reason: 'must match exactly one of: kind is box; kind is paint',
    });
  });

  it('lists the cases when the value aims at several, numbering those without a description', () => {
    const schema = object({ a: text(), b: text() }, { anyOf: [{ required: ['a'] }, { description: 'b given', required: ['b'] }] });
    expect(reported(schema, {})).toMatchObject({ field: 'body', reason: 'must match at least one of: case 1; b given' });
  });

  it('says when a value matches more than one case', () => {
    const schema = object({ a: text() }, { oneOf: [{ description: 'has a', required: ['a'] }, { description: 'anything' }] });
    expect(reported(schema, { a: 'x' })).toMatchObject({ field: 'body', reason: 'matches more than one of: has a; anything' });
  });

  it('adds no "when" for a branch without a description', () => {
    const schema = object({ kind: text(), size: text() }, { oneOf: [kind('box', { required: ['size'] }), kind('bag')] });
    expect(reported(schema, { kind: 'box' })).toEqual({ field: 'size', value: undefined, reason: 'is required' });
  });

  it('follows a combinator nested in a field, and one nested in a branch', () => {
    const nested = object({ item: shapes });
    expect(reported(nested, { item: { kind: 'box' } })).toEqual({ field: 'item.size', value: undefined, reason: 'is required when kind is box' });

    const inner = { oneOf: [kind('x', { description: 'inner x', required: ['size'] }), kind('y', { description: 'inner y' })] };
    const outer = object({ kind: text(), size: text() }, { anyOf: [{ description: 'outer', ...inner }, kind('z')] });
    expect(reported(outer, { kind: 'x' })).toMatchObject({ field: 'size', reason: 'is required when inner x when outer' });
  });
});

describe('display-safe values', () => {
  it('keeps printable ASCII, from space to tilde, as it is', () => {
    const printable = ' !"#$%&()*+,-./09:;<=>?@AZ[\\]^_`az{|}~';
    expect(safeText(printable)).toBe(printable);
  });

  it.each([
    ['a control character', 'a\tb', 'a<U+0009>b'],
    ['NUL', '\u0000', '<U+0000>'],
    ['the character below space', '\u001F', '<U+001F>'],
    ['DEL, just above tilde', '\u007F', '<U+007F>'],
    ['a no-break space', '\u00A0', '<U+00A0>'],
    ['an RTL override', 'ab\u202Ecd', 'ab<U+202E>cd'],
    ['a Cyrillic А posing as A', '\u0410APL', '<U+0410>APL'],
    ['a surrogate pair, as one code point', '😀', '<U+1F600>'],
    ['a lone high surrogate', 'a\uD83Db', 'a<U+D83D>b'],
    ['a lone low surrogate', 'a\uDE00b', 'a<U+DE00>b'],
    ['a low surrogate before a high one', '\uDE00\uD83D', '<U+DE00><U+D83D>'],
  ])('shows %s as its code point', (_name, input, shown) => {
    expect(safeText(input)).toBe(shown);
  });

  it(`cuts after ${PREVIEW_LENGTH} characters of output, not before`, () => {
    expect(safeText('x'.repeat(PREVIEW_LENGTH))).toBe('x'.repeat(PREVIEW_LENGTH));
    expect(safeText('x'.repeat(PREVIEW_LENGTH + 1))).toBe(`${'x'.repeat(PREVIEW_LENGTH)}…`);
  });

  it('counts escapes in the output, so a string of escaped characters cannot grow eightfold', () => {
    expect(safeText('é'.repeat(100))).toBe(`${'<U+00E9>'.repeat(PREVIEW_LENGTH / 8)}…`);
    expect(safeText(`${'x'.repeat(PREVIEW_LENGTH - 1)}é!`)).toBe(`${'x'.repeat(PREVIEW_LENGTH - 1)}<U+00E9>…`);
  });

  it('shows objects and arrays as cut JSON text', () => {
    expect(safeValue({ a: ['b'] })).toBe('{"a":["b"]}');
    expect(safeValue(['x'.repeat(100)])).toBe(`["${'x'.repeat(PREVIEW_LENGTH - 2)}…`);
    expect(safeValue({ rtl: '\u202E' })).toBe('{"rtl":"<U+202E>"}');
  });

  it('names structures JSON.stringify cannot write instead of failing', () => {
    let deep: unknown = [];
    for (let level = 0; level < 20_000; level += 1) deep = [deep];
    expect(safeValue(deep)).toBe('array of 1');
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(safeValue(cyclic)).toBe('object');
  });

  it('passes JSON scalars through and shows other values as text', () => {
    expect(safeValue(0.1)).toBe(0.1);
    expect(safeValue(false)).toBe(false);
    expect(safeValue(null)).toBeNull();
    expect(safeValue(undefined)).toBeUndefined();
    expect(safeValue(100n)).toBe('100');
    expect(safeValue(Symbol('s'))).toBe('Symbol(s)');
  });
});
