/**
 * Portal accounts (`bp_portal_accounts`): one per CRM contact that may use the portal. The store
 * reads and writes the account's settings; the lockout counter columns are only ever changed by
 * `lockout.ts` with its own atomic statements, and the password hash only through
 * `setPassword` / `passwordHash` (it never travels inside a `PortalAccount`, so it cannot end
 * up in a response by accident).
 */
import { domainToUnicode } from 'node:url';
import { inject, injectable } from 'inversify';
import { QueryTypes, type Transaction } from 'sequelize';
import { HostDatabase, type ReadOptions } from '../host-contract/index.js';
import { toBoolean, toIsoDateTime, toNumber } from '../lifecycle/sql-values.js';
import { toDateOnly, type DateOnly } from './support-period.js';

export const ACCOUNTS_TABLE = 'bp_portal_accounts';
/** The second-factor step's challenges (`two-factor.ts`), kept here because a new password must end them. */
export const CHALLENGES_TABLE = 'bp_two_factor_challenges';
export const RESET_TOKENS_TABLE = 'bp_reset_tokens';

export interface PortalAccount {
  readonly id: number;
  readonly contactId: number;
  /** Lower-cased. */
  readonly email: string;
  readonly portalEnabled: boolean;
  readonly profileId: number | null;
  readonly supportStartDate: DateOnly | null;
  readonly supportEndDate: DateOnly | null;
  readonly language: string | null;
  /** Whether a password is set at all. */
  readonly hasPassword: boolean;
  readonly mustChangePassword: boolean;
  /** Date-times are ISO 8601 in UTC. */
  readonly passwordChangedAt: string | null;
  readonly failedAttempts: number;
  readonly firstFailedAt: string | null;
  readonly lastFailedAt: string | null;
  readonly lastFailedIp: string | null;
  readonly lockedAt: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly version: number;
}

export interface NewPortalAccount {
  readonly contactId: number;
  readonly email: string;
  readonly portalEnabled?: boolean;
  readonly profileId?: number | null;
  readonly supportStartDate?: DateOnly | null;
  readonly supportEndDate?: DateOnly | null;
  readonly language?: string | null;
  /** Already hashed (`PasswordHasher.hash`). */
  readonly passwordHash?: string | null;
  readonly mustChangePassword?: boolean;
}

export type PortalAccountChanges = Partial<
  Pick<NewPortalAccount, 'email' | 'portalEnabled' | 'profileId' | 'supportStartDate' | 'supportEndDate' | 'language' | 'mustChangePassword'>
>;

export interface AccountWriteOptions {
  readonly transaction?: Transaction;
}

export class PortalAccountNotFoundError extends Error {
  constructor(readonly contactId: number) {
    super(`No portal account for contact ${contactId}`);
    this.name = 'PortalAccountNotFoundError';
  }
}

/** Thrown by `update` when `expectedVersion` no longer matches (someone else changed the account). */
export class StalePortalAccountError extends Error {
  constructor(readonly contactId: number) {
    super(`The portal account of contact ${contactId} was changed by someone else`);
    this.name = 'StalePortalAccountError';
  }
}

export const PortalAccountStore = Symbol.for('business-portal.auth.PortalAccountStore');
export interface PortalAccountStore {
  findByContactId(contactId: number, options?: ReadOptions): Promise<PortalAccount | null>;
  /**
   * The accounts whose login email is `email` (compared lower-cased): enabled ones first, then by
   * contact id. A CRM may give two contacts one email; the login refuses when several are enabled.
   */
  findByEmail(email: string, options?: ReadOptions): Promise<readonly PortalAccount[]>;
  /**
   * Whether `email` (compared lower-cased) is the login of an enabled account of a contact other
   * than `contactId`. The login refuses an email that several enabled accounts share, so no
   * contact may be given such an email as its login: both contacts would be locked out.
   */
  emailInUseByAnother(email: string, contactId: number, options?: ReadOptions): Promise<boolean>;
  /** The stored hash, or null when the account has no password (or does not exist). */
  passwordHash(contactId: number, options?: ReadOptions): Promise<string | null>;
  /**
   * Whether `passwordHash` is still the account's, holding its row until `transaction` ends (the
   * row is written): a password change, which writes that row too, then runs wholly before this —
   * false — or wholly after. A sign-in stores its challenge or session under this hold.
   */
  holdPassword(contactId: number, passwordHash: string, options: { readonly transaction: Transaction }): Promise<boolean>;
  /**
   * Locks the account's row until `transaction` ends, without writing it: the one lock under which
   * the contact's sessions change. A remember-me rotation storing a successor holds it shared;
   * ending sessions (a logout, a password change, theft detection…) holds it exclusive, so neither
   * runs beside the other (`portal-sessions.ts`). Taking it first, before any session row, keeps
   * them from a deadlock. No statement on SQLite, whose writers take turns anyway.
   */
  lockForSessions(contactId: number, mode: 'shared' | 'exclusive', options: { readonly transaction: Transaction }): Promise<void>;
  create(account: NewPortalAccount, options?: AccountWriteOptions): Promise<PortalAccount>;
  /** Changes only the fields given. */
  update(contactId: number, changes: PortalAccountChanges, options?: AccountWriteOptions & { readonly expectedVersion?: number }): Promise<PortalAccount>;
  /**
   * Sets a new password hash and stamps `password_changed_at`, and drops the contact's pending
   * second-factor challenges in the same statement batch (the caller's transaction): a code asked
   * for with the old password must not complete a sign-in. Ending sessions is the caller's business.
   */
  setPassword(contactId: number, passwordHash: string, options: AccountWriteOptions & { readonly mustChange: boolean }): Promise<void>;
  /**
   * Puts `previous` back as the password (and whether it must be changed) while `replaced` is still
   * the stored hash; false, changing nothing, when another write set a password since. For a
   * password nobody was told (its mail did not leave). `password_changed_at` keeps the replacement's
   * stamp: reset links asked for before it stay dead.
   */
  restorePassword(
    contactId: number,
    replaced: string,
    previous: { readonly passwordHash: string | null; readonly mustChange: boolean },
    options?: AccountWriteOptions,
  ): Promise<boolean>;
  /**
   * Ends the password-reset links mailed for this login: its password was set, or its email
   * changed (they went to an address that is no longer its way in). With `twoFactor`, the sign-in
   * codes too (setting a password already ends those).
   */
  dropResetLinks(contactId: number, options: AccountWriteOptions & { readonly twoFactor?: boolean }): Promise<void>;
  /** Removes the account; false when there was none. */
  delete(contactId: number, options?: AccountWriteOptions): Promise<boolean>;
}

/**
 * A login email as stored and compared: trimmed, lower-cased and composed (Unicode NFC), its
 * domain in letters when it is an international one. `é` is one code point or `e` and a combining
 * accent (NFD, as text copied from some PDFs or macOS file names holds it), and `bücher.example`
 * is also `xn--bcher-kva.example` (its ASCII form, punycode); each pair reads as one address, and
 * was two logins: a customer whose contact held one spelling could not sign in with the other,
 * and an enabled account's address in the other spelling was not seen as in use.
 * `migrations/20261206500000-login-emails-composed` applies the same to the logins stored before.
 */
export function normalizeEmail(email: string): string {
  const lowered = email.trim().toLowerCase().normalize('NFC');
  const at = lowered.lastIndexOf('@');
  const domain = lowered.slice(at + 1);
  // An ASCII domain is left as it is (IDNA would refuse some that mail takes, e.g. with `_`).
  if (at < 0 || !/[^\x00-\x7f]|(^|\.)xn--/.test(domain)) return lowered;
  // '' when it is no domain IDNA can read: then as typed.
  const letters = domainToUnicode(domain);
  return letters === '' ? lowered : `${lowered.slice(0, at + 1)}${letters.normalize('NFC')}`;
}

/** The account's columns, qualified by `alias` when given (for statements that join the accounts table). */
export function accountColumns(alias = ''): string {
  const a = alias === '' ? '' : `${alias}.`;
  return `${a}id, ${a}contact_id, ${a}email, ${a}portal_enabled, ${a}profile_id, ${a}support_start_date, ${a}support_end_date, ${a}language,
  ${a}password_hash IS NOT NULL AS has_password, ${a}must_change_password, ${a}password_changed_at, ${a}failed_attempts,
  ${a}first_failed_at, ${a}last_failed_at, ${a}last_failed_ip, ${a}locked_at, ${a}created_at, ${a}updated_at, ${a}version`;
}

const COLUMNS = accountColumns();

export type AccountRow = Record<
  | 'id'
  | 'contact_id'
  | 'email'
  | 'portal_enabled'
  | 'profile_id'
  | 'support_start_date'
  | 'support_end_date'
  | 'language'
  | 'has_password'
  | 'must_change_password'
  | 'password_changed_at'
  | 'failed_attempts'
  | 'first_failed_at'
  | 'last_failed_at'
  | 'last_failed_ip'
  | 'locked_at'
  | 'created_at'
  | 'updated_at'
  | 'version',
  unknown
>;

export function toAccount(row: AccountRow): PortalAccount {
  return {
    id: toNumber(row.id),
    contactId: toNumber(row.contact_id),
    email: String(row.email),
    portalEnabled: toBoolean(row.portal_enabled),
    profileId: row.profile_id === null || row.profile_id === undefined ? null : toNumber(row.profile_id),
    supportStartDate: toDateOnly(row.support_start_date),
    supportEndDate: toDateOnly(row.support_end_date),
    language: row.language === null || row.language === undefined ? null : String(row.language),
    hasPassword: toBoolean(row.has_password),
    mustChangePassword: toBoolean(row.must_change_password),
    passwordChangedAt: toIsoDateTime(row.password_changed_at),
    failedAttempts: toNumber(row.failed_attempts),
    firstFailedAt: toIsoDateTime(row.first_failed_at),
    lastFailedAt: toIsoDateTime(row.last_failed_at),
    lastFailedIp: row.last_failed_ip === null || row.last_failed_ip === undefined ? null : String(row.last_failed_ip),
    lockedAt: toIsoDateTime(row.locked_at),
    createdAt: toIsoDateTime(row.created_at)!,
    updatedAt: toIsoDateTime(row.updated_at)!,
    version: toNumber(row.version),
  };
}

/** Field → column, the only columns `update` may write. */
const CHANGE_COLUMNS: Readonly<Record<keyof PortalAccountChanges, string>> = {
  email: 'email',
  portalEnabled: 'portal_enabled',
  profileId: 'profile_id',
  supportStartDate: 'support_start_date',
  supportEndDate: 'support_end_date',
  language: 'language',
  mustChangePassword: 'must_change_password',
};

@injectable()
export class SequelizePortalAccountStore implements PortalAccountStore {
  constructor(@inject(HostDatabase) private readonly database: HostDatabase) {}

  private get sequelize() {
    return this.database.sequelize;
  }

  async findByContactId(contactId: number, options: ReadOptions = {}): Promise<PortalAccount | null> {
    const rows = await this.sequelize.query<AccountRow>(`SELECT ${COLUMNS} FROM ${ACCOUNTS_TABLE} WHERE contact_id = :contactId`, {
      type: QueryTypes.SELECT,
      replacements: { contactId },
      transaction: options.transaction,
    });
    return rows[0] ? toAccount(rows[0]) : null;
  }

  async findByEmail(email: string, options: ReadOptions = {}): Promise<readonly PortalAccount[]> {
    // No stored login holds a control character (they are mail addresses); a NUL would also cut an
    // SQLite statement short (a 500 where an unknown email is due).
    if (/\p{Cc}/u.test(email.trim())) return [];
    const rows = await this.sequelize.query<AccountRow>(
      `SELECT ${COLUMNS} FROM ${ACCOUNTS_TABLE} WHERE email = :email ORDER BY portal_enabled DESC, contact_id ASC`,
      { type: QueryTypes.SELECT, replacements: { email: normalizeEmail(email) }, transaction: options.transaction },
    );
    return rows.map(toAccount);
  }

  async emailInUseByAnother(email: string, contactId: number, options: ReadOptions = {}): Promise<boolean> {
    return (await this.findByEmail(email, options)).some((account) => account.portalEnabled && account.contactId !== contactId);
  }

  async passwordHash(contactId: number, options: ReadOptions = {}): Promise<string | null> {
    const rows = await this.sequelize.query<{ password_hash: unknown }>(
      `SELECT password_hash FROM ${ACCOUNTS_TABLE} WHERE contact_id = :contactId`,
      { type: QueryTypes.SELECT, replacements: { contactId }, transaction: options.transaction },
    );
    const hash = rows[0]?.password_hash;
    return typeof hash === 'string' && hash !== '' ? hash : null;
  }

  async holdPassword(contactId: number, passwordHash: string, options: { readonly transaction: Transaction }): Promise<boolean> {
    const held = await this.sequelize.query(`UPDATE ${ACCOUNTS_TABLE} SET version = version + 1 WHERE contact_id = :contactId AND password_hash = :passwordHash`, {
      type: QueryTypes.BULKUPDATE,
      replacements: { contactId, passwordHash },
      transaction: options.transaction,
    });
    return toNumber(held) === 1;
  }

  async lockForSessions(contactId: number, mode: 'shared' | 'exclusive', options: { readonly transaction: Transaction }): Promise<void> {
    const dialect = this.sequelize.getDialect();
    if (dialect === 'sqlite') return;
    const clause = mode === 'exclusive' ? 'FOR UPDATE' : dialect === 'postgres' ? 'FOR SHARE' : 'LOCK IN SHARE MODE';
    await this.sequelize.query(`SELECT contact_id FROM ${ACCOUNTS_TABLE} WHERE contact_id = :contactId ${clause}`, {
      type: QueryTypes.SELECT,
      replacements: { contactId },
      transaction: options.transaction,
    });
  }

  async create(account: NewPortalAccount, options: AccountWriteOptions = {}): Promise<PortalAccount> {
    const email = normalizeEmail(account.email);
    if (email === '') throw new Error('A portal account needs an email');
    const now = new Date();
    await this.sequelize.query(
      `INSERT INTO ${ACCOUNTS_TABLE} (contact_id, email, portal_enabled, profile_id, support_start_date, support_end_date, language,
         password_hash, must_change_password, password_changed_at, failed_attempts, created_at, updated_at, version)
       VALUES (:contactId, :email, :portalEnabled, :profileId, :start, :end, :language,
         :passwordHash, :mustChange, :changedAt, 0, :now, :now, 1)`,
      {
        type: QueryTypes.INSERT,
        transaction: options.transaction,
        replacements: {
          contactId: account.contactId,
          email,
          portalEnabled: account.portalEnabled ?? false,
          profileId: account.profileId ?? null,
          start: account.supportStartDate ?? null,
          end: account.supportEndDate ?? null,
          language: account.language ?? null,
          passwordHash: account.passwordHash ?? null,
          mustChange: account.mustChangePassword ?? true,
          changedAt: account.passwordHash ? now : null,
          now,
        },
      },
    );
    // A contact's account made again (after its removal) must not inherit a challenge of the old one.
    await this.dropChallenges(account.contactId, options.transaction);
    return (await this.findByContactId(account.contactId, options))!;
  }

  async update(
    contactId: number,
    changes: PortalAccountChanges,
    options: AccountWriteOptions & { readonly expectedVersion?: number } = {},
  ): Promise<PortalAccount> {
    const sets: string[] = ['updated_at = :now', 'version = version + 1'];
    const replacements: Record<string, unknown> = { contactId, now: new Date() };
    for (const [field, column] of Object.entries(CHANGE_COLUMNS) as [keyof PortalAccountChanges, string][]) {
      if (!(field in changes) || changes[field] === undefined) continue;
      const value = field === 'email' ? normalizeEmail(String(changes.email)) : changes[field];
      if (field === 'email' && value === '') throw new Error('A portal account needs an email');
      sets.push(`${column} = :${field}`);
      replacements[field] = value;
    }
    let where = 'contact_id = :contactId';
    if (options.expectedVersion !== undefined) {
      where += ' AND version = :expectedVersion';
      replacements.expectedVersion = options.expectedVersion;
    }
    // `version = version + 1` changes the row every time, so the count is rows matched on every dialect.
    const changed = await this.sequelize.query(`UPDATE ${ACCOUNTS_TABLE} SET ${sets.join(', ')} WHERE ${where}`, {
      type: QueryTypes.BULKUPDATE,
      replacements,
      transaction: options.transaction,
    });
    if (toNumber(changed) !== 1) {
      if (options.expectedVersion !== undefined && (await this.findByContactId(contactId, options))) throw new StalePortalAccountError(contactId);
      throw new PortalAccountNotFoundError(contactId);
    }
    return (await this.findByContactId(contactId, options))!;
  }

  async setPassword(contactId: number, passwordHash: string, options: AccountWriteOptions & { readonly mustChange: boolean }): Promise<void> {
    const now = new Date();
    const changed = await this.sequelize.query(
      `UPDATE ${ACCOUNTS_TABLE}
          SET password_hash = :passwordHash, must_change_password = :mustChange, password_changed_at = :now,
              updated_at = :now, version = version + 1
        WHERE contact_id = :contactId`,
      { type: QueryTypes.BULKUPDATE, replacements: { contactId, passwordHash, mustChange: options.mustChange, now }, transaction: options.transaction },
    );
    if (toNumber(changed) !== 1) throw new PortalAccountNotFoundError(contactId);
    await this.dropChallenges(contactId, options.transaction);
  }

  async restorePassword(
    contactId: number,
    replaced: string,
    previous: { readonly passwordHash: string | null; readonly mustChange: boolean },
    options: AccountWriteOptions = {},
  ): Promise<boolean> {
    const restored = await this.sequelize.query(
      `UPDATE ${ACCOUNTS_TABLE}
          SET password_hash = :previous, must_change_password = :mustChange, updated_at = :now, version = version + 1
        WHERE contact_id = :contactId AND password_hash = :replaced`,
      {
        type: QueryTypes.BULKUPDATE,
        replacements: { contactId, replaced, previous: previous.passwordHash, mustChange: previous.mustChange, now: new Date() },
        transaction: options.transaction,
      },
    );
    return toNumber(restored) === 1;
  }

  /**
   * Every write that sets a password (reset, change, first access, a password the CRM generates,
   * a new account) ends the contact's second-factor challenges, after the password is written: a
   * challenge started before this point was opened with a password that no longer holds. Exact on
   * every database, unlike comparing `created_at` with `password_changed_at` (MariaDB keeps whole
   * seconds in both).
   */
  private async dropChallenges(contactId: number, transaction: Transaction | undefined): Promise<void> {
    await this.sequelize.query(`DELETE FROM ${CHALLENGES_TABLE} WHERE contact_id = :contactId`, {
      type: QueryTypes.BULKDELETE,
      replacements: { contactId },
      transaction,
    });
  }

  async dropResetLinks(contactId: number, options: AccountWriteOptions & { readonly twoFactor?: boolean }): Promise<void> {
    await this.sequelize.query(`DELETE FROM ${RESET_TOKENS_TABLE} WHERE contact_id = :contactId`, {
      type: QueryTypes.BULKDELETE,
      replacements: { contactId },
      transaction: options.transaction,
    });
    if (options.twoFactor) await this.dropChallenges(contactId, options.transaction);
  }

  async delete(contactId: number, options: AccountWriteOptions = {}): Promise<boolean> {
    const deleted = await this.sequelize.query(`DELETE FROM ${ACCOUNTS_TABLE} WHERE contact_id = :contactId`, {
      type: QueryTypes.BULKDELETE,
      replacements: { contactId },
      transaction: options.transaction,
    });
    return toNumber(deleted) === 1;
  }
}
