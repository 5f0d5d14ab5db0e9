/**
 * Lossless JSON text: validates JSON without turning it into JavaScript values, so numbers keep the digits the client
 * wrote (`1.10`, `12345678901234567890`), and bounds nesting without recursion (no RangeError at any depth).
 */

declare const jsonTextBrand: unique symbol;

/**
 * Valid, compact JSON text (no insignificant whitespace) whose string and number tokens are exactly as written.
 * Only `scanJson` makes one, so a value of this type can be embedded in a response body as it is.
 */
export type JsonText = string & { readonly [jsonTextBrand]: true };

export type JsonKind = 'object' | 'array' | 'string' | 'number' | 'literal';

export interface ScannedValue {
  readonly text: JsonText;
  readonly kind: JsonKind;
  /** Nesting of arrays and objects: 0 for a scalar, 1 for `{}` or `[1]`, 2 for `[[1]]`. */
  readonly depth: number;
}

export interface ScannedJson extends ScannedValue {
  /** For an object at the root: its members, in order. A name that repeats is refused, never silently resolved. */
  readonly members: ReadonlyMap<string, ScannedValue>;
}

export interface ScanOptions {
  /**
   * Deepest nesting accepted, counting the root. Checked while scanning, so over-deep input costs no more than its
   * first `maxDepth` levels.
   * @default unlimited
   */
  readonly maxDepth?: number;
}

/** Why a text is not acceptable JSON; `member` names the root object's member it happened in, when there is one. */
export class JsonTextError extends Error {
  constructor(
    readonly problem: 'syntax' | 'depth' | 'duplicate',
    readonly position: number,
    readonly member: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'JsonTextError';
  }
}

interface Container {
  readonly close: '}' | ']';
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const LITERAL = /true|false|null/y;
/** A string token: any character but `"`, `\` and controls, or an escape (RFC 8259 section 7). */
const STRING = /"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/y;

/**
 * Scans `source` as one JSON value (RFC 8259). Returns its compact text and, for an object, each member's compact
 * text; throws JsonTextError on a syntax error, on nesting deeper than `maxDepth`, or on a repeated member name.
 */
export function scanJson(source: string, options: ScanOptions = {}): ScannedJson {
  const maxDepth = options.maxDepth ?? Number.POSITIVE_INFINITY;
  const stack: Container[] = [];
  const members = new Map<string, ScannedValue>();
  let position = 0;
  let out = '';
  let deepest = 0;
  /** The root member being read: its name, where its text starts in `out`, and its own deepest nesting. */
  let member: { name: string; start: number; deepest: number } | undefined;

  const fail = (problem: JsonTextError['problem'], reason: string): never => {
    throw new JsonTextError(problem, position, member?.name, `${reason} at character ${position}`);
  };
  const skipWhitespace = (): void => {
    while (position < source.length) {
      const code = source.charCodeAt(position);
      if (code !== 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) return;
      position += 1;
    }
  };
  const token = (pattern: RegExp): string | undefined => {
    pattern.lastIndex = position;
    const match = pattern.exec(source);
    if (match === null) return undefined;
    position += match[0].length;
    return match[0];
  };
  const rootIsObject = (): boolean => stack[0]?.close === '}';
  /** A member name of the root object, then its colon; opens the member whose value follows. */
  const readName = (): void => {
    skipWhitespace();
    const name = token(STRING) ?? fail('syntax', 'Expected a member name (a string)');
    skipWhitespace();
    if (source[position] !== ':') fail('syntax', 'Expected ":" after a member name');
    position += 1;
    out += `${name}:`;
    if (stack.length === 1 && rootIsObject()) {
      // A string token is safe to hand to JSON.parse: it decodes the escapes and cannot nest.
      const decoded = JSON.parse(name) as string;
      member = { name: decoded, start: out.length, deepest: 0 };
      if (members.has(decoded)) fail('duplicate', `Member ${name} appears more than once`);
    }
  };
  /** Called whenever a value ends; closes the root member it belonged to. */
  const valueEnded = (): void => {
    if (member === undefined || stack.length !== 1) return;
    const text = out.slice(member.start);
    members.set(member.name, { text: text as JsonText, kind: kindOf(text), depth: member.deepest });
    member = undefined;
  };

  for (;;) {
    // A value is expected here.
    skipWhitespace();
    const next = source[position];
    if (next === '{' || next === '[') {
      stack.push({ close: next === '{' ? '}' : ']' });
      if (stack.length > maxDepth) fail('depth', `Nesting deeper than ${maxDepth} levels`);
      deepest = Math.max(deepest, stack.length);
      if (member !== undefined) member.deepest = Math.max(member.deepest, stack.length - 1);
      out += next;
      position += 1;
      skipWhitespace();
      if (source[position] === (next === '{' ? '}' : ']')) {
        // An empty container ends at once; fall through to what follows a value.
        stack.pop();
        out += source[position];
        position += 1;
        valueEnded();
      } else {
        if (next === '{') readName();
        continue;
      }
    } else {
      const scalar = token(STRING) ?? token(NUMBER) ?? token(LITERAL) ?? fail('syntax', 'Expected a JSON value');
      out += scalar;
      valueEnded();
    }
    // A value just ended: a comma, a closing bracket, or (at the root) the end of the text follows.
    for (;;) {
      const container = stack[stack.length - 1];
      if (container === undefined) {
        skipWhitespace();
        if (position !== source.length) fail('syntax', 'Unexpected text after the JSON value');
        const text = out as JsonText;
        return { text, kind: kindOf(text), depth: deepest, members };
      }
      skipWhitespace();
      const separator = source[position];
      if (separator === ',') {
        out += ',';
        position += 1;
        if (container.close === '}') readName();
        break;
      }
      if (separator !== container.close) fail('syntax', `Expected "," or "${container.close}"`);
      stack.pop();
      out += separator;
      position += 1;
      valueEnded();
    }
  }
}

/** `text` as JsonText if it is one JSON object; throws JsonTextError otherwise (a non-object is a syntax problem). */
export function jsonObjectText(text: string, options: ScanOptions = {}): JsonText {
  const scanned = scanJson(text, options);
  if (scanned.kind !== 'object') throw new JsonTextError('syntax', 0, undefined, `Expected a JSON object, got ${scanned.kind}`);
  return scanned.text;
}

function kindOf(text: string): JsonKind {
  const first = text[0];
  if (first === '{') return 'object';
  if (first === '[') return 'array';
  if (first === '"') return 'string';
  return first === 't' || first === 'f' || first === 'n' ? 'literal' : 'number';
}
