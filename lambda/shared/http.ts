/**
 * The JSON response every API function returns. `Cache-Control: no-store` on all of them: orders, sessions and health
 * verdicts change from one moment to the next, and no CDN or proxy may keep a copy.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';

export function jsonResponse(statusCode: number, body: unknown, headers: Readonly<Record<string, string>> = {}): APIGatewayProxyResult {
  return jsonTextResponse(statusCode, JSON.stringify(body), headers);
}

/** For a body already serialized, e.g. one that embeds a client's JSON text verbatim (JSON.stringify would reformat its numbers). */
export function jsonTextResponse(statusCode: number, body: string, headers: Readonly<Record<string, string>> = {}): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers },
    body,
  };
}
