/**
 * The portal's login history (`bp_login_history`): every login, logout, failure, lock and
 * unlock, with the true reason (for the CRM, never for the customer), also written to the host's
 * log (in a transaction: once it has committed). Neither ever holds a password, a code or a session token.
 */
import { inject, injectable } from 'inversify';
import { QueryTypes, type Transaction } from 'sequelize';
import { HostDatabase, HostLogger, type ReadOptions } from '../host-contract/index.js';
import { afterCommit } from '../lifecycle/after-commit.js';
import { toIsoDateTime, toNumber } from '../lifecycle/sql-values.js';
import { clipped } from '../access/field-input.js';

export const HISTORY_TABLE = 'bp_login_history';

/**
 * `enabled`, `disabled` and `access_sent` are the contacts capability's: portal user switched by an
 * admin, new access details after an email change (sent, reason `email_changed`, or not,
 * `ACCESS_NOT_SENT`: reason `mail_failed`, `no_template` or `no_email` when the customer's password
 * had been replaced all the same — also every such row written before passwords were kept —, or the
 * same reason with `_password_kept` when the customer's own password was kept or put back, to sign
 * in with the new email). `unlocked`: by an admin (`admin_unlock by user N`), through the emailed
 * link (`unlock_link`), or because new access details went to a changed email (`email_changed`).
 * `revoked`: the portal ended a session family by itself (`token_replayed`: a rotated-away
 * remember-me token came back after its grace window; `second_factor_required`: it was opened with
 * the password alone and its profile now asks for a second factor).
 */
export type LoginEvent = 'login' | 'logout' | 'failed' | 'locked' | 'unlocked' | 'enabled' | 'disabled' | 'access_sent' | 'revoked';

/** Why an attempt was refused (or why a lock or unlock happened): internal only. */
export type LoginReason =
  | 'unknown_email'
  | 'ambiguous_email'
  | 'wrong_password'
  | 'locked'
  | 'attempts_in_flight'
  | 'client_banned'
  | 'portal_disabled'
  | 'outside_support'
  | 'no_password'
  | 'contact_missing'
  | 'too_many_failures'
  | 'client_too_many_failures'
  | 'admin_unlock'
  | 'admin_lifted_ban'
  | 'user_logout'
  | 'admin'
  | 'email_changed'
  | 'mail_failed'
  | 'no_template'
  | 'no_email'
  | 'mail_failed_password_kept'
  | 'no_template_password_kept'
  | 'no_email_password_kept'
  | 'email_removed'
  | 'email_in_use'
  | 'token_replayed'
  | 'second_factor_required';

export interface LoginHistoryEntry {
  readonly event: LoginEvent;
  readonly contactId: number | null;
  /** The email as attempted (lower-cased, control characters as U+FFFD, cut to 254 characters). */
  readonly email: string | null;
  readonly reason: string | null;
  readonly ip: string | null;
}

export interface RecordedLoginEvent extends LoginHistoryEntry {
  readonly id: number;
  /** ISO 8601, UTC. */
  readonly at: string;
}

export const LoginHistory = Symbol.for('business-portal.auth.LoginHistory');
export interface LoginHistory {
  record(entry: LoginHistoryEntry, options?: { readonly transaction?: Transaction; readonly adminUserId?: number }): Promise<void>;
  /** `record` of many entries in one statement (a batch of unlocks); the log hears of each. */
  recordMany(entries: readonly LoginHistoryEntry[], options?: { readonly transaction?: Transaction; readonly adminUserId?: number }): Promise<void>;
  /** A contact's events, newest first (`offset` of them left out: a page of older ones). */
  forContact(contactId: number, options?: ReadOptions & { readonly limit?: number; readonly offset?: number }): Promise<readonly RecordedLoginEvent[]>;
  /** How many events a contact has. */
  countForContact(contactId: number, options?: ReadOptions): Promise<number>;
}

const LOG_MESSAGES: Readonly<Record<LoginEvent, string>> = {
  login: 'Business Portal: portal login',
  logout: 'Business Portal: portal logout',
  failed: 'Business Portal: portal login refused',
  locked: 'Business Portal: portal login locked',
  unlocked: 'Business Portal: portal login unlocked',
  enabled: 'Business Portal: portal user enabled',
  disabled: 'Business Portal: portal user disabled',
  access_sent: 'Business Portal: new portal access details sent',
  revoked: 'Business Portal: a rotated-away remember-me token was replayed (copied cookie?): its session family ended',
};

/**
 * `revoked` entries that apply an admin's decision rather than tell of an attack: the log reports
 * them as information, with their own message.
 */
const REVOKED_AS_DECIDED: Readonly<Record<string, string>> = {
  second_factor_required: 'Business Portal: a session opened without the second factor its profile now asks for was ended',
};

/** Events the log reports as warnings. */
const WARNINGS: ReadonlySet<LoginEvent> = new Set(['failed', 'locked', 'revoked']);

/** The reasons of an `access_sent` whose access details did not leave: the log says so, as a warning. */
export const ACCESS_NOT_SENT: ReadonlySet<string> = new Set([
  'mail_failed',
  'no_template',
  'no_email',
  'mail_failed_password_kept',
  'no_template_password_kept',
  'no_email_password_kept',
]);

@injectable()
export class SequelizeLoginHistory implements LoginHistory {
  constructor(
    @inject(HostDatabase) private readonly database: HostDatabase,
    @inject(HostLogger) private readonly logger: HostLogger,
  ) {}

  record(entry: LoginHistoryEntry, options: { readonly transaction?: Transaction; readonly adminUserId?: number } = {}): Promise<void> {
    return this.recordMany([entry], options);
  }

  async recordMany(entries: readonly LoginHistoryEntry[], options: { readonly transaction?: Transaction; readonly adminUserId?: number } = {}): Promise<void> {
    if (entries.length === 0) return;
    const at = new Date();
    const replacements: Record<string, unknown> = { at };
    // One entry: the statement (and its replacement names) every single event has always used.
    const rows = entries.map((entry, position) => {
      const index = entries.length === 1 ? '' : String(position);
      // As typed, for the CRM to read: a control character shows as U+FFFD (a NUL would cut an SQLite statement short).
      const email = entry.email === null ? null : clipped(entry.email.trim().toLowerCase().replace(/\p{Cc}/gu, '\uFFFD'), 254);
      const reason = options.adminUserId === undefined ? entry.reason : `${entry.reason ?? ''} by user ${options.adminUserId}`.trim();
      Object.assign(replacements, {
        [`contactId${index}`]: entry.contactId,
        [`email${index}`]: email,
        [`event${index}`]: entry.event,
        [`reason${index}`]: reason?.slice(0, 100) ?? null,
        [`ip${index}`]: entry.ip?.slice(0, 45) ?? null,
      });
      return `(:contactId${index}, :email${index}, :event${index}, :reason${index}, :ip${index}, :at)`;
    });
    await this.database.sequelize.query(`INSERT INTO ${HISTORY_TABLE} (contact_id, email, event, reason, ip, at) VALUES ${rows.join(', ')}`, {
      type: QueryTypes.INSERT,
      transaction: options.transaction,
      replacements,
    });
    // In a transaction the log hears of the events once it has committed: never of one rolled back,
    // or whose COMMIT failed (the history rows are gone with it).
    const log = () => entries.forEach((entry) => this.log(entry, options.adminUserId));
    if (options.transaction) afterCommit(options.transaction, async () => log());
    else log();
  }

  private log(entry: LoginHistoryEntry, adminUserId: number | undefined): void {
    // The attempted email stays out of the log: people type their password into it by mistake.
    const fields = { contactId: entry.contactId, reason: entry.reason, ip: entry.ip, adminUserId };
    if (entry.event === 'access_sent' && entry.reason !== null && ACCESS_NOT_SENT.has(entry.reason)) this.logger.warn('Business Portal: new portal access details not sent', fields);
    else if (entry.event === 'revoked' && entry.reason !== null && entry.reason in REVOKED_AS_DECIDED) this.logger.info(REVOKED_AS_DECIDED[entry.reason]!, fields);
    else if (WARNINGS.has(entry.event)) this.logger.warn(LOG_MESSAGES[entry.event], fields);
    else this.logger.info(LOG_MESSAGES[entry.event], fields);
  }

  async forContact(contactId: number, options: ReadOptions & { readonly limit?: number; readonly offset?: number } = {}): Promise<readonly RecordedLoginEvent[]> {
    const limit = Math.max(1, Math.min(Math.trunc(options.limit ?? 100), 1000));
    const offset = Math.max(0, Math.trunc(options.offset ?? 0));
    const rows = await this.database.sequelize.query<Record<string, unknown>>(
      `SELECT id, contact_id, email, event, reason, ip, at FROM ${HISTORY_TABLE}
        WHERE contact_id = :contactId ORDER BY at DESC, id DESC LIMIT ${limit}${offset > 0 ? ` OFFSET ${offset}` : ''}`,
      { type: QueryTypes.SELECT, replacements: { contactId }, transaction: options.transaction },
    );
    return rows.map((row) => ({
      id: toNumber(row.id),
      event: String(row.event) as LoginEvent,
      contactId: row.contact_id === null ? null : toNumber(row.contact_id),
      email: row.email === null ? null : String(row.email),
      reason: row.reason === null ? null : String(row.reason),
      ip: row.ip === null ? null : String(row.ip),
      at: toIsoDateTime(row.at)!,
    }));
  }

  async countForContact(contactId: number, options: ReadOptions = {}): Promise<number> {
    const rows = await this.database.sequelize.query<{ n: unknown }>(`SELECT COUNT(*) AS n FROM ${HISTORY_TABLE} WHERE contact_id = :contactId`, {
      type: QueryTypes.SELECT,
      replacements: { contactId },
      transaction: options.transaction,
    });
    return toNumber(rows[0]?.n ?? 0);
  }
}
