/**
 * Mail waiting in `crm_mail_queue` to be tried again after a mail server failed for the moment
 * (`SmtpMail` decides what is worth a retry and sends). Every host process on the database looks
 * for due rows; a row is sent only by the process that claimed it: one UPDATE that moves its
 * `next_attempt_at` to the claim's end and sets the process's `claim_token`, on condition that it
 * is still due, counted by the rows it changed — the same on SQLite, PostgreSQL and MariaDB. A
 * process that dies while sending leaves the row due again when the claim ends (`CLAIM_MS`).
 */
import { randomUUID } from 'node:crypto';
import { QueryTypes, type Sequelize } from 'sequelize';
import type { MailAddress } from '../../plugin/host-contract/index.js';
import { fromJson, toIsoString, toNumber } from '../schema/row-values.js';

const TABLE = 'crm_mail_queue';
/** How long a claim holds a row: longer than a send may take (10 s to connect and greet, 20 s of silence, with room). */
export const CLAIM_MS = 5 * 60_000;
/** Rows read at a time. */
const BATCH = 20;

export interface QueuedMail {
  readonly id: number;
  readonly messageId: string;
  /** `global`, or `user:<id>`. */
  readonly route: string;
  readonly from: MailAddress;
  readonly to: readonly MailAddress[];
  readonly replyTo: MailAddress | null;
  readonly subject: string;
  readonly html: string;
  readonly text: string;
  readonly language: string | null;
  /** When the mail stops being worth sending (ISO 8601), or null: tried for the queue's 24 hours. */
  readonly discardAfter: string | null;
  /** Tries so far, the first (at `send`) included. */
  readonly attempts: number;
  readonly createdAt: string;
}

interface QueueRow {
  id: unknown;
  message_id: string;
  route: string;
  from_address: string;
  from_name: string;
  to_addresses: unknown;
  reply_to: string | null;
  reply_to_name: string | null;
  subject: string;
  html: string;
  text: string;
  language: string | null;
  discard_after: unknown;
  attempts: unknown;
  created_at: unknown;
}

/** A queued mail as an operator sees it (no body). */
export interface QueuedMailState {
  readonly id: number;
  readonly messageId: string;
  readonly route: string;
  readonly to: readonly MailAddress[];
  readonly subject: string;
  readonly attempts: number;
  /** Null once given up. */
  readonly nextAttemptAt: string | null;
  readonly lastError: string | null;
  readonly createdAt: string;
  readonly givenUpAt: string | null;
  /** When the mail stops being worth sending, or null. */
  readonly discardAfter: string | null;
}

/** A claim on a row: who holds it (for the row's last write) and what it holds. */
export interface MailClaim {
  readonly mail: QueuedMail;
  readonly token: string;
}

export class MailQueue {
  constructor(private readonly sequelize: Sequelize) {}

  /** Keeps a mail tried once, due again at `nextAttemptAt`. */
  async keep(mail: Omit<QueuedMail, 'id' | 'attempts' | 'createdAt'>, nextAttemptAt: Date, lastError: string, now: Date): Promise<void> {
    await this.sequelize.getQueryInterface().bulkInsert(TABLE, [
      {
        message_id: mail.messageId,
        route: mail.route,
        from_address: mail.from.address,
        from_name: mail.from.name ?? '',
        to_addresses: JSON.stringify(mail.to),
        reply_to: mail.replyTo?.address ?? null,
        reply_to_name: mail.replyTo?.name ?? null,
        subject: mail.subject,
        html: mail.html,
        text: mail.text,
        language: mail.language,
        discard_after: mail.discardAfter === null ? null : new Date(mail.discardAfter),
        attempts: 1,
        next_attempt_at: nextAttemptAt,
        claim_token: null,
        last_error: lastError.slice(0, 500),
        created_at: now,
        given_up_at: null,
      },
    ]);
  }

  /** Claims up to a batch of the rows due at `now`, oldest due first; another process's claim is left alone. */
  async claimDue(now: Date): Promise<MailClaim[]> {
    const due = await this.sequelize.query<{ id: unknown }>(`SELECT id FROM ${TABLE} WHERE next_attempt_at <= :now ORDER BY next_attempt_at, id LIMIT ${BATCH}`, {
      type: QueryTypes.SELECT,
      replacements: { now },
    });
    const claims: MailClaim[] = [];
    for (const { id } of due) {
      const token = randomUUID();
      const changed = await this.sequelize.query(`UPDATE ${TABLE} SET next_attempt_at = :until, claim_token = :token WHERE id = :id AND next_attempt_at <= :now`, {
        type: QueryTypes.BULKUPDATE,
        replacements: { until: new Date(now.getTime() + CLAIM_MS), token, id: toNumber(id), now },
      });
      if (toNumber(changed) !== 1) continue;
      const mail = await this.read(toNumber(id), token);
      if (mail) claims.push({ mail, token });
    }
    return claims;
  }

  /** Sent: the row goes (only while the claim is still ours). */
  async done(claim: MailClaim): Promise<void> {
    await this.sequelize.query(`DELETE FROM ${TABLE} WHERE id = :id AND claim_token = :token`, { type: QueryTypes.BULKDELETE, replacements: { id: claim.mail.id, token: claim.token } });
  }

  /** Failed again for the moment: due again at `nextAttemptAt`, one try more. */
  async reschedule(claim: MailClaim, nextAttemptAt: Date, lastError: string): Promise<void> {
    await this.sequelize.query(
      `UPDATE ${TABLE} SET attempts = attempts + 1, next_attempt_at = :next, claim_token = NULL, last_error = :lastError WHERE id = :id AND claim_token = :token`,
      { type: QueryTypes.BULKUPDATE, replacements: { next: nextAttemptAt, lastError: lastError.slice(0, 500), id: claim.mail.id, token: claim.token } },
    );
  }

  /** Never tried again: kept, with when and why, for an operator to see (and put back by setting `next_attempt_at`). */
  async giveUp(claim: MailClaim, lastError: string, now: Date): Promise<void> {
    await this.sequelize.query(
      `UPDATE ${TABLE} SET attempts = attempts + 1, next_attempt_at = NULL, claim_token = NULL, last_error = :lastError, given_up_at = :now WHERE id = :id AND claim_token = :token`,
      { type: QueryTypes.BULKUPDATE, replacements: { lastError: lastError.slice(0, 500), now, id: claim.mail.id, token: claim.token } },
    );
  }

  /**
   * An operator's "send again" of a given-up mail: back into the queue as if just kept — due at `now`,
   * its tries counted afresh and tried for another 24 hours from `now`. Not a mail still waiting, nor
   * one past its `discardAfter` (its link is dead: it would only be given up again). Answers the
   * Message-ID of the mail put back, or null when there is no such given-up mail.
   */
  async sendAgain(id: number, now: Date): Promise<string | null> {
    const messageId = await this.givenUpMessageId(id, now);
    if (messageId === null) return null;
    const changed = await this.sequelize.query(
      `UPDATE ${TABLE} SET next_attempt_at = :now, given_up_at = NULL, claim_token = NULL, attempts = 0, created_at = :now
       WHERE id = :id AND given_up_at IS NOT NULL AND (discard_after IS NULL OR discard_after > :now)`,
      { type: QueryTypes.BULKUPDATE, replacements: { id, now } },
    );
    return toNumber(changed) === 1 ? messageId : null;
  }

  /** An operator's delete of a given-up mail (never of one still waiting); answers its Message-ID, or null when there is none. */
  async removeGivenUp(id: number): Promise<string | null> {
    const messageId = await this.givenUpMessageId(id, null);
    if (messageId === null) return null;
    const changed = await this.sequelize.query(`DELETE FROM ${TABLE} WHERE id = :id AND given_up_at IS NOT NULL`, { type: QueryTypes.BULKDELETE, replacements: { id } });
    return toNumber(changed) === 1 ? messageId : null;
  }

  /** The Message-ID of a given-up row (and, given `aliveAt`, one not past its `discardAfter` then), or null. */
  private async givenUpMessageId(id: number, aliveAt: Date | null): Promise<string | null> {
    const alive = aliveAt ? ' AND (discard_after IS NULL OR discard_after > :aliveAt)' : '';
    const [row] = await this.sequelize.query<{ message_id: string }>(`SELECT message_id FROM ${TABLE} WHERE id = :id AND given_up_at IS NOT NULL${alive}`, {
      type: QueryTypes.SELECT,
      replacements: { id, aliveAt },
    });
    return row?.message_id ?? null;
  }

  /** The newest queued mails first, waiting or given up. */
  async latest(limit: number): Promise<readonly QueuedMailState[]> {
    const rows = await this.sequelize.query<{
      id: unknown;
      message_id: string;
      route: string;
      to_addresses: unknown;
      subject: string;
      attempts: unknown;
      next_attempt_at: unknown;
      last_error: string | null;
      created_at: unknown;
      given_up_at: unknown;
      discard_after: unknown;
    }>(`SELECT id, message_id, route, to_addresses, subject, attempts, next_attempt_at, last_error, created_at, given_up_at, discard_after FROM ${TABLE} ORDER BY id DESC LIMIT :limit`, {
      type: QueryTypes.SELECT,
      replacements: { limit },
    });
    return rows.map((row) => ({
      id: toNumber(row.id),
      messageId: row.message_id,
      route: row.route,
      to: fromJson<MailAddress[]>(row.to_addresses),
      subject: row.subject,
      attempts: toNumber(row.attempts),
      nextAttemptAt: row.next_attempt_at === null ? null : toIsoString(row.next_attempt_at),
      lastError: row.last_error,
      createdAt: toIsoString(row.created_at),
      givenUpAt: row.given_up_at === null ? null : toIsoString(row.given_up_at),
      discardAfter: row.discard_after === null ? null : toIsoString(row.discard_after),
    }));
  }

  private async read(id: number, token: string): Promise<QueuedMail | null> {
    const [row] = await this.sequelize.query<QueueRow>(
      `SELECT id, message_id, route, from_address, from_name, to_addresses, reply_to, reply_to_name, subject, html, text, language, discard_after, attempts, created_at FROM ${TABLE} WHERE id = :id AND claim_token = :token`,
      { type: QueryTypes.SELECT, replacements: { id, token } },
    );
    if (!row) return null;
    return {
      id: toNumber(row.id),
      messageId: row.message_id,
      route: row.route,
      from: row.from_name ? { address: row.from_address, name: row.from_name } : { address: row.from_address },
      to: fromJson<MailAddress[]>(row.to_addresses),
      replyTo: row.reply_to === null ? null : row.reply_to_name ? { address: row.reply_to, name: row.reply_to_name } : { address: row.reply_to },
      subject: row.subject,
      html: row.html,
      text: row.text,
      language: row.language,
      discardAfter: row.discard_after === null ? null : toIsoString(row.discard_after),
      attempts: toNumber(row.attempts),
      createdAt: toIsoString(row.created_at),
    };
  }
}
