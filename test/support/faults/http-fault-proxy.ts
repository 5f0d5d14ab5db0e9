/**
 * An HTTP proxy on 127.0.0.1 in front of moto that can lose, delay or rewrite the answer to a chosen AWS call after
 * moto has carried it out: the faults a real network produces between Lambda and AWS, with no mock of AWS anywhere.
 */
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** One call as it reached the proxy. */
export interface ProxiedCall {
  /** `X-Amz-Target` of JSON-protocol calls, e.g. `DynamoDB_20120810.UpdateItem`, `AWSEvents.PutEvents`. */
  readonly target: string | undefined;
  readonly body: string;
  /** 1 for the first call with this target through this proxy, 2 for the second, ... */
  readonly ordinal: number;
}

/** What moto answered. */
export interface UpstreamAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export type Fault =
  /** Forward and relay moto's answer. */
  | { readonly kind: 'pass' }
  /** Forward; moto applies the call; then reset the client's connection instead of answering (a lost acknowledgement). */
  | { readonly kind: 'dropAnswer' }
  /** Forward; hold moto's answer for `ms` before relaying it (a late acknowledgement the client may have given up on). */
  | { readonly kind: 'delayAnswer'; readonly ms: number }
  /**
   * Answer with whatever `answer` builds; it may forward a (changed) body to moto first. A changed body no longer
   * matches the client's SigV4 signature: moto does not verify signatures (AWS would refuse it), which is why only
   * the proxy's own answers to the client, never forwarded rewrites, stand for AWS behaviour in tests.
   */
  | { readonly kind: 'answer'; readonly answer: (forward: (body: string) => Promise<UpstreamAnswer>) => Promise<UpstreamAnswer> };

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: an SDK client's `endpoint`. */
  readonly endpoint: string;
  /** Every call so far, optionally only those with `target`. */
  calls(target?: string): readonly ProxiedCall[];
  close(): Promise<void>;
}

/** Hop-by-hop and length headers are the proxy's own business on each leg. */
const NOT_RELAYED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);

export async function startFaultProxy(upstreamEndpoint: string, plan: (call: ProxiedCall) => Fault): Promise<FaultProxy> {
  const upstream = new URL(upstreamEndpoint);
  const calls: ProxiedCall[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const forward = (incoming: IncomingMessage, body: string): Promise<UpstreamAnswer> =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(incoming.headers)) {
        if (value !== undefined && !NOT_RELAYED.has(name)) headers[name] = value;
      }
      headers['host'] = upstream.host;
      headers['content-length'] = String(Buffer.byteLength(body));
      const outgoing = request(
        { host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers, agent: false },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.on('end', () => resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: Buffer.concat(chunks).toString('utf8') }));
          answer.on('error', reject);
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });

  const relay = (response: ServerResponse, answer: UpstreamAnswer): void => {
    if (response.destroyed) return;
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined && !NOT_RELAYED.has(name)) headers[name] = value;
    }
    headers['content-length'] = String(Buffer.byteLength(answer.body));
    response.writeHead(answer.status, headers);
    response.end(answer.body);
  };

  const handle = async (incoming: IncomingMessage, response: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const targetHeader = incoming.headers['x-amz-target'];
    const target = Array.isArray(targetHeader) ? targetHeader[0] : targetHeader;
    const call: ProxiedCall = { target, body, ordinal: calls.filter((earlier) => earlier.target === target).length + 1 };
    calls.push(call);
    const fault = plan(call);
    switch (fault.kind) {
      case 'pass':
        relay(response, await forward(incoming, body));
        return;
      case 'dropAnswer':
        await forward(incoming, body);
        // The call has been carried out; the client only ever sees its connection reset.
        incoming.socket.destroy();
        return;
      case 'delayAnswer': {
        const answer = await forward(incoming, body);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            timers.delete(timer);
            resolve();
          }, fault.ms);
          timers.add(timer);
        });
        relay(response, answer);
        return;
      }
      case 'answer':
        relay(response, await fault.answer((changed) => forward(incoming, changed)));
        return;
    }
  };

  const server: Server = createServer((incoming, response) => {
    handle(incoming, response).catch((err: unknown) => {
      if (response.headersSent || response.destroyed) return;
      response.writeHead(502, { 'content-type': 'text/plain' });
      response.end(`fault proxy: ${err instanceof Error ? err.message : String(err)}`);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    // Resets from clients that gave up on a delayed answer are expected.
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fault proxy has no TCP address');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    calls: (target) => (target === undefined ? [...calls] : calls.filter((call) => call.target === target)),
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
