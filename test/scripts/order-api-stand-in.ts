/**
 * A loopback stand-in for the platform's order API as the pipeline's verification sees it: IAM authorization checked
 * by re-signing (sigv4-check.ts), the request validator's 400 and IAM's 403 with the gateway responses' JSON bodies
 * (lib/constructs/order-api-responses.ts), the SQS integration's 202, and GET of a processed order as the order query
 * function returns it from the reader (decimals without trailing zeros, as trim_scale leaves them).
 */
import type { ServerResponse } from 'node:http';
import { GATEWAY_RESPONSES } from '../../lib/constructs/order-api-responses';
import { formatOrderId } from '../../lambda/shared/order-records';
import type { ValidatedOrder } from '../../lambda/shared/order-schema';
import { parseOrder } from '../../lambda/shared/order-validation';
import { API_GATEWAY_GENERATED_VALUES } from '../support/aws-contracts/api-gateway';
import { ScriptedServer, type ReceivedRequest } from './harness';
import { header, signatureProblem } from './sigv4-check';

export interface OrderApiBehaviour {
  /** GETs answered 404 before the order shows up on the reader. @default 1 */
  readonly getsBeforeProcessed?: number;
  /** What the processor decided. @default 'ACCEPTED' */
  readonly decision?: 'ACCEPTED' | 'REJECTED';
  /** Changes the stored order before it is served, to stand for a processor that stored other values. */
  readonly storedChange?: Readonly<Record<string, string>>;
  /** IAM authorization switched off on POST /orders: unsigned requests reach the integration. */
  readonly iamOff?: boolean;
  /** The requestId API Gateway reports for the accepted order. @default a fixed UUID */
  readonly requestId?: string;
}

export const STAND_IN_REQUEST_ID = '8f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0';

/** Decimal text as `trim_scale(...)::text` returns it: no trailing fractional zeros. */
function trimScale(decimal: string): string {
  return decimal.includes('.') ? decimal.replace(/0+$/, '').replace(/\.$/, '') : decimal;
}

function gatewayResponse(response: ServerResponse, type: string): void {
  const definition = GATEWAY_RESPONSES.find((candidate) => candidate.type.responseType === type);
  if (!definition) throw new Error(`no gateway response ${type}`);
  response.writeHead(Number(definition.statusCode), { 'content-type': 'application/json' });
  response.end(JSON.stringify({ message: definition.message, type, retryable: definition.retryable, extendedRequestId: API_GATEWAY_GENERATED_VALUES.extendedRequestId }));
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

export class OrderApiStandIn {
  /** Why requests would have failed IAM authorization, for requests that were meant to be signed. */
  readonly signatureProblems: string[] = [];
  private readonly orders = new Map<string, { order: ValidatedOrder; gets: number }>();

  private constructor(
    readonly server: ScriptedServer,
    private readonly behaviour: OrderApiBehaviour,
  ) {}

  static async start(behaviour: OrderApiBehaviour = {}): Promise<OrderApiStandIn> {
    let instance: OrderApiStandIn | undefined;
    const server = await ScriptedServer.start([(request, response) => void instance?.answer(request, response)]);
    instance = new OrderApiStandIn(server, behaviour);
    return instance;
  }

  get origin(): string {
    return this.server.origin;
  }

  get received(): readonly ReceivedRequest[] {
    return this.server.received;
  }

  stop(): Promise<void> {
    return this.server.stop();
  }

  private async answer(request: ReceivedRequest, response: ServerResponse): Promise<void> {
    const path = request.url.split('?')[0] ?? '';
    const unsigned = header(request, 'authorization') === undefined;
    if (!(unsigned && this.behaviour.iamOff && request.method === 'POST')) {
      if (unsigned) return gatewayResponse(response, 'MISSING_AUTHENTICATION_TOKEN');
      const problem = await signatureProblem(request, this.origin);
      if (problem !== undefined) {
        this.signatureProblems.push(`${request.method} ${path}: ${problem}`);
        return gatewayResponse(response, 'INVALID_SIGNATURE');
      }
    }
    if (request.method === 'POST' && path === '/v1/orders') {
      let order: ValidatedOrder;
      try {
        // The API validates with the JSON schema generated from the same definition parseOrder applies.
        order = parseOrder(JSON.parse(request.body));
      } catch {
        return gatewayResponse(response, 'BAD_REQUEST_BODY');
      }
      const orderId = formatOrderId(order);
      if (!this.orders.has(orderId)) this.orders.set(orderId, { order, gets: 0 });
      return json(response, 202, { status: 'QUEUED', messageId: 'b6e3c7d2-6a9f-4c1e-9f3a-1d2c3b4a5f6e', requestId: this.behaviour.requestId ?? STAND_IN_REQUEST_ID });
    }
    const get = /^\/v1\/orders\/([^/]+)$/.exec(path);
    if (request.method === 'GET' && get) {
      const stored = this.orders.get(decodeURIComponent(get[1] ?? ''));
      if (!stored || stored.gets++ < (this.behaviour.getsBeforeProcessed ?? 1)) return json(response, 404, { message: 'Order not found' });
      const { order } = stored;
      const limitPrice = order.type === 'LIMIT' ? trimScale(order.limitPrice) : null;
      const decision = this.behaviour.decision ?? 'ACCEPTED';
      return json(response, 200, {
        orderId: formatOrderId(order),
        accountId: order.accountId,
        clientOrderId: order.clientOrderId,
        symbol: order.symbol,
        side: order.side,
        type: order.type,
        quantity: trimScale(order.quantity),
        limitPrice,
        notional: limitPrice,
        timeInForce: order.timeInForce,
        status: decision,
        rejectReason: decision === 'REJECTED' ? 'trading disabled' : null,
        receivedAt: '2026-11-25T16:00:00.000Z',
        processedAt: '2026-11-25T16:00:00.120Z',
        sequenceNumber: '18882345678901234567',
        ...this.behaviour.storedChange,
      });
    }
    return gatewayResponse(response, 'MISSING_AUTHENTICATION_TOKEN');
  }
}
