/**
 * API Gateway's IAM authorization, as far as the pipeline scripts' tests need it: a request passes when its SigV4
 * signature, recomputed from what arrived (signed headers, path, body), matches byte for byte; otherwise 403.
 */
import { createHash } from 'node:crypto';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import type { ApiCredentials } from '../../scripts/signed-api';
import { respond, type ReceivedRequest, type Responder } from './harness';

export const TEST_CREDENTIALS: ApiCredentials = { accessKeyId: 'AKIDSMOKETEST0000001', secretAccessKey: 'smoke-test-dummy-secret' };

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([A-Z0-9]+)\/(\d{8})\/us-east-1\/execute-api\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;

export function header(request: ReceivedRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** Why `request` would fail IAM authorization with `credentials`, or undefined when it would pass. */
export async function signatureProblem(request: ReceivedRequest, origin: string, credentials: ApiCredentials = TEST_CREDENTIALS): Promise<string | undefined> {
  const authorization = header(request, 'authorization') ?? '';
  const amzDate = header(request, 'x-amz-date') ?? '';
  if (authorization === '') return 'missing authentication';
  const match = AUTHORIZATION.exec(authorization);
  if (match === null) return `malformed Authorization ${JSON.stringify(authorization)}`;
  if (!/^\d{8}T\d{6}Z$/.test(amzDate)) return `malformed x-amz-date ${JSON.stringify(amzDate)}`;
  const [, accessKeyId, , signedHeaderList = ''] = match;
  if (accessKeyId !== credentials.accessKeyId) return `signed with ${accessKeyId}`;
  const signedHeaders = signedHeaderList.split(';');
  for (const required of ['host', 'x-amz-date']) if (!signedHeaders.includes(required)) return `${required} is not signed`;
  const payloadHash = createHash('sha256').update(request.body).digest('hex');
  if (header(request, 'x-amz-content-sha256') !== payloadHash) return 'x-amz-content-sha256 does not match the body';
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) headers[name] = header(request, name) ?? '';
  const url = new URL(request.url, origin);
  const signingDate = new Date(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
  const expected = await new SignatureV4({ service: 'execute-api', region: 'us-east-1', credentials, sha256: Sha256 }).sign(
    { method: request.method, protocol: url.protocol, hostname: url.hostname, path: url.pathname, query: {}, headers, ...(request.body === '' ? {} : { body: request.body }) },
    { signingDate },
  );
  return expected.headers['authorization'] === authorization ? undefined : 'signature does not match';
}

/** Like API Gateway with IAM auth: 403 for a bad signature, otherwise `inner` answers. */
export function iamAuthorized(origin: () => string, problems: string[], inner: Responder, credentials?: ApiCredentials): Responder {
  return (request, response) => {
    void signatureProblem(request, origin(), credentials).then((problem) => {
      if (problem === undefined) {
        inner(request, response);
      } else {
        problems.push(`${request.method} ${request.url}: ${problem}`);
        respond(403, { message: problem })(request, response);
      }
    });
  };
}
