/**
 * A real SMTP server on loopback that accepts every connection and refuses every message with
 * `responseCode` (a mail server that is down or rejects the recipient), counting the attempts.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface RefusingSmtp {
  readonly url: string;
  /** How many messages were offered (and refused) so far. */
  readonly attempts: number;
  close(): Promise<void>;
}

export async function startRefusingSmtp(responseCode: number, message: string): Promise<RefusingSmtp> {
  let attempts = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      attempts += 1;
      stream.resume();
      stream.on('end', () => callback(Object.assign(new Error(message), { responseCode })));
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    get attempts() {
      return attempts;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
