/** Mail kept in `crm_mail_outbox` instead of sent, when the host has no SMTP server to send it through. */
import { QueryTypes, type Sequelize } from 'sequelize';
import type { MailAddress } from '../../plugin/host-contract/index.js';
import { fromJson, toIsoString, toNumber } from '../schema/row-values.js';

export interface OutboxMessage {
  readonly id: number;
  readonly messageId: string;
  /** `global`, or `user:<id>` for mail sent on a CRM user's behalf. */
  readonly route: string;
  readonly from: MailAddress;
  readonly to: readonly MailAddress[];
  readonly replyTo: string | null;
  readonly subject: string;
  readonly html: string;
  readonly text: string;
  readonly createdAt: string;
}

interface OutboxRow {
  id: unknown;
  message_id: string;
  route: string;
  from_address: string;
  from_name: string;
  to_addresses: unknown;
  reply_to: string | null;
  subject: string;
  html: string;
  text: string;
  created_at: unknown;
}

export class MailOutbox {
  constructor(private readonly sequelize: Sequelize) {}

  async keep(message: Omit<OutboxMessage, 'id' | 'createdAt'>): Promise<void> {
    await this.sequelize.getQueryInterface().bulkInsert('crm_mail_outbox', [
      {
        message_id: message.messageId,
        route: message.route,
        from_address: message.from.address,
        from_name: message.from.name ?? '',
        to_addresses: JSON.stringify(message.to),
        reply_to: message.replyTo,
        subject: message.subject,
        html: message.html,
        text: message.text,
        created_at: new Date(),
      },
    ]);
  }

  /** The newest messages first. */
  async latest(limit: number): Promise<readonly OutboxMessage[]> {
    const rows = await this.sequelize.query<OutboxRow>(
      'SELECT id, message_id, route, from_address, from_name, to_addresses, reply_to, subject, html, text, created_at FROM crm_mail_outbox ORDER BY id DESC LIMIT $limit',
      { bind: { limit }, type: QueryTypes.SELECT },
    );
    return rows.map((row) => ({
      id: toNumber(row.id),
      messageId: row.message_id,
      route: row.route,
      from: row.from_name ? { address: row.from_address, name: row.from_name } : { address: row.from_address },
      to: fromJson<MailAddress[]>(row.to_addresses),
      replyTo: row.reply_to,
      subject: row.subject,
      html: row.html,
      text: row.text,
      createdAt: toIsoString(row.created_at),
    }));
  }
}
