/**
 * The game day's ports for a deployed stage: signed order requests to the API, unsigned probes of the public
 * `/v1/health`, and the AWS FIS API (ListExperimentTemplates, StartExperiment, GetExperiment, StopExperiment).
 */
import { randomUUID } from 'node:crypto';
import { isJsonObject, jsonMember, parseJson, parseJsonObject } from '../../lambda/shared/json';
import type { ApiFetch as ScriptFetch, SignedRequester } from '../signed-api';
import type { ExperimentRunner, ExperimentState, ExperimentStatus, HealthProber, OrderReader, OrderSender, StoredOrderView } from './game-day';

/** Every call's own limit: a request slower than this is failed, and counted as such in the report. */
export const REQUEST_TIMEOUT_MS = 5_000;

/** `POST {apiUrl}/orders`, SigV4-signed (IAM auth). */
export function apiOrderSender(request: SignedRequester, apiUrl: string): OrderSender {
  const url = `${apiUrl.replace(/\/+$/, '')}/orders`;
  return {
    async submit(order) {
      const response = await request('POST', url, { body: JSON.stringify(order), timeoutMs: REQUEST_TIMEOUT_MS });
      return { status: response.status, ms: response.ms };
    },
  };
}

/** `GET {apiUrl}/orders/{orderId}`, SigV4-signed; served from the Aurora reader. */
export function apiOrderReader(request: SignedRequester, apiUrl: string): OrderReader {
  const base = `${apiUrl.replace(/\/+$/, '')}/orders/`;
  return {
    async read(orderId) {
      const response = await request('GET', `${base}${encodeURIComponent(orderId)}`, { timeoutMs: REQUEST_TIMEOUT_MS });
      if (response.status !== 200) return { status: response.status, ms: response.ms };
      const order = parseStoredOrder(response.body);
      // A 200 whose body is not an order is a broken answer, not a found order.
      return order === undefined ? { status: 502, ms: response.ms } : { status: 200, ms: response.ms, order };
    },
  };
}

function parseStoredOrder(body: string): StoredOrderView | undefined {
  const parsed = parseJsonObject(body);
  if (parsed === undefined) return undefined;
  const field = (name: string): string | null => {
    const value = parsed[name];
    return typeof value === 'string' ? value : null;
  };
  const status = field('status');
  return status === null ? undefined : { status, symbol: field('symbol'), side: field('side'), quantity: field('quantity'), limitPrice: field('limitPrice') };
}

/** `GET {healthUrl}`, public: healthy only on 200 with the body Route 53 matches (`"status":"ok"`). */
export function httpHealthProber(fetch: ScriptFetch, healthUrl: string, now: () => number = Date.now): HealthProber {
  return {
    async probe() {
      const started = now();
      try {
        const response = await fetch(healthUrl, { method: 'GET', headers: { accept: 'application/json' }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), redirect: 'manual' });
        const body = await response.text();
        return { status: response.status, ms: now() - started, healthy: response.status === 200 && body.includes('"status":"ok"') };
      } catch {
        return { status: 0, ms: now() - started, healthy: false };
      }
    },
  };
}

/** Thrown when the FIS API refuses a call; the message names the call, the status and FIS's own message. */
export class FisApiError extends Error {
  constructor(
    readonly operation: string,
    readonly status: number,
    body: string,
  ) {
    super(`FIS ${operation} answered ${status === 0 ? 'nothing' : `HTTP ${status}`}: ${fisMessage(body)}`);
    this.name = 'FisApiError';
  }
}

function fisMessage(body: string): string {
  const parsed = parseJsonObject(body);
  const message = parsed?.['message'] ?? parsed?.['Message'];
  // Not JSON, or no message in it: the raw text.
  return typeof message === 'string' ? message : body.replace(/\s+/g, ' ').slice(0, 300);
}

export interface FisRunnerSettings {
  /** `https://fis.{region}.amazonaws.com`; tests point it at a local stand-in. */
  readonly endpoint: string;
  /** The template's `Name` tag, `fis-{experiment}-{region}-{suffix}` (lib/constructs/chaos-experiments.ts). */
  readonly templateName: string;
  /** Tags for the experiment, e.g. the game day's run id, so its log lines can be found. */
  readonly experimentTags: Readonly<Record<string, string>>;
}

const EXPERIMENT_STATUSES: ReadonlySet<string> = new Set<ExperimentStatus>(['pending', 'initiating', 'running', 'completed', 'stopping', 'stopped', 'failed', 'cancelled']);

/**
 * The FIS API as the game day uses it (AWS FIS API Reference: ListExperimentTemplates, StartExperiment, GetExperiment,
 * StopExperiment; REST with JSON bodies, signed for `fis`). The template is found by its Name tag, never by id, so a
 * redeployed stage needs no new argument; two templates with the same name are refused rather than guessed between.
 */
export function fisExperimentRunner(request: SignedRequester, settings: FisRunnerSettings): ExperimentRunner {
  const endpoint = settings.endpoint.replace(/\/+$/, '');
  const call = async (operation: string, method: 'GET' | 'POST' | 'DELETE', path: string, options: { body?: unknown; query?: Record<string, string> } = {}): Promise<unknown> => {
    const response = await request(method, `${endpoint}${path}`, {
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      ...(options.query === undefined ? {} : { query: options.query }),
      timeoutMs: REQUEST_TIMEOUT_MS,
    });
    if (response.status !== 200) throw new FisApiError(operation, response.status, response.body);
    const parsed = parseJson(response.body);
    if (!parsed.ok) throw new FisApiError(operation, response.status, `not JSON: ${response.body}`);
    return parsed.value;
  };

  const findTemplateId = async (): Promise<string> => {
    const matches: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await call('ListExperimentTemplates', 'GET', '/experimentTemplates', { query: { maxResults: '100', ...(nextToken === undefined ? {} : { nextToken }) } });
      const templates = jsonMember(page, 'experimentTemplates');
      for (const template of Array.isArray(templates) ? templates : []) {
        const id = jsonMember(template, 'id');
        if (typeof id === 'string' && jsonMember(jsonMember(template, 'tags'), 'Name') === settings.templateName) matches.push(id);
      }
      const token = jsonMember(page, 'nextToken');
      nextToken = typeof token === 'string' && token !== '' ? token : undefined;
    } while (nextToken !== undefined);
    if (matches.length === 0) throw new Error(`no FIS experiment template tagged Name=${settings.templateName} in this account and Region (is chaos enabled for the stage, and deployed?)`);
    if (matches.length > 1) throw new Error(`${matches.length} FIS experiment templates are tagged Name=${settings.templateName} (${matches.join(', ')}): refusing to guess`);
    return matches[0] as string;
  };

  return {
    description: settings.templateName,
    async start() {
      const templateId = await findTemplateId();
      const started = await call('StartExperiment', 'POST', '/experiments', {
        // Idempotency token: a retried StartExperiment can never start a second experiment.
        body: { clientToken: randomUUID(), experimentTemplateId: templateId, tags: settings.experimentTags },
      });
      const id = jsonMember(jsonMember(started, 'experiment'), 'id');
      if (typeof id !== 'string') throw new FisApiError('StartExperiment', 200, 'no experiment id in the answer');
      return { id };
    },
    async state(id) {
      const answer = await call('GetExperiment', 'GET', `/experiments/${encodeURIComponent(id)}`);
      return experimentState(jsonMember(answer, 'experiment'));
    },
    async stop(id) {
      await call('StopExperiment', 'DELETE', `/experiments/${encodeURIComponent(id)}`);
    },
  };
}

function experimentState(experiment: unknown): ExperimentState {
  const state = jsonMember(experiment, 'state');
  const status = jsonMember(state, 'status');
  if (typeof status !== 'string' || !EXPERIMENT_STATUSES.has(status)) throw new FisApiError('GetExperiment', 200, `unknown experiment state ${JSON.stringify(status)}`);
  const reason = jsonMember(state, 'reason');
  const actions: Record<string, string> = {};
  const listed = jsonMember(experiment, 'actions');
  if (isJsonObject(listed)) {
    for (const [name, action] of Object.entries(listed)) {
      const actionStatus = jsonMember(jsonMember(action, 'state'), 'status');
      if (typeof actionStatus === 'string') actions[name] = actionStatus;
    }
  }
  return { status: status as ExperimentStatus, ...(typeof reason === 'string' ? { reason } : {}), ...(Object.keys(actions).length > 0 ? { actions } : {}) };
}
