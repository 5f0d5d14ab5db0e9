/**
 * A loopback stand-in for the AWS APIs the pipeline's post-deploy scripts call (CloudWatch Logs, CloudWatch,
 * EventBridge, Route 53), so the real SDK clients run against it: each request is routed to the test's handler for
 * its operation, named the way the protocol names it (X-Amz-Target for the JSON protocols, the path for Route 53).
 * It answers only with what a handler returns, built from test/support/aws-contracts.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';

export interface AwsCall {
  /** e.g. `FilterLogEvents`, `GetMetricData`, `PutEvents`, `DescribeAlarms`, `GetHealthCheckStatus`. */
  readonly operation: string;
  /** The JSON body, or for Route 53 the path parameters. */
  readonly input: Record<string, unknown>;
  readonly headers: IncomingMessage['headers'];
}

export interface AwsAnswer {
  readonly status?: number;
  readonly body: string;
  /** @default the JSON protocol's content type; Route 53 answers text/xml */
  readonly contentType?: string;
}

export type AwsHandler = (call: AwsCall, index: number) => AwsAnswer | Promise<AwsAnswer>;

/** CloudWatch speaks AWS JSON 1.0 (its target prefix is GraniteServiceVersion20100801); Logs and EventBridge 1.1. */
const contentTypeOf = (target: string): string => (target.startsWith('GraniteServiceVersion20100801.') ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1');
const ROUTE53_STATUS_PATH = /^\/2013-04-01\/healthcheck\/([^/]+)\/status$/;

export class AwsStandIn {
  readonly calls: AwsCall[] = [];

  private constructor(
    private readonly server: Server,
    readonly origin: string,
  ) {}

  /** Starts on a free loopback port; an operation without a handler answers 400 UnknownOperationException. */
  static async start(handlers: Readonly<Record<string, AwsHandler>>): Promise<AwsStandIn> {
    let instance: AwsStandIn | undefined;
    const counts = new Map<string, number>();
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const target = request.headers['x-amz-target'];
        const route53 = ROUTE53_STATUS_PATH.exec((request.url ?? '').split('?')[0] ?? '');
        const operation = typeof target === 'string' ? (target.split('.').pop() ?? '') : route53 ? 'GetHealthCheckStatus' : `${request.method} ${request.url}`;
        const input: Record<string, unknown> = route53 ? { HealthCheckId: decodeURIComponent(route53[1] ?? '') } : body === '' ? {} : (JSON.parse(body) as Record<string, unknown>);
        const call: AwsCall = { operation, input, headers: request.headers };
        instance?.calls.push(call);
        const index = counts.get(operation) ?? 0;
        counts.set(operation, index + 1);
        const handler = handlers[operation];
        void Promise.resolve(handler ? handler(call, index) : { status: 400, body: JSON.stringify({ __type: 'UnknownOperationException', message: `no handler for ${operation}` }) }).then((answer) => {
          response.writeHead(answer.status ?? 200, { 'content-type': answer.contentType ?? (typeof target === 'string' ? contentTypeOf(target) : 'text/xml'), 'x-amzn-requestid': `stand-in-${index}` });
          response.end(answer.body);
        });
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('the AWS stand-in has no TCP address');
    instance = new AwsStandIn(server, `http://127.0.0.1:${address.port}`);
    return instance;
  }

  callsOf(operation: string): AwsCall[] {
    return this.calls.filter((call) => call.operation === operation);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
