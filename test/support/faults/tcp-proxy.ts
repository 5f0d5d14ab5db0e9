/**
 * A TCP proxy on 127.0.0.1 in front of a real local service (PostgreSQL, moto) that can forward, delay or black-hole
 * traffic, switched at any moment and applied to open connections too: a hung dependency without a mock.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * - `forward`: pass bytes both ways.
 * - `blackhole`: accept and read, never forward, never answer (a dependency that is up but hung).
 * - `delay`: forward requests at once and hold every answer back by `ms` (a slow dependency).
 */
export type ProxyMode = { readonly kind: 'forward' } | { readonly kind: 'blackhole' } | { readonly kind: 'delay'; readonly ms: number };

export const FORWARD: ProxyMode = { kind: 'forward' };
export const BLACKHOLE: ProxyMode = { kind: 'blackhole' };

export interface TcpProxy {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** `http://127.0.0.1:<port>`, for an SDK endpoint. */
  readonly url: string;
  setMode(mode: ProxyMode): void;
  /** Connections accepted so far. */
  connections(): number;
  /** Cuts every open connection (both sides), like a failover that resets sockets. */
  resetAll(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1', initial: ProxyMode = FORWARD): Promise<TcpProxy> {
  let mode = initial;
  let accepted = 0;
  const open = new Set<Socket>();
  const track = (socket: Socket): void => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    // A peer that gives up resets its socket; the proxy's only job is to carry on.
    socket.on('error', () => undefined);
  };
  const server: Server = createServer((client) => {
    accepted += 1;
    track(client);
    const upstream = connect(targetPort, targetHost);
    track(upstream);
    client.on('data', (chunk) => {
      if (mode.kind !== 'blackhole') upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      const current = mode;
      if (current.kind === 'blackhole') return;
      if (current.kind === 'delay') {
        // Pause so that chunks keep their order behind the delayed one.
        upstream.pause();
        setTimeout(() => {
          if (!client.destroyed) client.write(chunk);
          upstream.resume();
        }, current.ms);
        return;
      }
      client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => {
      // A hung dependency keeps the client's connection open even when the real one went away.
      if (mode.kind !== 'blackhole') client.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no TCP address');
  return {
    host: '127.0.0.1',
    port: address.port,
    url: `http://127.0.0.1:${address.port}`,
    setMode: (next) => {
      mode = next;
    },
    connections: () => accepted,
    resetAll: () => {
      for (const socket of open) socket.destroy();
    },
    close: async () => {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
