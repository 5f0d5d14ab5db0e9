/**
 * Post-deploy smoke test (CDK Pipelines ShellStep): places one small SigV4-signed LIMIT order through the API, then
 * polls GET /orders/{accountId}.{clientOrderId} until the order is ACCEPTED or the deadline passes. Exit 0 pass, 1 fail.
 *
 * Usage: npx ts-node --transpile-only scripts/smoke-test.ts <apiBaseUrl>     e.g. https://abc.execute-api.us-east-1.amazonaws.com/v1
 * Environment (all optional): SMOKE_ACCOUNT_ID (default smoke-test), SMOKE_REGION (us-east-1), SMOKE_DEADLINE_SECONDS (120),
 * SMOKE_REQUEST_TIMEOUT_MS (10000), SMOKE_POLL_INITIAL_DELAY_MS (500), SMOKE_POLL_MAX_DELAY_MS (5000); credentials come
 * from the default provider chain (the CodeBuild role in the pipeline). Exit 2 on a usage error.
 */
import { randomBytes } from 'node:crypto';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { ConfigurationError, errorMessage } from '../lambda/shared/errors';
import { intEnv, optionalEnv, type EnvSource } from '../lambda/shared/env';
import { parseJsonObject } from '../lambda/shared/json';
import { formatOrderId } from '../lambda/shared/order-records';
import type { ValidatedOrder } from '../lambda/shared/order-schema';
import { parseOrder } from '../lambda/shared/order-validation';
import { backoffDelay, defaultSleep } from '../lambda/shared/retry';
import { createApiSender, describeError, describeStatus, excerpt, isRetryableStatus, seconds, type ApiCredentials, type ApiFetch, type CredentialProvider } from './signed-api';

export interface SmokeTestOptions {
  /** The API stage URL, e.g. `https://abc.execute-api.us-east-1.amazonaws.com/v1` (no trailing slash needed). */
  readonly baseUrl: string;
  /** The account the smoke orders are booked to, kept apart from real accounts so they are easy to find and ignore. */
  readonly accountId: string;
  readonly region: string;
  /** Total time for placing the order and seeing it accepted. */
  readonly deadlineMs: number;
  readonly requestTimeoutMs: number;
  readonly pollInitialDelayMs: number;
  readonly pollMaxDelayMs: number;
}

export type SmokeCredentials = ApiCredentials;
export type { CredentialProvider };

/** The part of fetch the smoke test uses; global fetch satisfies it. */
export type SmokeFetch = ApiFetch;

export interface SmokeTestDeps {
  readonly fetch: SmokeFetch;
  readonly credentials: CredentialProvider;
  readonly log: (line: string) => void;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default setTimeout-based sleep */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default Math.random */
  readonly random?: () => number;
  /** @default `smoke-<time>-<random hex>` */
  readonly clientOrderId?: () => string;
}

export type SmokeTestResult = { readonly passed: true; readonly orderId: string } | { readonly passed: false; readonly orderId: string; readonly reason: string };

/** An attempt with less time than this would only time out and hide the last real answer. */
const MIN_ATTEMPT_MS = 250;

/** The smallest order the platform accepts, so a smoke run never moves a meaningful notional. */
export function smokeOrder(accountId: string, clientOrderId: string): ValidatedOrder {
  // Validated with the platform's own schema: a smoke order the API would reject is a bug here, not in the API.
  return parseOrder({ clientOrderId, accountId, symbol: 'SMOKE', side: 'BUY', type: 'LIMIT', quantity: '1', limitPrice: '1.00', timeInForce: 'DAY' });
}

export async function runSmokeTest(options: SmokeTestOptions, deps: SmokeTestDeps): Promise<SmokeTestResult> {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? defaultSleep;
  const random = deps.random ?? Math.random;
  const started = now();
  const deadline = started + options.deadlineMs;
  const base = options.baseUrl.replace(/\/+$/, '');
  const clientOrderId = (deps.clientOrderId ?? defaultClientOrderId)();
  const order = smokeOrder(options.accountId, clientOrderId);
  const orderId = formatOrderId(order);
  const fail = (reason: string): SmokeTestResult => {
    deps.log(`smoke-test: FAILED after ${seconds(now() - started)}: ${reason}`);
    return { passed: false, orderId, reason };
  };
  const send = createApiSender({ region: options.region, credentials: deps.credentials, fetch: deps.fetch, requestTimeoutMs: options.requestTimeoutMs, remainingMs: () => deadline - now(), now });

  /** Waits before retry number `retry`; false when the deadline leaves no time for a meaningful attempt. */
  const backoff = async (retry: number, what: string): Promise<boolean> => {
    const spare = deadline - now() - MIN_ATTEMPT_MS;
    if (spare <= 0) return false;
    const delay = Math.min(spare, Math.max(50, backoffDelay(retry, options.pollInitialDelayMs, options.pollMaxDelayMs, random)));
    deps.log(`  ${what}; retrying in ${seconds(delay)}`);
    await sleep(delay);
    return true;
  };

  try {
    // Resolved once up front so that missing credentials fail at once with a clear reason, not as retries until the deadline.
    await deps.credentials();
  } catch (err) {
    return fail(`no AWS credentials from the default provider chain: ${describeError(err)}`);
  }

  const ordersUrl = `${base}/orders`;
  const body = JSON.stringify(order);
  deps.log(`smoke-test: placing LIMIT order ${orderId} (BUY 1 SMOKE @ 1.00) via POST ${ordersUrl}`);
  for (let retry = 0; ; retry += 1) {
    // Retrying the POST is safe: the same clientOrderId is the FIFO deduplication id, so the order is queued once.
    const response = await send('POST', ordersUrl, body);
    deps.log(`  POST ${ordersUrl} -> ${describeStatus(response.status)} in ${response.ms} ms`);
    if (response.status === 202) break;
    if (!isRetryableStatus(response.status)) {
      return fail(`POST ${ordersUrl} answered ${response.status}, expected 202: ${excerpt(response.body)}`);
    }
    if (!(await backoff(retry, `not accepted yet (${excerpt(response.body)})`))) {
      return fail(`POST ${ordersUrl} did not answer 202 before the deadline; last: ${describeStatus(response.status)} ${excerpt(response.body)}`);
    }
  }

  const orderUrl = `${base}/orders/${encodeURIComponent(orderId)}`;
  deps.log(`smoke-test: waiting for ${orderId} to be ACCEPTED via GET ${orderUrl}`);
  for (let retry = 0; ; retry += 1) {
    const response = await send('GET', orderUrl);
    deps.log(`  GET ${orderUrl} -> ${describeStatus(response.status)} in ${response.ms} ms`);
    if (response.status === 200) {
      const status = orderStatus(response.body);
      if (status === 'ACCEPTED') {
        deps.log(`smoke-test: PASSED in ${seconds(now() - started)}: order ${orderId} is ACCEPTED`);
        return { passed: true, orderId };
      }
      return fail(`order ${orderId} has status ${JSON.stringify(status)}, expected "ACCEPTED": ${excerpt(response.body)}`);
    }
    // 404: not processed yet (or not yet on the reader); the order processor works asynchronously.
    if (response.status !== 404 && !isRetryableStatus(response.status)) {
      return fail(`GET ${orderUrl} answered ${response.status}: ${excerpt(response.body)}`);
    }
    if (!(await backoff(retry, response.status === 404 ? 'not processed yet' : `transient failure (${excerpt(response.body)})`))) {
      return fail(`order ${orderId} was not ACCEPTED before the deadline; last answer: ${describeStatus(response.status)} ${excerpt(response.body)}`);
    }
  }
}

function defaultClientOrderId(): string {
  const stamp = new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14);
  return `smoke-${stamp}-${randomBytes(4).toString('hex')}`;
}

function orderStatus(body: string): unknown {
  return parseJsonObject(body)?.['status'];
}

/** Options from the command line and the environment; a ConfigurationError names what is wrong. */
export function smokeOptionsFromArgs(args: readonly string[], env: EnvSource = process.env): SmokeTestOptions {
  const [baseUrl, ...extra] = args;
  if (baseUrl === undefined || extra.length > 0) throw new ConfigurationError('usage: smoke-test.ts <apiBaseUrl>');
  let parsed: URL;
  try {
    parsed = new URL(baseUrl);
  } catch {
    throw new ConfigurationError(`apiBaseUrl must be an absolute URL, got ${JSON.stringify(baseUrl)}`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new ConfigurationError(`apiBaseUrl must be an http(s) URL, got ${JSON.stringify(baseUrl)}`);
  }
  return {
    baseUrl,
    accountId: optionalEnv('SMOKE_ACCOUNT_ID', env) ?? 'smoke-test',
    region: optionalEnv('SMOKE_REGION', env) ?? 'us-east-1',
    deadlineMs: intEnv('SMOKE_DEADLINE_SECONDS', 120, { min: 1, max: 3_600, source: env }) * 1000,
    requestTimeoutMs: intEnv('SMOKE_REQUEST_TIMEOUT_MS', 10_000, { min: 100, max: 60_000, source: env }),
    pollInitialDelayMs: intEnv('SMOKE_POLL_INITIAL_DELAY_MS', 500, { min: 1, max: 60_000, source: env }),
    pollMaxDelayMs: intEnv('SMOKE_POLL_MAX_DELAY_MS', 5_000, { min: 1, max: 300_000, source: env }),
  };
}

async function main(): Promise<number> {
  let options: SmokeTestOptions;
  try {
    options = smokeOptionsFromArgs(process.argv.slice(2));
    smokeOrder(options.accountId, 'smoke-usage-check');
  } catch (err) {
    console.error(`smoke-test: ${errorMessage(err)}`);
    return 2;
  }
  const result = await runSmokeTest(options, { fetch: globalThis.fetch, credentials: defaultProvider(), log: (line) => console.log(line) });
  return result.passed ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(`smoke-test: unexpected failure: ${errorMessage(err)}`);
      process.exitCode = 1;
    },
  );
}
