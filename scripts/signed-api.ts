/**
 * SigV4-signed requests from the scripts (pipeline checks, smoke test, game day) to AWS endpoints: the platform's API
 * (`execute-api`, or unsigned on purpose, to prove IAM refuses it) and the FIS API. One place for signing, deadlines
 * and how a failed request reads: signed per attempt, and a network fault or timeout returned as status 0.
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

export type ApiMethod = 'GET' | 'POST' | 'DELETE';

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

export interface SignedRequestOptions {
  readonly body?: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  /** @default true; false sends the request without any AWS authentication */
  readonly signed?: boolean;
}

export interface SignedRequesterSettings {
  /** The signing name: `execute-api` for API Gateway, `fis` for AWS FIS. */
  readonly service: string;
  readonly region: string;
  readonly credentials: CredentialProvider;
  readonly fetch: ApiFetch;
  /** @default Date.now */
  readonly now?: () => number;
}

export type SignedRequester = (method: ApiMethod, url: string, options: SignedRequestOptions) => Promise<ApiAnswer>;

/** The one signer of the scripts. */
export function createSignedRequester(settings: SignedRequesterSettings): SignedRequester {
  const now = settings.now ?? Date.now;
  const signer = new SignatureV4({ service: settings.service, region: settings.region, credentials: settings.credentials, sha256: Sha256 });
  return async (method, url, options) => {
    const target = new URL(url);
    const query = options.query ?? {};
    for (const [name, value] of Object.entries(query)) target.searchParams.set(name, value);
    const headers: Record<string, string> = { host: target.host, accept: 'application/json' };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const sent = now();
    try {
      // Signed per attempt: the signature covers x-amz-date, which AWS rejects when more than 5 minutes old.
      const request =
        options.signed === false
          ? { headers }
          : await signer.sign({
              method,
              protocol: target.protocol,
              hostname: target.hostname,
              path: target.pathname,
              query: { ...query },
              headers,
              ...(options.body === undefined ? {} : { body: options.body }),
            });
      // fetch sets Host itself from the URL (the same value that was signed) and refuses to take it as a header.
      const { host: _host, ...fetchHeaders } = request.headers;
      const response = await settings.fetch(target.toString(), {
        method,
        headers: fetchHeaders,
        ...(options.body === undefined ? {} : { body: options.body }),
        signal: AbortSignal.timeout(Math.max(1, options.timeoutMs)),
        redirect: 'manual',
      });
      return { status: response.status, body: await response.text(), ms: now() - sent };
    } catch (err) {
      return { status: 0, body: describeError(err), ms: now() - sent };
    }
  };
}

/** Requests to the platform's API within the script's deadline. */
export function createApiSender(options: ApiSenderOptions): ApiSender {
  const request = createSignedRequester({
    service: 'execute-api',
    region: options.region,
    credentials: options.credentials,
    fetch: options.fetch,
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  return (method, url, body, { signed = true } = {}) =>
    request(method, url, { ...(body === undefined ? {} : { body }), signed, timeoutMs: Math.min(options.requestTimeoutMs, options.remainingMs()) });
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
