/**
 * A real SMTP server on loopback that answers each message offered with the next reply of a
 * script — an SMTP code to refuse it with (421, 451, 550…), or `accept` — and `accept` once the
 * script is spent (or, with `startRefusingSmtp`, one refusal for good). Keeps what it accepted,
 * parsed, and counts every message offered. With no script: a mailbox that accepts everything.
 */
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export type ScriptedReply = number | 'accept';

export interface ScriptedSmtp {
  readonly url: string;
  /** How many messages were offered so far, accepted or not. */
  readonly attempts: number;
  readonly received: readonly ParsedMail[];
  /** Replies to the next messages offered (after what is left of the script). */
  answer(...replies: ScriptedReply[]): void;
  close(): Promise<void>;
}

export async function startScriptedSmtp(...script: ScriptedReply[]): Promise<ScriptedSmtp> {
  return startSmtp(script, 'accept', (code) => `Refused for the test (${code})`);
}

/** A mail server that accepts every connection and refuses every message with `responseCode` and `message` (down, or rejecting the recipient). */
export async function startRefusingSmtp(responseCode: number, message: string): Promise<ScriptedSmtp> {
  return startSmtp([], responseCode, () => message);
}

async function startSmtp(script: readonly ScriptedReply[], otherwise: ScriptedReply, message: (code: number) => string): Promise<ScriptedSmtp> {
  const replies = [...script];
  const received: ParsedMail[] = [];
  let attempts = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      attempts += 1;
      const reply = replies.shift() ?? otherwise;
      if (reply !== 'accept') {
        stream.resume();
        stream.on('end', () => callback(Object.assign(new Error(message(reply)), { responseCode: reply })));
        return;
      }
      simpleParser(stream).then(
        (mail) => {
          received.push(mail);
          callback();
        },
        (error: Error) => callback(error),
      );
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    get attempts() {
      return attempts;
    },
    received,
    answer: (...more) => void replies.push(...more),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
