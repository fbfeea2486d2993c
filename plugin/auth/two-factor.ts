/**
 * The second factor of a portal login (SECURITY.md: 6 random digits, valid 10 minutes, single
 * use, at most 5 tries; every wrong code counts as a failed login on the shared counter).
 *
 * - `TwoFactorMethod` is the extension point: a way to deliver (and later, e.g. for an
 *   authenticator app, to check) a code. `email` is implemented.
 * - `TwoFactorPolicy` says which method a contact's profile asks for, and the fallback used when
 *   the primary cannot reach the contact. The default reads `two_factor_type` and
 *   `two_factor_fallback` of the profile in force (`ProfileInForce`: Default without the licence)
 *   and answers "none" on version 1, which has no profiles (its customers sign in with the
 *   password alone, whatever the version 2 profiles kept beside it ask for).
 * - `TwoFactor` runs the step: a challenge row (`bp_two_factor_challenges`) keyed by the SHA-256
 *   of a random token the browser keeps in a cookie, holding only an HMAC of the code. A check
 *   reserves a try on the challenge, asks again whether the account may sign in (a lock or a
 *   portal switch-off since the password refuses the code), then checks the code under the
 *   lockout's guard. A new password, whichever way it is set, deletes the contact's challenges
 *   (`PortalAccountStore.setPassword`): a code asked for with the old password answers like any
 *   other dead challenge. At most `CODES_PER_CONTACT_PER_HOUR` codes are mailed to a contact in an
 *   hour (challenges are kept an hour to be counted, then deleted by `RetentionPurge`), so a password
 *   alone cannot flood the mailbox.
 */
import { createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { inject, injectable, multiInject } from 'inversify';
import { QueryTypes } from 'sequelize';
import { HostDatabase, HostLogger, type CrmRecord } from '../host-contract/index.js';
import { PluginKeys } from '../http/plugin-keys.js';
import { toBoolean, toIsoDateTime, toNumber } from '../lifecycle/sql-values.js';
import { PortalMailer, isMailAddress } from '../notifications/portal-mailer.js';
import { AccountEligibility } from './account-eligibility.js';
import { LOCK_AFTER_FAILURES, Lockout } from './lockout.js';
import { LoginHistory } from './login-history.js';
import { CHALLENGES_TABLE, PortalAccountStore, type PortalAccount } from './portal-account-store.js';
import { hashToken } from './portal-sessions.js';
import { NO_SECOND_FACTOR, ProfileInForce, twoFactorTypeOf } from './profile-in-force.js';

export { CHALLENGES_TABLE };
export const CODE_DIGITS = 6;
export const CODE_VALID_MINUTES = 10;
export const CODE_MAX_TRIES = 5;
/** Codes mailed to one contact in an hour, at most: who holds the password cannot flood the mailbox. */
export const CODES_PER_CONTACT_PER_HOUR = 10;
export const CHALLENGE_COOKIE = 'bp_2fa';
/** How long a challenge is kept after it was made, dead ones included: the hour its code is counted in. */
export const CHALLENGES_KEPT_MS = 60 * 60_000;
/**
 * Deletes the challenges past that hour, by their expiry (`bp_two_factor_challenges_expires_at`
 * serves it: its plan is read by test/scale/query-plans.test.ts). `:forgotten` is
 * `challengesForgottenAt(now)`.
 */
export const CHALLENGES_PURGE_STATEMENT = `DELETE FROM ${CHALLENGES_TABLE} WHERE expires_at <= :forgotten`;

/** The expiry at or before which a challenge was made more than `CHALLENGES_KEPT_MS` before `now`. */
export function challengesForgottenAt(now: Date): Date {
  return new Date(now.getTime() - CHALLENGES_KEPT_MS + CODE_VALID_MINUTES * 60_000);
}

const TOKEN_FORMAT = /^[A-Za-z0-9_-]{43}$/;

/** `none`, or the name of a `TwoFactorMethod` (`email`; more can be bound). */
export type TwoFactorType = string;
export { NO_SECOND_FACTOR };

/** The password the sign-in checked was changed before its challenge was stored (on any host process): no challenge. */
export class PasswordChangedError extends Error {
  constructor() {
    super('Business Portal: the password was changed during the sign-in');
    this.name = 'PasswordChangedError';
  }
}

/** The code of a new challenge could not be delivered (the mail server is down, say): the challenge is dropped. */
export class CodeNotSentError extends Error {
  constructor() {
    super('Business Portal: the verification code could not be delivered');
    this.name = 'CodeNotSentError';
  }
}

/** The contact was sent `CODES_PER_CONTACT_PER_HOUR` codes in the last hour: no new challenge, the earlier ones left as they are. */
export class TooManyCodesError extends Error {
  constructor() {
    super('Business Portal: too many verification codes were sent to the contact in the last hour');
    this.name = 'TooManyCodesError';
  }
}

/** A way to prove a second factor. */
export interface TwoFactorMethod {
  /** As stored in the profile, e.g. `email`. */
  readonly name: string;
  /** Whether the method can reach this contact now (e.g. it has an email address). */
  available(account: PortalAccount, contact: CrmRecord): boolean;
  /** Delivers a fresh code to the contact; false when it could not. */
  deliver(account: PortalAccount, contact: CrmRecord, code: string, validMinutes: number): Promise<boolean>;
}

/** Multi-bound: every method the plugin offers. */
export const TwoFactorMethods = Symbol.for('business-portal.auth.TwoFactorMethods');

export interface TwoFactorTypes {
  readonly primary: TwoFactorType;
  readonly fallback: TwoFactorType;
}

export const TwoFactorPolicy = Symbol.for('business-portal.auth.TwoFactorPolicy');
export interface TwoFactorPolicy {
  typesFor(account: PortalAccount): Promise<TwoFactorTypes>;
}

@injectable()
export class EmailTwoFactorMethod implements TwoFactorMethod {
  readonly name = 'email';

  constructor(
    @inject(PortalMailer) private readonly mailer: PortalMailer,
    @inject(HostLogger) private readonly logger: HostLogger,
  ) {}

  available(_account: PortalAccount, contact: CrmRecord): boolean {
    const email = contact.values.email;
    return typeof email === 'string' && isMailAddress(email.trim());
  }

  async deliver(account: PortalAccount, _contact: CrmRecord, code: string, validMinutes: number): Promise<boolean> {
    try {
      return (await this.mailer.sendToContact('twoFactorCode', account.contactId, { portal: { code, minutes: validMinutes } })) === 'sent';
    } catch (error) {
      // The code is never logged; the mail server's answer holds nothing of ours.
      this.logger.error('Business Portal: the verification code mail could not be sent', {
        contactId: account.contactId,
        error: error instanceof Error ? error.message : String(error),
      });
      return false;
    }
  }
}

/** The two-factor types of the profile in force (`ProfileInForce`: none on version 1, Default without the licence). */
@injectable()
export class ProfileTwoFactorPolicy implements TwoFactorPolicy {
  constructor(@inject(ProfileInForce) private readonly profiles: ProfileInForce) {}

  async typesFor(account: PortalAccount): Promise<TwoFactorTypes> {
    const row = await this.profiles.columns(account, ['two_factor_type', 'two_factor_fallback']);
    return { primary: twoFactorTypeOf(row?.two_factor_type), fallback: twoFactorTypeOf(row?.two_factor_fallback) };
  }
}

/** What the second step needs: the method to use, none, or "asked for but impossible" (the login is refused). */
export type SecondFactorRequirement = { readonly kind: 'none' } | { readonly kind: 'method'; readonly method: TwoFactorMethod } | { readonly kind: 'unavailable' };

export type CodeCheck =
  /**
   * `passwordHash`: the account's hash before the code was checked; the session starts only while it
   * still is (`PortalSessions.start`). `method`: the method whose code was right (the session keeps it).
   */
  | {
      readonly ok: true;
      readonly account: PortalAccount;
      readonly contact: CrmRecord;
      readonly remember: boolean;
      readonly passwordHash: string | null;
      readonly method: string;
    }
  | { readonly ok: false; readonly challengeAlive: boolean };

export interface PendingChallenge {
  readonly method: string;
  readonly expiresAt: string;
  readonly triesLeft: number;
}

export const TwoFactor = Symbol.for('business-portal.auth.TwoFactor');
export interface TwoFactor {
  requirementFor(account: PortalAccount, contact: CrmRecord): Promise<SecondFactorRequirement>;
  /**
   * Creates a challenge and delivers its code; answers the token the browser keeps (never stored).
   * Throws `CodeNotSentError` (the challenge removed) when the code could not be delivered,
   * `PasswordChangedError` (nothing stored) when `passwordHash` is no longer the account's, and
   * `TooManyCodesError` (nothing sent) when the contact had its hour's codes.
   */
  start(
    account: PortalAccount,
    contact: CrmRecord,
    method: TwoFactorMethod,
    options: { readonly remember: boolean; readonly ip: string; readonly passwordHash?: string },
  ): Promise<string>;
  /** The challenge of a token when it can still be answered. */
  pending(token: string | undefined): Promise<PendingChallenge | null>;
  /** Checks a code; every wrong or refused try is counted and recorded. */
  verify(token: string | undefined, code: string, ip: string): Promise<CodeCheck>;
  /** Deletes the challenges made more than `CHALLENGES_KEPT_MS` before `now` (`RetentionPurge`); answers how many. */
  purgeChallenges(now?: Date): Promise<number>;
}

interface ChallengeRow {
  contact_id: unknown;
  method: unknown;
  code_hash: unknown;
  remember: unknown;
  attempts: unknown;
  expires_at: unknown;
  used_at: unknown;
}

@injectable()
export class ChallengeTwoFactor implements TwoFactor {
  constructor(
    @inject(HostDatabase) private readonly database: HostDatabase,
    @inject(PluginKeys) private readonly keys: PluginKeys,
    @inject(TwoFactorPolicy) private readonly policy: TwoFactorPolicy,
    @multiInject(TwoFactorMethods) private readonly methods: TwoFactorMethod[],
    @inject(PortalAccountStore) private readonly accounts: PortalAccountStore,
    @inject(AccountEligibility) private readonly eligibility: AccountEligibility,
    @inject(Lockout) private readonly lockout: Lockout,
    @inject(LoginHistory) private readonly history: LoginHistory,
  ) {}

  private codeHash(challengeId: string, code: string): string {
    const key = this.keys.key('business-portal:two-factor:v1');
    return createHmac('sha256', key).update(`${challengeId}:${code}`).digest('hex');
  }

  async requirementFor(account: PortalAccount, contact: CrmRecord): Promise<SecondFactorRequirement> {
    const { primary, fallback } = await this.policy.typesFor(account);
    if (primary === NO_SECOND_FACTOR) return { kind: 'none' };
    for (const name of [primary, fallback]) {
      const method = this.methods.find((candidate) => candidate.name === name);
      if (method?.available(account, contact)) return { kind: 'method', method };
    }
    // Asked for, but no method can reach the contact: fail closed.
    return { kind: 'unavailable' };
  }

  async start(account: PortalAccount, contact: CrmRecord, method: TwoFactorMethod, options: { readonly remember: boolean; readonly ip: string; readonly passwordHash?: string }): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    const id = hashToken(token);
    const code = String(randomInt(0, 10 ** CODE_DIGITS)).padStart(CODE_DIGITS, '0');
    const now = new Date();
    const hourAgo = new Date(now.getTime() - CHALLENGES_KEPT_MS);
    const sequelize = this.database.sequelize;
    // Challenges are kept an hour after they were made (dead ones included), to count the codes sent.
    // The background purge removes them too, for contacts who never start a code step again.
    await this.purgeChallenges(now);
    const stored = await sequelize.transaction(async (transaction) => {
      // With the hash the password step checked: only while it is still the account's (a change
      // after the hold deletes this challenge with the others).
      if (options.passwordHash !== undefined && !(await this.accounts.holdPassword(account.contactId, options.passwordHash, { transaction }))) return false;
      await sequelize.query(
        `INSERT INTO ${CHALLENGES_TABLE} (id, contact_id, method, code_hash, remember, attempts, created_at, expires_at, used_at, ip)
         VALUES (:id, :contactId, :method, :codeHash, :remember, 0, :now, :expiresAt, NULL, :ip)`,
        {
          type: QueryTypes.INSERT,
          transaction,
          replacements: {
            id,
            contactId: account.contactId,
            method: method.name,
            codeHash: this.codeHash(id, code),
            remember: options.remember,
            now,
            expiresAt: new Date(now.getTime() + CODE_VALID_MINUTES * 60_000),
            ip: options.ip.slice(0, 45),
          },
        },
      );
      return true;
    });
    if (!stored) throw new PasswordChangedError();
    // Counted once stored and committed, this one included: of parallel sign-ins past the limit, none sends.
    const [counted] = await sequelize.query<{ n: unknown }>(`SELECT COUNT(*) AS n FROM ${CHALLENGES_TABLE} WHERE contact_id = :contactId AND created_at > :hourAgo`, {
      type: QueryTypes.SELECT,
      replacements: { contactId: account.contactId, hourAgo },
    });
    if (toNumber(counted?.n) > CODES_PER_CONTACT_PER_HOUR) {
      await sequelize.query(`DELETE FROM ${CHALLENGES_TABLE} WHERE id = :id`, { type: QueryTypes.BULKDELETE, replacements: { id } });
      throw new TooManyCodesError();
    }
    // The new challenge replaces the contact's earlier ones: only the latest code works.
    await sequelize.query(`UPDATE ${CHALLENGES_TABLE} SET used_at = :now WHERE contact_id = :contactId AND id <> :id AND used_at IS NULL AND created_at <= :now`, {
      type: QueryTypes.BULKUPDATE,
      replacements: { contactId: account.contactId, id, now },
    });
    if (!(await method.deliver(account, contact, code, CODE_VALID_MINUTES))) {
      await this.database.sequelize.query(`DELETE FROM ${CHALLENGES_TABLE} WHERE id = :id`, { type: QueryTypes.BULKDELETE, replacements: { id } });
      throw new CodeNotSentError();
    }
    return token;
  }

  async purgeChallenges(now: Date = new Date()): Promise<number> {
    return toNumber(
      await this.database.sequelize.query(CHALLENGES_PURGE_STATEMENT, { type: QueryTypes.BULKDELETE, replacements: { forgotten: challengesForgottenAt(now) } }),
    );
  }

  private async row(token: string | undefined): Promise<{ id: string; row: ChallengeRow } | null> {
    if (!token || !TOKEN_FORMAT.test(token)) return null;
    const id = hashToken(token);
    const rows = await this.database.sequelize.query<ChallengeRow>(
      `SELECT contact_id, method, code_hash, remember, attempts, expires_at, used_at FROM ${CHALLENGES_TABLE} WHERE id = :id`,
      { type: QueryTypes.SELECT, replacements: { id } },
    );
    return rows[0] ? { id, row: rows[0] } : null;
  }

  async pending(token: string | undefined): Promise<PendingChallenge | null> {
    const found = await this.row(token);
    if (!found) return null;
    const { row } = found;
    const expiresAt = toIsoDateTime(row.expires_at);
    const attempts = toNumber(row.attempts);
    if (toIsoDateTime(row.used_at) !== null || !expiresAt || Date.parse(expiresAt) <= Date.now() || attempts >= CODE_MAX_TRIES) return null;
    // A wrong code also counts on the account's lockout counter, which may hold wrong passwords
    // from before this login: the customer is told the tries left before the account locks, when fewer.
    const account = await this.accounts.findByContactId(toNumber(row.contact_id));
    const triesLeft = Math.min(CODE_MAX_TRIES - attempts, LOCK_AFTER_FAILURES - (account?.failedAttempts ?? 0));
    if (!account || account.lockedAt !== null || triesLeft <= 0) return null;
    return { method: String(row.method), expiresAt, triesLeft };
  }

  async verify(token: string | undefined, code: string, ip: string): Promise<CodeCheck> {
    const found = await this.row(token);
    if (!found) return { ok: false, challengeAlive: false };
    const { id, row } = found;
    const contactId = toNumber(row.contact_id);
    // Read before the challenge is touched: a password change after this read makes the session's
    // start refuse; one before it has deleted the challenge, so the try below is refused.
    const passwordHash = await this.accounts.passwordHash(contactId);
    const refuse = async (reason: string, alive: boolean, recorded = false): Promise<CodeCheck> => {
      if (!recorded) await this.history.record({ event: 'failed', contactId, email: null, reason, ip });
      return { ok: false, challengeAlive: alive };
    };

    // Reserve a try on the challenge itself: at most CODE_MAX_TRIES checks, however many run at once.
    const reserved = toNumber(
      await this.database.sequelize.query(
        `UPDATE ${CHALLENGES_TABLE} SET attempts = attempts + 1
          WHERE id = :id AND used_at IS NULL AND attempts < :max AND expires_at > :now`,
        { type: QueryTypes.BULKUPDATE, replacements: { id, max: CODE_MAX_TRIES, now: new Date() } },
      ),
    );
    if (reserved !== 1) return refuse('code_expired_or_used', false);
    const triesLeft = CODE_MAX_TRIES - toNumber(row.attempts) - 1;

    if (!(await this.lockout.reserveClient(ip))) return refuse('client_banned', triesLeft > 0);
    const account = await this.accounts.findByContactId(contactId);
    const eligibility = account ? await this.eligibility.check(account) : null;
    if (!account || !eligibility?.eligible) {
      await this.lockout.clientFailed(ip, null);
      return refuse(eligibility && !eligibility.eligible ? eligibility.reason : 'contact_missing', false);
    }

    const given = code.replace(/\s+/g, '');
    const expected = Buffer.from(String(row.code_hash), 'hex');
    // The lockout records a wrong code itself, before the lock it may cause.
    const outcome = await this.lockout.guard(
      account,
      ip,
      async () => {
        if (!/^\d{6}$/.test(given)) return false;
        const actual = Buffer.from(this.codeHash(id, given), 'hex');
        return actual.length === expected.length && timingSafeEqual(actual, expected);
      },
      { failure: { reason: 'wrong_code', email: null } },
    );
    if (outcome.kind !== 'passed') {
      await this.lockout.clientFailed(ip, account.email);
      return refuse(outcome.kind === 'refused' ? outcome.reason : 'wrong_code', outcome.kind === 'failed' && !outcome.locked && triesLeft > 0, outcome.kind === 'failed');
    }
    // Single use: only the request that marks the challenge used signs in.
    const consumed = toNumber(
      await this.database.sequelize.query(`UPDATE ${CHALLENGES_TABLE} SET used_at = :now WHERE id = :id AND used_at IS NULL`, {
        type: QueryTypes.BULKUPDATE,
        replacements: { id, now: new Date() },
      }),
    );
    if (consumed !== 1) return refuse('code_expired_or_used', false);
    await this.lockout.clientSucceeded(ip);
    return { ok: true, account, contact: eligibility.contact, remember: toBoolean(row.remember), passwordHash, method: String(row.method) };
  }
}
