/**
 * A TCP proxy on loopback in front of a server (the test's database): a host given the proxy's
 * address instead of the server's can have its connections cut (`cut`: every open one reset and
 * every new one refused at once, as a server that went down) or stalled (`stall`: connections stay
 * open and new ones are accepted, but no byte passes either way, as a server that hangs), and
 * then given back (`restore`). The machine's server itself is never touched.
 */
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** How many client connections the proxy accepted so far. */
  readonly connections: number;
  cut(): void;
  stall(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: 'open' | 'cut' | 'stalled' = 'open';
  let connections = 0;
  const pairs = new Set<{ client: Socket; server: Socket }>();
  const held = new Set<Socket>();
  const server = createServer((client) => {
    connections += 1;
    client.on('error', () => {});
    if (mode === 'cut') {
      client.resetAndDestroy();
      return;
    }
    if (mode === 'stalled') {
      // Accepted, never answered: the client waits on its own timeout.
      held.add(client);
      client.pause();
      client.on('close', () => held.delete(client));
      return;
    }
    const upstream = connect(target.port, target.host);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    const pair = { client, server: upstream };
    pairs.add(pair);
    client.on('close', () => {
      upstream.destroy();
      pairs.delete(pair);
    });
    upstream.on('close', () => client.destroy());
    client.on('data', (chunk) => {
      if (mode === 'open') upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (mode === 'open') client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    get connections() {
      return connections;
    },
    cut() {
      mode = 'cut';
      for (const { client, server: upstream } of pairs) {
        client.resetAndDestroy();
        upstream.destroy();
      }
      pairs.clear();
      for (const client of held) client.resetAndDestroy();
      held.clear();
    },
    stall() {
      mode = 'stalled';
    },
    restore() {
      // A connection that lost bytes while stalled is no good: it is reset, the client opens another.
      if (mode === 'stalled') {
        for (const { client, server: upstream } of pairs) {
          client.resetAndDestroy();
          upstream.destroy();
        }
        pairs.clear();
        for (const client of held) client.resetAndDestroy();
        held.clear();
      }
      mode = 'open';
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const { client, server: upstream } of pairs) {
          client.destroy();
          upstream.destroy();
        }
        for (const client of held) client.destroy();
        server.close(() => resolve());
      }),
  };
}
