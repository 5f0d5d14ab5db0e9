/**
 * The game day's logic: a steady stream of orders and health probes around one failure experiment, then proof that
 * every accepted order was stored exactly once, and what the failure cost. Pure: every effect comes through a port.
 */

/** Time, injectable so a test can run the same logic against real local services. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** The order the game day places, as the API takes it (decimal strings, never floats). */
export interface GameDayOrder {
  readonly clientOrderId: string;
  readonly accountId: string;
  readonly symbol: string;
  readonly side: 'BUY' | 'SELL';
  readonly type: 'LIMIT';
  readonly quantity: string;
  readonly limitPrice: string;
  readonly timeInForce: 'DAY';
}

/** One request's outcome; status 0 means no HTTP answer (network fault, timeout). */
export interface RequestOutcome {
  readonly status: number;
  readonly ms: number;
}

/** What an order read found: the stored order, or nothing yet (404), or a failure. */
export interface ReadOutcome extends RequestOutcome {
  readonly order?: StoredOrderView;
}

/** The fields of `GET /v1/orders/{orderId}` the game day compares with what it sent. */
export interface StoredOrderView {
  readonly status: string;
  readonly symbol: string | null;
  readonly side: string | null;
  readonly quantity: string | null;
  readonly limitPrice: string | null;
}

export interface HealthOutcome extends RequestOutcome {
  readonly healthy: boolean;
}

/** `POST /v1/orders`: 202 when queued. */
export interface OrderSender {
  submit(order: GameDayOrder): Promise<RequestOutcome>;
}

/** `GET /v1/orders/{accountId}.{clientOrderId}`. */
export interface OrderReader {
  read(orderId: string): Promise<ReadOutcome>;
}

/** `GET /v1/health`. */
export interface HealthProber {
  probe(): Promise<HealthOutcome>;
}

/** FIS experiment states (AWS FIS API Reference, ExperimentState); the game day's stand-ins report the same. */
export type ExperimentStatus = 'pending' | 'initiating' | 'running' | 'completed' | 'stopping' | 'stopped' | 'failed' | 'cancelled';

export interface ExperimentState {
  readonly status: ExperimentStatus;
  readonly reason?: string;
  /** Each action's status, e.g. `{ FailoverCluster: 'completed' }`. */
  readonly actions?: Readonly<Record<string, string>>;
}

/** Starts the experiment and reports on it: AWS FIS for real, a PostgreSQL restart in the local test. */
export interface ExperimentRunner {
  /** What is being run, for the report (e.g. the template id and name). */
  readonly description: string;
  start(): Promise<{ readonly id: string }>;
  state(id: string): Promise<ExperimentState>;
  stop(id: string): Promise<void>;
}

export interface GameDayPorts {
  readonly clock: Clock;
  readonly orders: OrderSender;
  readonly reader: OrderReader;
  readonly health: HealthProber;
  readonly experiment: ExperimentRunner;
  /** @default no output */
  readonly log?: (line: string) => void;
}

export interface GameDayOptions {
  /** Prefix of every clientOrderId, unique per run (the orders of two runs must never meet). */
  readonly runId: string;
  /** The orders are spread over these accounts, i.e. over as many FIFO message groups. */
  readonly accountIds: readonly string[];
  readonly ordersPerSecond: number;
  /** Steady state before the experiment starts. */
  readonly warmupMs: number;
  /** Steady stream after `/v1/health` recovered. */
  readonly cooldownMs: number;
  /** An experiment still running after this is stopped, and the run fails. */
  readonly maxExperimentMs: number;
  /** Health is considered recovered only if it recovers within this time after the experiment ended. */
  readonly maxRecoveryMs: number;
  readonly healthIntervalMs: number;
  readonly experimentPollMs: number;
  /** Consecutive healthy probes that count as recovered (one lucky answer is not recovery). */
  readonly recoveryProbes: number;
  /** A request slower than this counts as slow; the API's p99 target is 1,000 ms. */
  readonly slowRequestMs: number;
  /** How long after an order is accepted the stream reads it back, as a client confirming it would. */
  readonly readBackAfterMs: number;
  /** Attempts per order submission (same clientOrderId each time: the API de-duplicates on it). */
  readonly submitAttempts: number;
  /** After the stream: how long each order may take to be found. */
  readonly verifyDeadlineMs: number;
  readonly verifyPollMs: number;
}

export type RequestKind = 'submit' | 'read';

/** One request of the stream, for the failure window. */
export interface TimelineEntry {
  readonly kind: RequestKind;
  /** When it was sent, ms since the experiment started (negative: before). */
  readonly at: number;
  readonly status: number;
  readonly ms: number;
}

export interface Window {
  readonly fromMs: number;
  readonly toMs: number;
  readonly durationMs: number;
}

export interface GameDayReport {
  readonly runId: string;
  readonly experiment: {
    readonly description: string;
    readonly id?: string;
    readonly status: ExperimentStatus | 'not-started';
    readonly reason?: string;
    readonly actions?: Readonly<Record<string, string>>;
    /** How long the experiment ran, from StartExperiment to a final state. */
    readonly durationMs?: number;
  };
  readonly orders: {
    readonly submitted: number;
    /** 202: queued, so they must be stored. */
    readonly accepted: number;
    /** A final 4xx: the API refused them; they must not be needed, and are not checked. */
    readonly refused: number;
    /** No 202 after every attempt; stored or not is both allowed (a lost answer may hide a success). */
    readonly unconfirmed: number;
    /** Accepted orders found with the content sent, ACCEPTED or REJECTED. */
    readonly storedOnce: number;
    readonly byStatus: Readonly<Record<string, number>>;
    /** Accepted but never found: lost. */
    readonly lost: readonly string[];
    /** Found with other content than was sent, or in an unexpected status. */
    readonly mismatched: readonly string[];
  };
  readonly requests: {
    readonly total: number;
    readonly failed: number;
    readonly slow: number;
    /** From the first to the last failed or slow request of the stream, relative to the experiment's start. */
    readonly badWindow?: Window;
  };
  readonly health: {
    readonly probes: number;
    readonly failed: number;
    /** The first failed probe after the experiment started, relative to its start. */
    readonly firstFailureMs?: number;
    /** When the platform was healthy again for good (the first of `recoveryProbes` healthy probes in a row). */
    readonly recoveredMs?: number;
    /** Time from the experiment's start until /v1/health recovered; 0 when it never failed. */
    readonly timeToRecoverMs?: number;
  };
  readonly passed: boolean;
  /** Why it failed, one line each; empty when it passed. */
  readonly problems: readonly string[];
}

const FINAL_STATES: ReadonlySet<ExperimentStatus> = new Set(['completed', 'stopped', 'failed', 'cancelled']);

interface OrderRecord {
  readonly order: GameDayOrder;
  readonly orderId: string;
  outcome: 'pending' | 'accepted' | 'refused' | 'unconfirmed';
}

interface HealthEntry {
  readonly at: number;
  readonly healthy: boolean;
}

/** Runs one game day; never throws for a failure of the platform or the experiment, only reports it. */
export async function runGameDay(options: GameDayOptions, ports: GameDayPorts): Promise<GameDayReport> {
  validateOptions(options);
  const { clock } = ports;
  const log = ports.log ?? (() => undefined);
  const problems: string[] = [];
  const orders: OrderRecord[] = [];
  const timeline: Array<Omit<TimelineEntry, 'at'> & { readonly sentAt: number }> = [];
  const healthLog: HealthEntry[] = [];
  const inFlight = new Set<Promise<void>>();
  const track = (work: Promise<void>): void => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  };

  const preflight = await ports.health.probe();
  if (!preflight.healthy) {
    return emptyReport(options, ports.experiment.description, [`/v1/health was not healthy before the experiment (HTTP ${preflight.status}): nothing was started`]);
  }

  let streaming = true;
  const stream = (async () => {
    const interval = 1_000 / options.ordersPerSecond;
    const started = clock.now();
    for (let index = 0; streaming; index += 1) {
      const record = newOrder(options, index);
      orders.push(record);
      track(placeAndReadBack(record));
      const next = started + (index + 1) * interval;
      await clock.sleep(Math.max(0, next - clock.now()));
    }
  })();
  const probing = (async () => {
    while (streaming) {
      const outcome = await ports.health.probe();
      healthLog.push({ at: clock.now() - outcome.ms, healthy: outcome.healthy });
      await clock.sleep(Math.max(0, options.healthIntervalMs - outcome.ms));
    }
  })();

  async function placeAndReadBack(record: OrderRecord): Promise<void> {
    for (let attempt = 1; attempt <= options.submitAttempts; attempt += 1) {
      const sentAt = clock.now();
      const outcome = await ports.orders.submit(record.order);
      timeline.push({ kind: 'submit', sentAt, status: outcome.status, ms: outcome.ms });
      if (outcome.status === 202) {
        record.outcome = 'accepted';
        break;
      }
      if (outcome.status >= 400 && outcome.status < 500 && outcome.status !== 429) {
        record.outcome = 'refused';
        return;
      }
      record.outcome = 'unconfirmed';
      // Resent with the same clientOrderId: the API's deduplication id, so a lost 202 cannot queue it twice.
      if (attempt < options.submitAttempts) await clock.sleep(Math.min(1_000, 100 * 2 ** attempt));
    }
    if (record.outcome !== 'accepted') return;
    // A client confirming its order: 404 means not processed yet, not a failure.
    await clock.sleep(options.readBackAfterMs);
    const sentAt = clock.now();
    const read = await ports.reader.read(record.orderId);
    timeline.push({ kind: 'read', sentAt, status: read.status === 404 ? 200 : read.status, ms: read.ms });
  }

  await clock.sleep(options.warmupMs);
  log(`game-day: ${orders.length} orders in ${options.warmupMs} ms of steady state; starting ${ports.experiment.description}`);
  const experimentStart = clock.now();
  let experimentId: string | undefined;
  let state: ExperimentState | undefined;
  let experimentEnd: number | undefined;
  try {
    experimentId = (await ports.experiment.start()).id;
    log(`game-day: experiment ${experimentId} started`);
    for (;;) {
      state = await ports.experiment.state(experimentId);
      if (FINAL_STATES.has(state.status)) break;
      if (clock.now() - experimentStart > options.maxExperimentMs) {
        problems.push(`the experiment was still ${state.status} after ${options.maxExperimentMs} ms; stopped it`);
        await ports.experiment.stop(experimentId);
        state = await ports.experiment.state(experimentId);
        break;
      }
      await clock.sleep(options.experimentPollMs);
    }
    experimentEnd = clock.now();
    log(`game-day: experiment ${experimentId} ${state.status}${state.reason ? ` (${state.reason})` : ''} after ${experimentEnd - experimentStart} ms`);
    if (state.status === 'failed' || state.status === 'cancelled') problems.push(`the experiment ${state.status}${state.reason ? `: ${state.reason}` : ''}`);
  } catch (err) {
    problems.push(`the experiment could not be run: ${err instanceof Error ? err.message : String(err)}`);
  }

  // Recovered: `recoveryProbes` healthy probes in a row after the experiment ended (or never unhealthy at all).
  const recoveryDeadline = (experimentEnd ?? clock.now()) + options.maxRecoveryMs;
  while (recoveredAt(healthLog, experimentStart, experimentEnd ?? experimentStart, options.recoveryProbes) === undefined && clock.now() < recoveryDeadline) {
    await clock.sleep(options.healthIntervalMs);
  }
  await clock.sleep(options.cooldownMs);
  streaming = false;
  await Promise.all([stream, probing]);
  while (inFlight.size > 0) await Promise.all([...inFlight]);
  log(`game-day: stream stopped after ${orders.length} orders; verifying every accepted order`);

  const verification = await verifyOrders(orders, options, ports);
  const health = healthSummary(healthLog, experimentStart, experimentEnd ?? experimentStart, options.recoveryProbes);
  if (health.recoveredMs === undefined) problems.push(`/v1/health did not recover within ${options.maxRecoveryMs} ms of the experiment's end`);
  if (verification.lost.length > 0) problems.push(`${verification.lost.length} accepted order(s) lost: ${verification.lost.slice(0, 10).join(', ')}`);
  if (verification.mismatched.length > 0) problems.push(`${verification.mismatched.length} order(s) stored differently than sent: ${verification.mismatched.slice(0, 10).join(', ')}`);
  const accepted = orders.filter((record) => record.outcome === 'accepted').length;
  if (accepted === 0) problems.push('no order was accepted: the stream proves nothing');

  const entries: TimelineEntry[] = timeline.map(({ sentAt, ...entry }) => ({ ...entry, at: sentAt - experimentStart }));
  const bad = entries.filter((entry) => isFailed(entry) || entry.ms > options.slowRequestMs);
  const first = bad.length > 0 ? Math.min(...bad.map((entry) => entry.at)) : undefined;
  const last = bad.length > 0 ? Math.max(...bad.map((entry) => entry.at + entry.ms)) : undefined;
  return {
    runId: options.runId,
    experiment: {
      description: ports.experiment.description,
      ...(experimentId === undefined ? {} : { id: experimentId }),
      status: state?.status ?? 'not-started',
      ...(state?.reason === undefined ? {} : { reason: state.reason }),
      ...(state?.actions === undefined ? {} : { actions: state.actions }),
      ...(experimentEnd === undefined ? {} : { durationMs: experimentEnd - experimentStart }),
    },
    orders: {
      submitted: orders.length,
      accepted,
      refused: orders.filter((record) => record.outcome === 'refused').length,
      unconfirmed: orders.filter((record) => record.outcome === 'unconfirmed').length,
      ...verification,
    },
    requests: {
      total: entries.length,
      failed: entries.filter(isFailed).length,
      slow: entries.filter((entry) => !isFailed(entry) && entry.ms > options.slowRequestMs).length,
      ...(first === undefined || last === undefined ? {} : { badWindow: { fromMs: first, toMs: last, durationMs: last - first } }),
    },
    health,
    passed: problems.length === 0,
    problems,
  };
}

function isFailed(entry: TimelineEntry): boolean {
  return entry.status < 200 || entry.status >= 300;
}

function newOrder(options: GameDayOptions, index: number): OrderRecord {
  const accountId = options.accountIds[index % options.accountIds.length] ?? 'game-day';
  // Small, valid LIMIT orders far below any risk limit: the run must not move meaningful notional.
  const order: GameDayOrder = {
    clientOrderId: `${options.runId}-${String(index).padStart(6, '0')}`,
    accountId,
    symbol: 'GAMEDAY',
    side: index % 2 === 0 ? 'BUY' : 'SELL',
    type: 'LIMIT',
    quantity: String(1 + (index % 5)),
    limitPrice: `1.${String(index % 100).padStart(2, '0')}`,
    timeInForce: 'DAY',
  };
  return { order, orderId: `${order.accountId}.${order.clientOrderId}`, outcome: 'pending' };
}

/** Reads every order back until found or the deadline; accepted ones must be there once, as sent. */
async function verifyOrders(
  records: readonly OrderRecord[],
  options: GameDayOptions,
  ports: GameDayPorts,
): Promise<Pick<GameDayReport['orders'], 'storedOnce' | 'byStatus' | 'lost' | 'mismatched'>> {
  const byStatus: Record<string, number> = {};
  const lost: string[] = [];
  const mismatched: string[] = [];
  let storedOnce = 0;
  const deadline = ports.clock.now() + options.verifyDeadlineMs;
  const toCheck = records.filter((record) => record.outcome === 'accepted' || record.outcome === 'unconfirmed');
  // A handful at a time: the verification must not become a load test of its own.
  const concurrency = 8;
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let index = next++; index < toCheck.length; index = next++) {
      const record = toCheck[index];
      if (record === undefined) continue;
      const found = await readUntilFound(record.orderId, deadline, options, ports);
      if (found === undefined) {
        if (record.outcome === 'accepted') lost.push(record.orderId);
        continue;
      }
      const difference = differenceFromSent(record.order, found);
      if (difference !== undefined) {
        mismatched.push(`${record.orderId} (${difference})`);
        continue;
      }
      byStatus[found.status] = (byStatus[found.status] ?? 0) + 1;
      if (record.outcome === 'accepted') storedOnce += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { storedOnce, byStatus, lost: lost.sort(), mismatched: mismatched.sort() };
}

async function readUntilFound(orderId: string, deadline: number, options: GameDayOptions, ports: GameDayPorts): Promise<StoredOrderView | undefined> {
  for (;;) {
    const read = await ports.reader.read(orderId);
    if (read.status === 200 && read.order !== undefined) return read.order;
    if (ports.clock.now() + options.verifyPollMs > deadline) return undefined;
    await ports.clock.sleep(options.verifyPollMs);
  }
}

/** Why the stored order is not the one sent, or undefined when it is (the key is unique: one row per orderId). */
function differenceFromSent(sent: GameDayOrder, stored: StoredOrderView): string | undefined {
  if (stored.status !== 'ACCEPTED' && stored.status !== 'REJECTED') return `status ${stored.status}`;
  if (stored.status === 'REJECTED') return undefined;
  const expected: Array<[string, string, string | null]> = [
    ['symbol', sent.symbol, stored.symbol],
    ['side', sent.side, stored.side],
    ['quantity', sent.quantity, stored.quantity],
    ['limitPrice', sent.limitPrice, stored.limitPrice],
  ];
  const differing = expected.filter(([, want, got]) => got === null || !sameDecimalOrText(want, got));
  return differing.length === 0 ? undefined : differing.map(([field, want, got]) => `${field} ${JSON.stringify(got)}, sent ${JSON.stringify(want)}`).join('; ');
}

/** `1.10` and `1.1` are the same price: the table trims the scale of its NUMERIC columns. */
function sameDecimalOrText(sent: string, stored: string): boolean {
  if (sent === stored) return true;
  const trim = (value: string): string => (value.includes('.') ? value.replace(/0+$/, '').replace(/\.$/, '') : value);
  return /^\d+(\.\d+)?$/.test(sent) && trim(sent) === trim(stored);
}

/** The start of the first run of `needed` healthy probes after the experiment ended that nothing unhealthy follows. */
function recoveredAt(entries: readonly HealthEntry[], experimentStart: number, experimentEnd: number, needed: number): number | undefined {
  const after = entries.filter((entry) => entry.at >= experimentStart);
  const lastUnhealthy = after.reduce<number | undefined>((latest, entry) => (entry.healthy ? latest : entry.at), undefined);
  const candidates = after.filter((entry) => entry.healthy && entry.at >= experimentEnd && (lastUnhealthy === undefined || entry.at > lastUnhealthy));
  if (candidates.length < needed) return undefined;
  // Before the failure showed, the platform was healthy all along: recovered is then "never went down".
  if (lastUnhealthy === undefined) return experimentStart;
  return candidates[0]?.at;
}

function healthSummary(entries: readonly HealthEntry[], experimentStart: number, experimentEnd: number, needed: number): GameDayReport['health'] {
  const firstFailure = entries.find((entry) => entry.at >= experimentStart && !entry.healthy);
  const recovered = recoveredAt(entries, experimentStart, experimentEnd, needed);
  return {
    probes: entries.length,
    failed: entries.filter((entry) => !entry.healthy).length,
    ...(firstFailure === undefined ? {} : { firstFailureMs: firstFailure.at - experimentStart }),
    ...(recovered === undefined ? {} : { recoveredMs: recovered - experimentStart, timeToRecoverMs: recovered - experimentStart }),
  };
}

function emptyReport(options: GameDayOptions, description: string, problems: string[]): GameDayReport {
  return {
    runId: options.runId,
    experiment: { description, status: 'not-started' },
    orders: { submitted: 0, accepted: 0, refused: 0, unconfirmed: 0, storedOnce: 0, byStatus: {}, lost: [], mismatched: [] },
    requests: { total: 0, failed: 0, slow: 0 },
    health: { probes: 1, failed: 1 },
    passed: false,
    problems,
  };
}

function validateOptions(options: GameDayOptions): void {
  if (!/^[A-Za-z0-9-]{1,40}$/.test(options.runId)) throw new RangeError(`runId must be 1-40 letters, digits or hyphens, got ${JSON.stringify(options.runId)}`);
  if (options.accountIds.length === 0) throw new RangeError('accountIds must name at least one account');
  if (!(options.ordersPerSecond > 0 && options.ordersPerSecond <= 100)) throw new RangeError(`ordersPerSecond must be in (0, 100], got ${options.ordersPerSecond}`);
  if (!(options.recoveryProbes >= 1)) throw new RangeError(`recoveryProbes must be at least 1, got ${options.recoveryProbes}`);
  if (!(options.submitAttempts >= 1)) throw new RangeError(`submitAttempts must be at least 1, got ${options.submitAttempts}`);
}

/** The report as an operator reads it; the JSON report carries the same and more. */
export function describeReport(report: GameDayReport): string[] {
  const seconds = (ms: number | undefined): string => (ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(1)} s`);
  const { experiment, orders, requests, health } = report;
  const actions = experiment.actions === undefined ? '' : ` [${Object.entries(experiment.actions).map(([name, status]) => `${name}: ${status}`).join(', ')}]`;
  return [
    `game-day ${report.runId}: ${report.passed ? 'PASSED' : 'FAILED'}`,
    `  experiment   ${experiment.description}: ${experiment.status}${experiment.reason ? ` (${experiment.reason})` : ''}${actions}, ran ${seconds(experiment.durationMs)}`,
    `  orders       ${orders.submitted} sent, ${orders.accepted} accepted (202), ${orders.storedOnce} stored exactly once ${JSON.stringify(orders.byStatus)}, ${orders.lost.length} lost, ${orders.mismatched.length} mismatched, ${orders.refused} refused, ${orders.unconfirmed} unconfirmed`,
    `  requests     ${requests.total} (${requests.failed} failed, ${requests.slow} slow)${requests.badWindow ? `, failed or slow from ${seconds(requests.badWindow.fromMs)} to ${seconds(requests.badWindow.toMs)} after the start (${seconds(requests.badWindow.durationMs)})` : ', none failed or slow'}`,
    `  /v1/health   ${health.probes} probes, ${health.failed} failed; first failure ${seconds(health.firstFailureMs)} after the start; recovered ${seconds(health.timeToRecoverMs)} after the start`,
    ...report.problems.map((problem) => `  problem      ${problem}`),
  ];
}
