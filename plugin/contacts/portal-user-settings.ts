/**
 * A contact's portal-user settings (SPEC §3), as the Contact record's block shows and saves them:
 * portal user yes/no, profile, support start and end dates, and the account's state.
 *
 * - Turning portal user on for a contact with a valid email creates (or re-enables, unlocking it
 *   and clearing its failure count)
 *   its portal account with a generated password that must be changed at the first sign-in, and sends the
 *   registration mail (portal address, email, one-time password) in the contact's language,
 *   after the commit; when it cannot be sent the account stays on and the outcome says so. No valid email, an email that is already another enabled portal user's
 *   login, an end date already past or before the start: nothing is saved, nothing is sent, and
 *   the outcome says why.
 * - Turning it off ends every session of the contact in the same transaction.
 * - The support end date defaults to one year after the start; the start to today (in the CRM's
 *   time zone) whenever portal user is on and the field is left empty.
 * - Every save carries the version of the settings the form was rendered with
 *   (`settingsVersion`): a save over someone else's change is refused (`stale`), so two admins
 *   never send two passwords.
 * - Every change is written to the host's log (never a password) and, switching on and off, to
 *   the contact's login history with the admin who did it.
 */
import { createHash } from 'node:crypto';
import { inject, injectable } from 'inversify';
import { ForeignKeyConstraintError, QueryTypes, UniqueConstraintError, type Transaction } from 'sequelize';
import { Lockout } from '../auth/lockout.js';
import { HISTORY_TABLE, LoginHistory } from '../auth/login-history.js';
import { PasswordHasher } from '../auth/password-hasher.js';
import {
  PortalAccountStore,
  StalePortalAccountError,
  normalizeEmail,
  type PortalAccount,
  type PortalAccountChanges,
} from '../auth/portal-account-store.js';
import { PortalSessions } from '../auth/portal-sessions.js';
import { addYears, todayIn, withinSupport, type DateOnly } from '../auth/support-period.js';
import { HostDatabase, HostLogger, HostRecords, HostRegional, type CrmRecord, type CrmUser } from '../host-contract/index.js';
import { toIsoDateTime } from '../lifecycle/sql-values.js';
import { PortalMailer, isMailAddress } from '../notifications/portal-mailer.js';
import { ProfileStore, type ProfileSummary } from '../profiles/profile-store.js';
import { PORTAL_VERSION_SETTING, PortalVersions } from '../settings/portal-version.js';
import { SettingsStore } from '../settings/settings-store.js';
import { sendAccessDetails, type AccessDetailsDelivery } from './access-details.js';
import { releaseEmailOfGone } from './account-removal.js';
import { generatePortalPassword } from './generated-password.js';

/** What the admin's form asks for. Dates are `YYYY-MM-DD` or null (empty field). */
export interface PortalUserRequest {
  readonly portalUser: boolean;
  /**
   * Null: the Default profile on version 2. On version 1 profiles do not apply: the account keeps
   * its profile (Default for a new one) and another one asked for is refused.
   */
  readonly profileId: number | null;
  readonly supportStartDate: DateOnly | null;
  readonly supportEndDate: DateOnly | null;
  /** The `settingsVersion` the form showed (0: there was no account). */
  readonly expectedVersion: number;
}

export type PortalUserRefusal = 'contact_missing' | 'no_email' | 'email_in_use' | 'end_in_past' | 'end_before_start' | 'unknown_profile' | 'profile_on_v1' | 'stale';

export type PortalUserOutcome =
  /** `notSent`: the portal user was switched on but the access details did not leave, and why. */
  | {
      readonly ok: true;
      readonly change: 'enabled' | 'disabled' | 'updated' | 'unchanged';
      readonly email: string | null;
      readonly notSent?: Exclude<AccessDetailsDelivery, 'sent' | 'kept_for_retry'>;
      /** The access details were taken by the host, but wait for the mail server to answer (contract 1.10.0). */
      readonly keptForRetry?: true;
    }
  /** `email`: the contact's email, when the refusal is about it (`email_in_use`). */
  | { readonly ok: false; readonly reason: PortalUserRefusal; readonly email?: string };

/** What the block shows about a contact. */
export interface PortalUserState {
  readonly contact: CrmRecord;
  readonly account: PortalAccount | null;
  /** The contact's email as the portal would use it, or null when it has none that can receive mail. */
  readonly email: string | null;
  readonly profiles: readonly ProfileSummary[];
  /** The profile the form shows selected: the account's, else Default. */
  readonly profileId: number | null;
  /** Whether the admin chooses a profile: only on version 2 (version 1 has no profiles). */
  readonly profileChoosable: boolean;
  /** ISO 8601 UTC, or null when the contact never signed in. */
  readonly lastLoginAt: string | null;
}

export const PortalUserSettings = Symbol.for('business-portal.contacts.PortalUserSettings');
export interface PortalUserSettings {
  /** Null when the contact does not exist. */
  state(contactId: number): Promise<PortalUserState | null>;
  save(contactId: number, request: PortalUserRequest, admin: CrmUser): Promise<PortalUserOutcome>;
}

/** The contact's email when it can receive mail (what the portal mailer would send to), lower-cased; else null. */
export function mailableEmail(contact: CrmRecord): string | null {
  const value = contact.values.email;
  if (typeof value !== 'string') return null;
  const email = normalizeEmail(value);
  return isMailAddress(email) ? email : null;
}

/**
 * The version of the settings the form shows and saves — portal user, profile, support dates and
 * the login email —, 0 without an account: what a save is checked against. Not the account row's
 * `version`, which every sign-in and every wrong password bumps (the lockout's counters): a form
 * open while the customer, or whoever held the password, tried to sign in was refused as stale,
 * and the admin could not switch the portal off. At most nine digits, as the form's field.
 */
export function settingsVersion(account: PortalAccount | null): number {
  if (!account) return 0;
  const shown = JSON.stringify([account.portalEnabled, account.profileId, account.supportStartDate, account.supportEndDate, account.email]);
  return parseInt(createHash('sha256').update(shown).digest('hex').slice(0, 7), 16) + 1;
}

export function contactLanguage(contact: CrmRecord): string | null {
  const value = contact.values.language;
  return typeof value === 'string' && value !== '' ? value : null;
}

@injectable()
export class AccountPortalUserSettings implements PortalUserSettings {
  constructor(
    @inject(HostDatabase) private readonly database: HostDatabase,
    @inject(HostRecords) private readonly records: HostRecords,
    @inject(HostRegional) private readonly regional: HostRegional,
    @inject(HostLogger) private readonly logger: HostLogger,
    @inject(PortalAccountStore) private readonly accounts: PortalAccountStore,
    @inject(PasswordHasher) private readonly hasher: PasswordHasher,
    @inject(PortalSessions) private readonly sessions: PortalSessions,
    @inject(LoginHistory) private readonly history: LoginHistory,
    @inject(PortalMailer) private readonly mailer: PortalMailer,
    @inject(ProfileStore) private readonly profiles: ProfileStore,
    @inject(PortalVersions) private readonly versions: PortalVersions,
    @inject(Lockout) private readonly lockout: Lockout,
    @inject(SettingsStore) private readonly settingsStore: SettingsStore,
  ) {}

  async state(contactId: number): Promise<PortalUserState | null> {
    const contact = await this.records.get('Contacts', contactId);
    if (!contact) return null;
    const [account, profiles, lastLoginAt, version] = await Promise.all([
      this.accounts.findByContactId(contactId),
      this.profiles.list(),
      this.lastLogin(contactId),
      this.versions.current(),
    ]);
    const profileId = account?.profileId ?? profiles.find((profile) => profile.isDefault)?.id ?? null;
    return { contact, account, email: mailableEmail(contact), profiles, profileId, profileChoosable: version === 2, lastLoginAt };
  }

  async save(contactId: number, request: PortalUserRequest, admin: CrmUser): Promise<PortalUserOutcome> {
    const contact = await this.records.get('Contacts', contactId);
    if (!contact) return { ok: false, reason: 'contact_missing' };
    const account = await this.accounts.findByContactId(contactId);
    if (settingsVersion(account) !== request.expectedVersion) return { ok: false, reason: 'stale' };
    const profile = await this.profileFor(request.profileId, account);
    if ('refusal' in profile) return { ok: false, reason: profile.refusal };
    const { profileId } = profile;

    const today = todayIn(this.regional.timeZone());
    // An empty start means today (the form says so), not a start stored from an earlier period:
    // a former portal user switched on again would otherwise get an end date long past.
    const start = request.supportStartDate ?? (request.portalUser ? today : null);
    // A start in 9999 ends on that year's last day: a year later is past what a date column holds.
    const end = request.supportEndDate ?? (start === null ? null : start >= '9999-01-01' ? '9999-12-31' : addYears(start, 1));
    // With the start left empty (today), an end before it is simply already past: say that.
    if (start !== null && end !== null && end < start) return { ok: false, reason: request.supportStartDate === null ? 'end_in_past' : 'end_before_start' };

    try {
      if (!request.portalUser) return await this.switchOff(contact, account, { profileId, start, end }, admin);
      if (end !== null && end < today) return { ok: false, reason: 'end_in_past' };
      const email = mailableEmail(contact);
      if (!email) return { ok: false, reason: 'no_email' };
      if (account?.portalEnabled) return await this.keepOn(account, { profileId, start, end }, admin);
      return await this.switchOn(contact, email, account, { profileId, start, end }, admin);
    } catch (error) {
      // Someone else changed or created the account between our read and our write.
      if (error instanceof StalePortalAccountError || error instanceof UniqueConstraintError) return { ok: false, reason: 'stale' };
      // Another admin deleted the chosen profile between our check and our write: its key refused it.
      if (error instanceof ForeignKeyConstraintError) return { ok: false, reason: 'unknown_profile' };
      throw error;
    }
  }

  /**
   * The chosen profile (Default when none is chosen), or why it cannot be. On version 1, which has
   * no profiles, the account keeps its own (Default for a new one) and another one is refused.
   */
  private async profileFor(requested: number | null, account: PortalAccount | null): Promise<{ readonly profileId: number | null } | { readonly refusal: PortalUserRefusal }> {
    const profiles = await this.profiles.list();
    const defaultId = profiles.find((profile) => profile.isDefault)?.id ?? null;
    if ((await this.versions.current()) === 1) {
      const kept = account?.profileId ?? defaultId;
      return requested === null || requested === kept ? { profileId: kept } : { refusal: 'profile_on_v1' };
    }
    if (requested === null) return { profileId: defaultId };
    return profiles.some((profile) => profile.id === requested) ? { profileId: requested } : { refusal: 'unknown_profile' };
  }

  private async switchOn(
    contact: CrmRecord,
    email: string,
    account: PortalAccount | null,
    settings: { profileId: number | null; start: DateOnly | null; end: DateOnly | null },
    admin: CrmUser,
  ): Promise<PortalUserOutcome> {
    await releaseEmailOfGone({ records: this.records, database: this.database, accounts: this.accounts, sessions: this.sessions, logger: this.logger }, email, contact.id);
    // The login refuses an email that two enabled accounts share: both contacts would be locked out.
    if (await this.accounts.emailInUseByAnother(email, contact.id)) return { ok: false, reason: 'email_in_use', email };
    const password = generatePortalPassword();
    // Hash outside the transaction: scrypt takes tens of milliseconds and SQLite has one writer.
    const passwordHash = await this.hasher.hash(password);
    const language = contactLanguage(contact);
    const emailTaken = new Error('email in use');
    try {
      await this.database.sequelize.transaction(async (transaction) => {
        // Switch-ons take turns (the portal version's row, always there, is their lock) and look again
        // once it is theirs: two contacts of one email switched on at once both passed the check above.
        await this.settingsStore.lock(PORTAL_VERSION_SETTING, { transaction });
        if (await this.accounts.emailInUseByAnother(email, contact.id, { transaction })) throw emailTaken;
        if (!account) {
          await this.accounts.create(
            {
              contactId: contact.id,
              email,
              portalEnabled: true,
              profileId: settings.profileId,
              supportStartDate: settings.start,
              supportEndDate: settings.end,
              language,
              passwordHash,
              mustChangePassword: true,
            },
            { transaction },
          );
        } else {
          await this.accounts.update(
            contact.id,
            { email, portalEnabled: true, profileId: settings.profileId, supportStartDate: settings.start, supportEndDate: settings.end, language },
            { transaction, expectedVersion: account.version },
          );
          await this.accounts.setPassword(contact.id, passwordHash, { mustChange: true, transaction });
          // A re-enabled account starts clean: no session from before survives.
          await this.sessions.endAllFor(contact.id, { transaction });
        }
        await this.history.record({ event: 'enabled', contactId: contact.id, email, reason: 'admin', ip: null }, { transaction, adminUserId: admin.id });
        // A lock from before protected a password that no longer exists: the access details about to be
        // sent must work, so the admin who switched the account on again unlocks it, in the same
        // transaction (audit-logged, its old unlock links revoked). Asked of the row, not of the account
        // read before: a lock set since then goes too. Failures short of a lock were counted against
        // that password as well: the one mailed starts with none.
        if (account && !(await this.lockout.unlock(contact.id, admin.id, { transaction }))) await this.lockout.forgetFailures(contact.id, { transaction });
      });
    } catch (error) {
      if (error === emailTaken) return { ok: false, reason: 'email_in_use', email };
      throw error;
    }
    // Sent once the save has committed (a failed save sends nothing), and waited for: the admin is
    // told whether the access details left, and if not why, since their password is nowhere else.
    // The mailer reads the contact again: an email changed or removed since the check above is `no_email`.
    const delivery = await sendAccessDetails(this.mailer, this.logger, contact.id, { password, email });
    const told = delivery === 'sent' ? 'sent' : delivery === 'kept_for_retry' ? 'kept by the host to be sent when the mail server answers' : `not sent (${delivery})`;
    this.logger.info(`Business Portal: portal user enabled by a CRM admin; access details ${told}`, {
      contactId: contact.id,
      adminUserId: admin.id,
      profileId: settings.profileId,
      supportStartDate: settings.start,
      supportEndDate: settings.end,
    });
    if (delivery === 'sent') return { ok: true, change: 'enabled', email };
    if (delivery === 'kept_for_retry') return { ok: true, change: 'enabled', email, keptForRetry: true };
    return { ok: true, change: 'enabled', email, notSent: delivery };
  }

  private async keepOn(
    account: PortalAccount,
    settings: { profileId: number | null; start: DateOnly | null; end: DateOnly | null },
    admin: CrmUser,
  ): Promise<PortalUserOutcome> {
    const changes = this.changes(account, settings);
    if (!changes) return { ok: true, change: 'unchanged', email: account.email };
    // Outside its support period until now, the account's sessions ended then, whether or not a
    // request came to end them: a renewal must not bring back one that waited (a remembered one, say).
    if (!withinSupport(todayIn(this.regional.timeZone()), account.supportStartDate, account.supportEndDate)) {
      let ended = 0;
      await this.database.sequelize.transaction(async (transaction: Transaction) => {
        await this.accounts.update(account.contactId, changes, { transaction, expectedVersion: account.version });
        ended = await this.sessions.endAllFor(account.contactId, { transaction });
      });
      this.logger.info('Business Portal: portal user settings changed by a CRM admin; sessions from outside the support period ended', {
        contactId: account.contactId,
        adminUserId: admin.id,
        ...changes,
        sessionsEnded: ended,
      });
      return { ok: true, change: 'updated', email: account.email };
    }
    await this.accounts.update(account.contactId, changes, { expectedVersion: account.version });
    this.logger.info('Business Portal: portal user settings changed by a CRM admin', { contactId: account.contactId, adminUserId: admin.id, ...changes });
    return { ok: true, change: 'updated', email: account.email };
  }

  private async switchOff(
    contact: CrmRecord,
    account: PortalAccount | null,
    settings: { profileId: number | null; start: DateOnly | null; end: DateOnly | null },
    admin: CrmUser,
  ): Promise<PortalUserOutcome> {
    // A contact that never was a portal user has nothing to keep: no account is made for it.
    if (!account) return { ok: true, change: 'unchanged', email: null };
    const changes = this.changes(account, settings);
    if (!account.portalEnabled) {
      if (!changes) return { ok: true, change: 'unchanged', email: account.email };
      await this.accounts.update(contact.id, changes, { expectedVersion: account.version });
      this.logger.info('Business Portal: portal user settings changed by a CRM admin', { contactId: contact.id, adminUserId: admin.id, ...changes });
      return { ok: true, change: 'updated', email: account.email };
    }
    let ended = 0;
    await this.database.sequelize.transaction(async (transaction: Transaction) => {
      await this.accounts.update(contact.id, { ...changes, portalEnabled: false }, { transaction, expectedVersion: account.version });
      ended = await this.sessions.endAllFor(contact.id, { transaction });
      await this.history.record({ event: 'disabled', contactId: contact.id, email: account.email, reason: 'admin', ip: null }, { transaction, adminUserId: admin.id });
    });
    this.logger.info('Business Portal: portal user disabled by a CRM admin; sessions ended', { contactId: contact.id, adminUserId: admin.id, sessionsEnded: ended });
    return { ok: true, change: 'disabled', email: account.email };
  }

  /** The settings that differ from the account's, or null when none does. */
  private changes(account: PortalAccount, settings: { profileId: number | null; start: DateOnly | null; end: DateOnly | null }): PortalAccountChanges | null {
    const changes: { -readonly [K in keyof PortalAccountChanges]: PortalAccountChanges[K] } = {};
    if (account.profileId !== settings.profileId) changes.profileId = settings.profileId;
    if (account.supportStartDate !== settings.start) changes.supportStartDate = settings.start;
    if (account.supportEndDate !== settings.end) changes.supportEndDate = settings.end;
    return Object.keys(changes).length > 0 ? changes : null;
  }

  private async lastLogin(contactId: number): Promise<string | null> {
    const rows = await this.database.sequelize.query<{ at: unknown }>(
      `SELECT MAX(at) AS at FROM ${HISTORY_TABLE} WHERE contact_id = :contactId AND event = 'login'`,
      { type: QueryTypes.SELECT, replacements: { contactId } },
    );
    return toIsoDateTime(rows[0]?.at ?? null);
  }
}
