/**
 * A local TCP server that accepts connections and never answers: a dependency that is up but hung (a blackholed
 * endpoint, a stuck database), for tests of timeouts. Real sockets, no fakes.
 */
import { createServer, type Server, type Socket } from 'node:net';

export interface SilentServer {
  readonly port: number;
  /** Connections accepted so far: proof that a client really got through and then waited. */
  readonly connections: () => number;
  close(): Promise<void>;
}

/**
 * Listens on `host`:`port` (default: a free port on 127.0.0.1). Another loopback address with a busy service's port
 * (127.0.0.3 and PostgreSQL's port) gives a hung twin of that service that differs from it only by host.
 */
export async function startSilentServer(host = '127.0.0.1', port = 0): Promise<SilentServer> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    // Swallow resets from clients that give up; the server's only job is to hold the line open.
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('silent server has no TCP address');
  return {
    port: address.port,
    connections: () => accepted,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
