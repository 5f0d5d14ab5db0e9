/**
 * One SigV4-signed HTTP request to an AWS endpoint (API Gateway with IAM auth, the FIS API): signed per attempt, with
 * its own timeout, and a network fault or timeout returned as status 0 with the error as body instead of a throw.
 */
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { errorMessage } from '../lambda/shared/errors';

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** `defaultProvider()` from the AWS SDK when run for real; tests pass fixed dummy credentials. */
export type CredentialProvider = () => Promise<AwsCredentials>;

/** The part of fetch these scripts use; global fetch satisfies it. */
export type ScriptFetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal: AbortSignal; redirect: 'manual' },
) => Promise<{ status: number; text(): Promise<string> }>;

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

export interface SignedResponse {
  /** 0 when no HTTP answer came back (network fault, timeout). */
  readonly status: number;
  readonly body: string;
  readonly ms: number;
}

export interface SignedRequestOptions {
  readonly body?: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
}

export interface SignedRequesterSettings {
  /** The signing name: `execute-api` for API Gateway, `fis` for AWS FIS. */
  readonly service: string;
  readonly region: string;
  readonly credentials: CredentialProvider;
  readonly fetch: ScriptFetch;
  /** @default Date.now */
  readonly now?: () => number;
}

export type SignedRequester = (method: HttpMethod, url: string, options: SignedRequestOptions) => Promise<SignedResponse>;

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
      const signed = await signer.sign({
        method,
        protocol: target.protocol,
        hostname: target.hostname,
        path: target.pathname,
        query: { ...query },
        headers,
        ...(options.body === undefined ? {} : { body: options.body }),
      });
      // fetch sets Host itself from the URL (the same value that was signed) and refuses to take it as a header.
      const { host: _host, ...fetchHeaders } = signed.headers;
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
