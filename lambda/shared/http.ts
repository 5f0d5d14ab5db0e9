/**
 * The JSON response every API function returns. `Cache-Control: no-store` on all of them: orders, sessions and health
 * verdicts change from one moment to the next, and no CDN or proxy may keep a copy.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';

export function jsonResponse(statusCode: number, body: unknown, headers: Readonly<Record<string, string>> = {}): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}
