/**
 * Sending mail: through the CRM user's own SMTP account for `via: 'user'` when they have one,
 * else through the host's global server (`SMTP_URL`), else into the outbox table. Addresses are
 * checked (no header injection through a name or an address); transports are reused.
 * A server that accepts the connection and then says nothing must not hold the request that sends:
 * nodemailer's own bounds (2 min to connect, 30 s for the greeting, 10 min of silence) are cut to
 * `SMTP_TIMEOUTS`; a URL's query (`?greetingTimeout=5000`) still sets its own. nodemailer bounds the
 * greeting by what is left of `connectionTimeout` as well (counted from the connection's start): a
 * greeting wait above 10 s needs `connectionTimeout` raised with it.
 */
import { randomUUID } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import { QueryTypes, type Sequelize } from 'sequelize';
import type { HostLogger, HostMail, MailAddress, MailMessage, MailRoute } from '../../plugin/host-contract/index.js';
import type { MailOutbox } from './mail-outbox.js';

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

interface UserAccount {
  readonly smtpUrl: string;
  readonly from: MailAddress;
}

export class SmtpMail implements HostMail {
  private readonly transports = new Map<string, Transporter>();

  constructor(
    private readonly sequelize: Sequelize,
    private readonly outbox: MailOutbox,
    private readonly logger: HostLogger,
    private readonly options: { readonly smtpUrl?: string; readonly sender: MailAddress },
  ) {}

  defaultSender(): MailAddress {
    return this.options.sender;
  }

  async hasUserAccount(userId: number): Promise<boolean> {
    return (await this.userAccount(userId)) !== null;
  }

  async send(message: MailMessage, route: MailRoute): Promise<{ readonly messageId: string }> {
    const to = (message.to ?? []).map((address) => checkAddress(address, 'recipient'));
    if (to.length === 0) throw new InvalidMailError('no recipient');
    if (to.length > MAX_RECIPIENTS) throw new InvalidMailError('too many recipients');
    const replyTo = message.replyTo ? checkAddress(message.replyTo, 'reply-to') : undefined;
    const subject = String(message.subject ?? '').replace(/[\r\n]+/g, ' ');
    // A language tag or nothing: never a header line built from anything else.
    const language = typeof message.language === 'string' && LANGUAGE_TAG.test(message.language) ? message.language : undefined;

    const account = route.via === 'user' ? await this.userAccount(route.userId) : null;
    const from = checkAddress(message.from ?? account?.from ?? this.options.sender, 'sender');
    const smtpUrl = account?.smtpUrl ?? this.options.smtpUrl;
    const via = account && route.via === 'user' ? `user:${route.userId}` : 'global';
    const messageId = `<${randomUUID()}@${from.address.split('@')[1]}>`;

    if (!smtpUrl) {
      await this.outbox.keep({ messageId, route: via, from, to, replyTo: replyTo?.address ?? null, subject, html: message.html, text: message.text });
      this.logger.info('Mail kept in the outbox (no SMTP server)', { messageId, recipients: to.length });
      return { messageId };
    }
    await this.transport(smtpUrl).sendMail({
      messageId,
      from,
      to,
      ...(replyTo ? { replyTo } : {}),
      subject,
      html: message.html,
      text: message.text,
      ...(language ? { headers: { 'Content-Language': language } } : {}),
    });
    this.logger.info('Mail sent', { messageId, via, recipients: to.length });
    return { messageId };
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
