/**
 * The game day's AWS adapters (scripts/game-day/aws-ports.ts) against a local stand-in of the FIS API that serves the
 * documented answers (test/support/aws-contracts/fis.ts) and of the order API: template lookup by Name tag across
 * pages, StartExperiment with an idempotency token, states and action states, errors named, requests signed for FIS.
 */
import { apiOrderReader, fisExperimentRunner, FisApiError } from '../../scripts/game-day/aws-ports';
import { parseArguments, UsageError } from '../../scripts/game-day/main';
import { createSignedRequester, type ApiCredentials as AwsCredentials } from '../../scripts/signed-api';
import { experiment, experimentAnswer, experimentTemplateSummary, fisError, listExperimentTemplatesAnswer } from '../support/aws-contracts/fis';
import { respond, ScriptedServer } from './harness';

const CREDENTIALS: AwsCredentials = { accessKeyId: 'AKIDGAMEDAYTEST00001', secretAccessKey: 'game-day-dummy-secret' };
const NAME = 'fis-aurora-failover-us-east-1-stg';

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

function runner(origin: string, signingService = 'fis') {
  const request = createSignedRequester({ service: signingService, region: 'us-east-1', credentials: async () => CREDENTIALS, fetch: globalThis.fetch });
  return fisExperimentRunner(request, { endpoint: origin, templateName: NAME, experimentTags: { GameDay: 'gd-test' } });
}

describe('FIS experiment runner', () => {
  it('finds the template by its Name tag on a later page, starts it once with a client token, and reads its state', async () => {
    server = await ScriptedServer.start([
      respond(200, JSON.parse(listExperimentTemplatesAnswer([experimentTemplateSummary('EXTother', { Name: 'fis-az-network-us-east-1-stg' })], 'page-2+/=')) as unknown),
      respond(200, JSON.parse(listExperimentTemplatesAnswer([experimentTemplateSummary('EXTaurora', { Name: NAME, Experiment: 'aurora-failover' })])) as unknown),
      respond(200, JSON.parse(experimentAnswer(experiment('EXPstarted', 'EXTaurora', 'initiating', { FailoverCluster: { actionId: 'aws:rds:failover-db-cluster', status: 'pending' } }))) as unknown),
      respond(200, JSON.parse(experimentAnswer(experiment('EXPstarted', 'EXTaurora', 'completed', { FailoverCluster: { actionId: 'aws:rds:failover-db-cluster', status: 'completed' } }))) as unknown),
    ]);
    const fis = runner(server.origin);
    const { id } = await fis.start();
    expect(id).toBe('EXPstarted');
    expect(await fis.state(id)).toEqual({ status: 'completed', actions: { FailoverCluster: 'completed' } });

    const [firstPage, secondPage, start, get] = server.received;
    expect(firstPage?.method).toBe('GET');
    expect(firstPage?.url).toBe('/experimentTemplates?maxResults=100');
    expect(secondPage?.url).toBe(`/experimentTemplates?maxResults=100&nextToken=${encodeURIComponent('page-2+/=')}`);
    expect(start?.method).toBe('POST');
    expect(start?.url).toBe('/experiments');
    const body = JSON.parse(start?.body ?? '{}') as Record<string, unknown>;
    expect(body).toEqual({ clientToken: expect.stringMatching(/^[0-9a-f-]{36}$/), experimentTemplateId: 'EXTaurora', tags: { GameDay: 'gd-test' } });
    expect(get?.url).toBe('/experiments/EXPstarted');
    for (const request of server.received) {
      expect(String(request.headers['authorization'])).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDGAMEDAYTEST00001\/\d{8}\/us-east-1\/fis\/aws4_request, /);
    }
  });

  it('reports a stopped experiment with FIS\'s reason, e.g. its stop condition', async () => {
    server = await ScriptedServer.start([
      respond(200, JSON.parse(experimentAnswer(experiment('EXPstop', 'EXT1', 'stopped', { InjectErrors: { actionId: 'aws:lambda:invocation-error', status: 'stopped' }, AddLatency: { actionId: 'aws:lambda:invocation-add-delay', status: 'completed' } }, 'Experiment stopped by stop condition.'))) as unknown),
    ]);
    expect(await runner(server.origin).state('EXPstop')).toEqual({ status: 'stopped', reason: 'Experiment stopped by stop condition.', actions: { InjectErrors: 'stopped', AddLatency: 'completed' } });
  });

  it('refuses to guess between two templates with the same name, and says when there is none', async () => {
    server = await ScriptedServer.start([
      respond(200, JSON.parse(listExperimentTemplatesAnswer([experimentTemplateSummary('EXTa', { Name: NAME }), experimentTemplateSummary('EXTb', { Name: NAME })])) as unknown),
      respond(200, JSON.parse(listExperimentTemplatesAnswer([])) as unknown),
    ]);
    await expect(runner(server.origin).start()).rejects.toThrow(`2 FIS experiment templates are tagged Name=${NAME} (EXTa, EXTb): refusing to guess`);
    await expect(runner(server.origin).start()).rejects.toThrow(`no FIS experiment template tagged Name=${NAME}`);
    expect(server.received.filter((request) => request.method === 'POST')).toEqual([]);
  });

  it('names the operation, the status and FIS\'s message when a call is refused', async () => {
    server = await ScriptedServer.start([
      respond(200, JSON.parse(listExperimentTemplatesAnswer([experimentTemplateSummary('EXTaurora', { Name: NAME })])) as unknown),
      respond(400, JSON.parse(fisError('Stop condition alarm-platform-degraded-us-east-1-stg is in ALARM state')) as unknown),
    ]);
    const failure = runner(server.origin).start();
    await expect(failure).rejects.toBeInstanceOf(FisApiError);
    await expect(failure).rejects.toThrow('FIS StartExperiment answered HTTP 400: Stop condition alarm-platform-degraded-us-east-1-stg is in ALARM state');
  });
});

describe('order reader', () => {
  it('treats a 200 without an order as a broken answer, and reads the fields it compares', async () => {
    server = await ScriptedServer.start([
      respond(200, { orderId: 'a.b', status: 'ACCEPTED', symbol: 'GAMEDAY', side: 'BUY', quantity: '2', limitPrice: '1.5' }),
      respond(200, { message: 'not an order' }),
      respond(404, { message: 'Order not found' }),
    ]);
    const request = createSignedRequester({ service: 'execute-api', region: 'us-east-1', credentials: async () => CREDENTIALS, fetch: globalThis.fetch });
    const reader = apiOrderReader(request, `${server.origin}/v1/`);
    expect(await reader.read('a.b')).toMatchObject({ status: 200, order: { status: 'ACCEPTED', symbol: 'GAMEDAY', side: 'BUY', quantity: '2', limitPrice: '1.5' } });
    expect(await reader.read('a.b')).toMatchObject({ status: 502 });
    expect(await reader.read('a.b')).toMatchObject({ status: 404 });
    expect(server.received[0]?.url).toBe('/v1/orders/a.b');
  });
});

describe('game-day command line', () => {
  it('takes the experiment, the API URL and the environment, with defaults for the rest', () => {
    expect(parseArguments(['--experiment', 'aurora-failover', '--api-url', 'https://abc.execute-api.us-east-1.amazonaws.com/v1'])).toEqual({
      experiment: 'aurora-failover',
      apiUrl: 'https://abc.execute-api.us-east-1.amazonaws.com/v1',
      environmentSuffix: 'stg',
      ordersPerSecond: 5,
      warmupSeconds: 60,
      cooldownSeconds: 60,
      maxExperimentMinutes: 20,
      maxRecoveryMinutes: 10,
    });
  });

  it.each([
    [['--experiment', 'region-outage', '--api-url', 'https://a/v1'], /--experiment must be one of aurora-failover, az-network, processor-faults, got "region-outage"/],
    [['--experiment', 'az-network'], /--api-url must be the stage's ApiUrl output/],
    [['--experiment', 'az-network', '--api-url', 'https://a/v1', '--rate', '500'], /--rate must be a number from 0.1 to 100, got "500"/],
    [['--experiment', 'az-network', '--api-url', 'https://a/v1', '--environment', 'Prod'], /--environment="Prod"/],
    [['--experiment', 'az-network', '--api-url', 'https://a/v1', '--dry-run', 'yes'], /unknown option --dry-run/],
  ])('refuses %j, naming the option and value', (args, message) => {
    expect(() => parseArguments(args)).toThrow(UsageError);
    expect(() => parseArguments(args)).toThrow(message);
  });
});
