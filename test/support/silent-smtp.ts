/**
 * A mail server on loopback that accepts every TCP connection and then never says a word (no
 * greeting, no answer): a hung or overloaded server, or a firewall that lets the connection in.
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';

export interface SilentSmtp {
  readonly url: string;
  /** How many connections were accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

export async function startSilentSmtp(): Promise<SilentSmtp> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
