/**
 * Requests from the pipeline's post-deploy scripts to the platform's API, SigV4-signed with the step's role (or left
 * unsigned on purpose, to prove IAM refuses them). One place for signing, deadlines and how a failed request reads.
 */
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { errorMessage } from '../lambda/shared/errors';

export interface ApiCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** `defaultProvider()` in the pipeline; tests pass fixed dummy credentials. */
export type CredentialProvider = () => Promise<ApiCredentials>;

/** The part of fetch the scripts use; global fetch satisfies it. */
export type ApiFetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal: AbortSignal; redirect: 'manual' },
) => Promise<{ readonly status: number; text(): Promise<string> }>;

export type ApiMethod = 'GET' | 'POST';

/** What one request came back with; a network fault or timeout is status 0 with the error as body. */
export interface ApiAnswer {
  readonly status: number;
  readonly body: string;
  readonly ms: number;
}

export interface ApiSenderOptions {
  readonly region: string;
  readonly credentials: CredentialProvider;
  readonly fetch: ApiFetch;
  /** Longest one request may take. */
  readonly requestTimeoutMs: number;
  /** Time left for the whole script: a request never runs past it. */
  readonly remainingMs: () => number;
  /** @default Date.now */
  readonly now?: () => number;
}

/** Sends one request; `signed: false` sends it without any AWS authentication. */
export type ApiSender = (method: ApiMethod, url: string, body?: string, options?: { readonly signed?: boolean }) => Promise<ApiAnswer>;

export function createApiSender(options: ApiSenderOptions): ApiSender {
  const now = options.now ?? Date.now;
  const signer = new SignatureV4({ service: 'execute-api', region: options.region, credentials: options.credentials, sha256: Sha256 });
  return async (method, url, body, { signed = true } = {}) => {
    const target = new URL(url);
    const headers: Record<string, string> = { host: target.host, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const sent = now();
    try {
      // Signed per attempt: the signature covers x-amz-date, which API Gateway rejects when more than 5 minutes old.
      const request = signed
        ? await signer.sign({ method, protocol: target.protocol, hostname: target.hostname, path: target.pathname, query: {}, headers, ...(body === undefined ? {} : { body }) })
        : { headers };
      // fetch sets Host itself from the URL (the same value that was signed) and refuses to take it as a header.
      const { host: _host, ...fetchHeaders } = request.headers;
      const timeoutMs = Math.max(1, Math.min(options.requestTimeoutMs, options.remainingMs()));
      const response = await options.fetch(url, {
        method,
        headers: fetchHeaders,
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'manual',
      });
      return { status: response.status, body: await response.text(), ms: now() - sent };
    } catch (err) {
      return { status: 0, body: describeError(err), ms: now() - sent };
    }
  };
}

/** 429, 5xx and network faults may clear within the deadline; anything else is a verdict. */
export function isRetryableStatus(status: number): boolean {
  return status === 0 || status === 429 || status >= 500;
}

export function describeStatus(status: number): string {
  return status === 0 ? 'no response' : `HTTP ${status}`;
}

/** By shape rather than instanceof: fetch's errors come from Node's own realm, not necessarily the caller's. */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 3 && typeof current === 'object' && current !== null; depth += 1) {
    const message: unknown = Reflect.get(current, 'message');
    const name: unknown = Reflect.get(current, 'name');
    if (typeof message !== 'string') break;
    parts.push(typeof name === 'string' && name !== 'Error' ? `${name}: ${message}` : message);
    current = Reflect.get(current, 'cause');
  }
  return parts.length > 0 ? parts.join(' <- ') : errorMessage(err);
}

export function excerpt(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > 300 ? `${oneLine.slice(0, 300)}…` : oneLine;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** The body as a JSON object, or undefined when it is not one. */
export function jsonObject(body: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
