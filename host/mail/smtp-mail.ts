/**
 * Sending mail: through the CRM user's own SMTP account for `via: 'user'` when they have one,
 * else through the host's global server (`SMTP_URL`), else into the outbox table. Addresses are
 * checked (no header injection through a name or an address); transports are reused.
 * A server that accepts the connection and then says nothing must not hold the request that sends:
 * nodemailer's own bounds (2 min to connect, 30 s for the greeting, 10 min of silence) are cut to
 * `SMTP_TIMEOUTS`; a URL's query (`?greetingTimeout=5000`) still sets its own. nodemailer bounds the
 * greeting by what is left of `connectionTimeout` as well (counted from the connection's start): a
 * greeting wait above 10 s needs `connectionTimeout` raised with it.
 * A server that fails for the moment — a 4xx answer (421, 450, 451, 452…), a connection refused,
 * dropped or timed out — does not lose the mail: it is kept in `crm_mail_queue` (`MailQueue`) and
 * `send` resolves, as a CRM's mail queue accepts a mail for delivery; `retryDue` (every host
 * process runs it on a timer) sends it again through the same route with the same Message-ID, after
 * 1, 2, 4 … minutes (at most `MAX_RETRY_WAIT_MS` apart), until `RETRY_FOR_MS` after the first try,
 * then gives it up with one error line naming its Message-ID. A permanent refusal (5xx), an invalid
 * address and a mail sent with `retry: false` still throw. A mail with a `discardAfter` (contract
 * 1.10.0: its link or code expires then) is never sent after it: a kept one is given up at its first
 * run past that time, or as soon as its next try would come after it, with one warning naming its
 * Message-ID; one whose first retry would already come too late is not kept (`send` throws).
 */
import { randomUUID } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import { QueryTypes, type Sequelize } from 'sequelize';
import type { HostLogger, HostMail, MailAddress, MailMessage, MailRoute, MailSent } from '../../plugin/host-contract/index.js';
import type { MailOutbox } from './mail-outbox.js';
import type { MailClaim, MailQueue, QueuedMail } from './mail-queue.js';

const ADDRESS = /^[^\s@<>()",;:\\[\]]+@[^\s@<>()",;:\\[\]]+$/;
const MAX_RECIPIENTS = 50;
/** A `Content-Language` value (BCP 47, as `en`, `it`, `pt-BR`). */
const LANGUAGE_TAG = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/;

/**
 * Milliseconds. 10 s to connect (DNS and TCP; a reachable server connects in well under a second)
 * and for the greeting (above the 6 s a Postfix postscreen may pause before greeting); 20 s of
 * silence mid-conversation (a server's slowest normal answer, to the message's end, takes seconds).
 */
export const SMTP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 } as const;

/** The first retry comes this long after the first try; each next one after twice the wait before. */
export const FIRST_RETRY_WAIT_MS = 60_000;
/** The longest wait between two tries. */
export const MAX_RETRY_WAIT_MS = 60 * 60_000;
/** How long after its first try a mail is still tried: then it is given up. */
export const RETRY_FOR_MS = 24 * 60 * 60_000;

/** nodemailer's codes for a server that could not be reached or answered nothing in time. */
const UNREACHED = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE']);

/**
 * Whether a send failed for the moment and is worth a retry: the server answered 4xx, or could not
 * be reached or stopped answering. An answer of 5xx, an authentication or a message refused without
 * an answer's code (nodemailer's own checks) are for good.
 */
export function isTransientMailFailure(error: unknown): boolean {
  if (error instanceof InvalidMailError || typeof error !== 'object' || error === null) return false;
  const { responseCode, code } = error as { responseCode?: unknown; code?: unknown };
  if (typeof responseCode === 'number') return responseCode >= 400 && responseCode < 500;
  return typeof code === 'string' && UNREACHED.has(code);
}

/** What a log line may say of a failure: nodemailer's code and the server's answer code, never its text (which may name a recipient). */
function failureOf(error: unknown): string {
  const { responseCode, code } = (typeof error === 'object' && error !== null ? error : {}) as { responseCode?: unknown; code?: unknown };
  return [typeof code === 'string' ? code : '', typeof responseCode === 'number' ? String(responseCode) : ''].filter(Boolean).join(' ') || 'unknown';
}

/** The wait after the `attempts`-th try failed: 1, 2, 4 … minutes, at most `MAX_RETRY_WAIT_MS`. */
export function retryWaitMs(attempts: number): number {
  return Math.min(MAX_RETRY_WAIT_MS, FIRST_RETRY_WAIT_MS * 2 ** Math.max(0, Math.min(attempts - 1, 30)));
}

export class InvalidMailError extends Error {
  constructor(problem: string) {
    super(`Mail not sent: ${problem}`);
    this.name = 'InvalidMailError';
  }
}

function checkAddress(address: MailAddress, role: string): MailAddress {
  if (typeof address?.address !== 'string' || address.address.length > 254 || !ADDRESS.test(address.address)) throw new InvalidMailError(`invalid ${role} address`);
  if (address.name !== undefined && (typeof address.name !== 'string' || /[\r\n]/.test(address.name) || address.name.length > 150)) {
    throw new InvalidMailError(`invalid ${role} name`);
  }
  return address.name ? { address: address.address, name: address.name } : { address: address.address };
}

/** What an operator reads of a mail given up at its `discardAfter` (the queue's `last_error`), and the log line's text. */
const DISCARDED = 'Not sent: its discardAfter time came (the link or code it carries has expired)';
const DISCARDED_LOG = 'Mail given up unsent (kept in crm_mail_queue): its discardAfter time came before the mail server took it';

/** A message's `discardAfter` as a time, or undefined without one; a value that is not a time is refused. */
function discardTimeOf(value: unknown): Date | undefined {
  if (value === undefined || value === null) return undefined;
  const time = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) ? new Date(value) : null;
  if (!time || Number.isNaN(time.getTime())) throw new InvalidMailError('invalid discardAfter time');
  return time;
}

interface UserAccount {
  readonly smtpUrl: string;
  readonly from: MailAddress;
}

export class SmtpMail implements HostMail {
  private readonly transports = new Map<string, Transporter>();
  private retrying = false;

  constructor(
    private readonly sequelize: Sequelize,
    private readonly outbox: MailOutbox,
    private readonly queue: MailQueue,
    private readonly logger: HostLogger,
    private readonly options: { readonly smtpUrl?: string; readonly sender: MailAddress },
  ) {}

  defaultSender(): MailAddress {
    return this.options.sender;
  }

  async hasUserAccount(userId: number): Promise<boolean> {
    return (await this.userAccount(userId)) !== null;
  }

  async send(message: MailMessage, route: MailRoute): Promise<MailSent> {
    const to = (message.to ?? []).map((address) => checkAddress(address, 'recipient'));
    if (to.length === 0) throw new InvalidMailError('no recipient');
    if (to.length > MAX_RECIPIENTS) throw new InvalidMailError('too many recipients');
    const replyTo = message.replyTo ? checkAddress(message.replyTo, 'reply-to') : undefined;
    const subject = String(message.subject ?? '').replace(/[\r\n]+/g, ' ');
    // A language tag or nothing: never a header line built from anything else.
    const language = typeof message.language === 'string' && LANGUAGE_TAG.test(message.language) ? message.language : undefined;
    const discardAfter = discardTimeOf(message.discardAfter);

    const account = route.via === 'user' ? await this.userAccount(route.userId) : null;
    const from = checkAddress(message.from ?? account?.from ?? this.options.sender, 'sender');
    const smtpUrl = account?.smtpUrl ?? this.options.smtpUrl;
    const via = account && route.via === 'user' ? `user:${route.userId}` : 'global';
    const messageId = `<${randomUUID()}@${from.address.split('@')[1]}>`;

    if (!smtpUrl) {
      await this.outbox.keep({ messageId, route: via, from, to, replyTo: replyTo?.address ?? null, subject, html: message.html, text: message.text });
      this.logger.info('Mail kept in the outbox (no SMTP server)', { messageId, recipients: to.length });
      return { messageId, queued: false };
    }
    const mail = {
      messageId,
      route: via,
      from,
      to,
      replyTo: replyTo ?? null,
      subject,
      html: message.html,
      text: message.text,
      language: language ?? null,
      // To the second, rounded down (MariaDB's DATETIME keeps no fraction): never later than asked.
      discardAfter: discardAfter ? new Date(Math.floor(discardAfter.getTime() / 1000) * 1000).toISOString() : null,
    };
    const now = new Date();
    try {
      await this.deliver(smtpUrl, mail, now);
    } catch (error) {
      const next = new Date(now.getTime() + retryWaitMs(1));
      // Worth nothing by its next try (its link or code will have expired): now or never, as `retry: false`.
      if (message.retry === false || !isTransientMailFailure(error) || (discardAfter && next >= discardAfter)) throw error;
      await this.queue.keep(mail, next, error instanceof Error ? error.message : String(error), now);
      this.logger.warn('Mail kept to be tried again: the mail server failed for the moment', { messageId, via, recipients: to.length, failure: failureOf(error) });
      return { messageId, queued: true };
    }
    this.logger.info('Mail sent', { messageId, via, recipients: to.length });
    return { messageId, queued: false };
  }

  /**
   * Tries again the queued mail due at `now` that no other process has claimed, a batch at a time,
   * each through its route (the user's own account while they have one, else the global server);
   * one run at a time per process. Answers how many were sent.
   */
  async retryDue(now: Date = new Date()): Promise<number> {
    if (this.retrying) return 0;
    this.retrying = true;
    let sent = 0;
    try {
      for (;;) {
        const claims = await this.queue.claimDue(now);
        if (claims.length === 0) return sent;
        for (const claim of claims) if (await this.retry(claim, now)) sent += 1;
      }
    } finally {
      this.retrying = false;
    }
  }

  private async retry(claim: MailClaim, now: Date): Promise<boolean> {
    const { mail } = claim;
    const userId = mail.route.startsWith('user:') ? Number(mail.route.slice('user:'.length)) : null;
    const account = userId === null ? null : await this.userAccount(userId);
    const smtpUrl = account?.smtpUrl ?? this.options.smtpUrl;
    const fields = { messageId: mail.messageId, via: mail.route, attempts: mail.attempts + 1 };
    const discardAfter = mail.discardAfter === null ? null : new Date(mail.discardAfter);
    if (discardAfter && now >= discardAfter) {
      await this.queue.giveUp(claim, DISCARDED, now);
      this.logger.warn(DISCARDED_LOG, { messageId: mail.messageId, via: mail.route, attempts: mail.attempts });
      return false;
    }
    if (!smtpUrl) {
      // SMTP_URL was removed since, and the user has no account (any more): the outbox keeps it, as it keeps all mail then.
      await this.outbox.keep({ ...mail, replyTo: mail.replyTo?.address ?? null });
      await this.queue.done(claim);
      this.logger.info('Mail kept in the outbox (no SMTP server)', { messageId: mail.messageId, recipients: mail.to.length });
      return false;
    }
    try {
      await this.deliver(smtpUrl, mail, new Date(mail.createdAt));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const next = new Date(now.getTime() + retryWaitMs(mail.attempts + 1));
      if (isTransientMailFailure(error) && next.getTime() - new Date(mail.createdAt).getTime() <= RETRY_FOR_MS) {
        if (discardAfter && next >= discardAfter) {
          await this.queue.giveUp(claim, `${DISCARDED} (last answer: ${reason})`, now);
          this.logger.warn(DISCARDED_LOG, { ...fields, failure: failureOf(error) });
          return false;
        }
        await this.queue.reschedule(claim, next, reason);
        this.logger.warn('Mail tried again: the mail server failed for the moment', { ...fields, failure: failureOf(error) });
        return false;
      }
      await this.queue.giveUp(claim, reason, now);
      this.logger.error('Mail given up (kept in crm_mail_queue): the mail server refused it, or failed for 24 hours', { ...fields, failure: failureOf(error) });
      return false;
    }
    await this.queue.done(claim);
    this.logger.info('Mail sent on a later try', fields);
    return true;
  }

  private async deliver(smtpUrl: string, mail: Omit<QueuedMail, 'id' | 'attempts' | 'createdAt' | 'discardAfter'>, date: Date): Promise<void> {
    await this.transport(smtpUrl).sendMail({
      messageId: mail.messageId,
      date,
      from: mail.from,
      to: [...mail.to],
      ...(mail.replyTo ? { replyTo: mail.replyTo } : {}),
      subject: mail.subject,
      html: mail.html,
      text: mail.text,
      ...(mail.language ? { headers: { 'Content-Language': mail.language } } : {}),
    });
  }

  close(): void {
    for (const transport of this.transports.values()) transport.close();
    this.transports.clear();
  }

  private transport(smtpUrl: string): Transporter {
    let transport = this.transports.get(smtpUrl);
    if (!transport) {
      transport = nodemailer.createTransport({ ...SMTP_TIMEOUTS, url: smtpUrl });
      this.transports.set(smtpUrl, transport);
    }
    return transport;
  }

  private async userAccount(userId: number): Promise<UserAccount | null> {
    if (!Number.isSafeInteger(userId)) return null;
    const [row] = await this.sequelize.query<{ smtp_url: string; from_address: string; from_name: string }>(
      'SELECT smtp_url, from_address, from_name FROM crm_mail_accounts WHERE user_id = $userId',
      { bind: { userId }, type: QueryTypes.SELECT },
    );
    if (!row) return null;
    return { smtpUrl: row.smtp_url, from: row.from_name ? { address: row.from_address, name: row.from_name } : { address: row.from_address } };
  }
}
