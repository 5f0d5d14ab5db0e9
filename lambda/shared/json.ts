/**
 * The one set of helpers for JSON turned into JavaScript values (JSON.parse results, event payloads, API answers).
 * JSON kept as lossless text, with numbers exactly as written, is json-text.ts.
 */

/** A JSON object: an object that is neither null nor an array. */
export function isJsonObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Member `name` of `value` when it is a JSON object, else undefined: for reading a parsed answer by shape. */
export function jsonMember(value: unknown, name: string): unknown {
  return isJsonObject(value) ? value[name] : undefined;
}

export type JsonParseResult = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly reason: string };

/** JSON.parse that reports a syntax error instead of throwing it. */
export function parseJson(text: string): JsonParseResult {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, reason: err instanceof SyntaxError ? err.message : 'unparseable' };
  }
}

/** `text` as a JSON object, or undefined when it is not JSON or not an object. */
export function parseJsonObject(text: string): Readonly<Record<string, unknown>> | undefined {
  const parsed = parseJson(text);
  return parsed.ok && isJsonObject(parsed.value) ? parsed.value : undefined;
}
