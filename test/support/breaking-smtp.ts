/**
 * A real SMTP server on loopback that greets, takes the sender and the recipients, and then breaks
 * in the middle of the message: `drop` cuts the connection as the message's first bytes arrive (a
 * server that crashed or a network that dropped), `stall` reads the message and never answers its
 * end (a server that hangs). Counts the messages begun.
 */
import type { AddressInfo, Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface BreakingSmtp {
  readonly url: string;
  /** How many messages were begun (DATA) so far. */
  readonly attempts: number;
  close(): Promise<void>;
}

export async function startBreakingSmtp(mode: 'drop' | 'stall'): Promise<BreakingSmtp> {
  let attempts = 0;
  const server: SMTPServer = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session) {
      attempts += 1;
      if (mode === 'stall') {
        stream.resume();
        return; // never answers: no callback
      }
      stream.once('data', () => {
        const connections = (server as unknown as { connections: Set<{ id: string; _socket: Socket }> }).connections;
        for (const connection of connections) if (connection.id === session.id) connection._socket.destroy();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    get attempts() {
      return attempts;
    },
    close: () =>
      new Promise<void>((resolve) => {
        const connections = (server as unknown as { connections: Set<{ _socket: Socket }> }).connections;
        for (const connection of connections) connection._socket.destroy();
        server.close(() => resolve());
      }),
  };
}
