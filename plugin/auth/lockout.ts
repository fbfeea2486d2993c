/**
 * Brute-force protection, shared by every process that uses the database (SECURITY.md, "How
 * the lockout must work"):
 *
 * - **Per account.** Each attempt is *reserved* before the secret is checked, with one atomic
 *   conditional UPDATE (`failed_attempts = failed_attempts + 1 … WHERE failed_attempts < 5 AND
 *   locked_at IS NULL`); only a request whose UPDATE changed the row may check. So under any
 *   number of parallel guesses at most 5 checks run. A failed check keeps its reservation and
 *   locks the account at the fifth; a full success resets the count — only while the account
 *   is not locked, so a success running beside failures never clears a lock already set. Only
 *   an admin's `unlock`, the owner's emailed unlock link (`unlockByLink`) or new access details
 *   mailed after a CRM change of the email (`unlockForNewAccessDetails`) clear a lock;
 *   afterwards five new failures lock again. New access details also clear the count of an account
 *   that is not locked (`forgetFailures`): failures against a password that is gone do not count
 *   against the one just mailed. Reservations a process never settled (it died while
 *   checking) stay counted; at the limit and stale, they lock the account. `AccountLockListener`s hear of every lock and unlock.
 * - **Per client address.** Attempts from one address are reserved the same way against a
 *   limit of 100, across every account and unknown emails alike; a failure keeps its
 *   reservation (a success gives it back), and the hundredth failure bans the address for every
 *   account until an admin lifts it (lifting touches only a banned address: the count of one
 *   that is not banned stays). Successes do not wipe earlier failures, or an attacker
 *   with one valid account could reset their own counter between guesses. An IPv6 client is
 *   counted by its /64 (`clientKey`): it holds all of it, and counted per address it went on
 *   from a fresh one after each ban.
 *
 * Every UPDATE here also bumps a column that always changes (`version`, or the counter
 * itself), so the affected-row count means "rows matched" on every dialect (MariaDB reports
 * changed rows only).
 */
import { inject, injectable, multiInject, optional } from 'inversify';
import { QueryTypes, type Transaction } from 'sequelize';
import { isInsertCollision } from '../lifecycle/insert-collision.js';
import { HostDatabase, HostLogger } from '../host-contract/index.js';
import { isDatabaseUnavailable } from '../http/database-outage.js';
import { toIsoDateTime, toNumber } from '../lifecycle/sql-values.js';
import { AccountLockListener } from './account-lock-listener.js';
import { clientKey } from './client-address.js';
import { LoginHistory, type LoginReason } from './login-history.js';
import { ACCOUNTS_TABLE } from './portal-account-store.js';

/** Pauses before the settling of a passed check is tried again while the database blinks (about 2 s in all). */
export const SETTLE_RETRY_MS: readonly number[] = [100, 250, 500, 1000];
/** A failure quicker than this is a blink (a connection refused or lost), not a wait that ran out. */
const SETTLE_QUICK_FAILURE_MS = 1000;

/** Consecutive failures that lock a portal account. */
export const LOCK_AFTER_FAILURES = 5;
/** Failures from one client address, across any accounts, that ban the address. */
export const BAN_CLIENT_AFTER_FAILURES = 100;
/** A reservation not settled for this long was left by a process that died while checking (see `lockAbandoned`). */
export const RESERVATIONS_STALE_AFTER_MS = 10 * 60_000;

export const CLIENTS_TABLE = 'bp_client_failures';

/** The clause that holds the rows a SELECT read until the transaction ends (SQLite's transaction holds the whole file). */
function rowLock(dialect: string): string {
  if (dialect === 'postgres' || dialect === 'mariadb' || dialect === 'mysql') return ' FOR UPDATE';
  return '';
}

/** What a guarded check came to. */
export type GuardOutcome =
  /** The secret matched and the account is not locked. */
  | { readonly kind: 'passed' }
  /** The secret was checked and did not match (the failure is counted). */
  | { readonly kind: 'failed'; readonly locked: boolean }
  /** No check ran: the account is locked, or its remaining attempts are all in flight. */
  | { readonly kind: 'refused'; readonly reason: Extract<LoginReason, 'locked' | 'attempts_in_flight'> };

export interface GuardOptions {
  readonly completesLogin?: boolean;
  /** A failed check's login-history entry: its reason and the email it was tried with (the account's when absent). */
  readonly failure?: { readonly reason: string; readonly email?: string | null };
}

export interface GuardedAccount {
  readonly id: number;
  readonly contactId: number;
  readonly email: string;
}

export interface BannedClient {
  readonly ip: string;
  readonly failures: number;
  /** ISO 8601, UTC. */
  readonly bannedAt: string;
  readonly lastFailedAt: string | null;
}

export const Lockout = Symbol.for('business-portal.auth.Lockout');
export interface Lockout {
  /**
   * Checks a secret of `account` under its counter: reserves an attempt, runs `check` only if
   * the reservation succeeded, then settles it. Every path that checks a secret (login, second
   * factor, current password, reset) goes through here.
   *
   * `completesLogin: false` (a password before a second factor): a success only gives its own
   * reservation back; earlier failures stay until the whole login succeeds.
   *
   * `failure`: what a failed check is recorded as in the login history (the caller records it
   * otherwise). Recorded here, a failure that reaches the limit is written before the lock it
   * causes, so the contact's history (newest first) shows the lock above its cause.
   */
  guard(account: GuardedAccount, ip: string, check: () => Promise<boolean>, options?: GuardOptions): Promise<GuardOutcome>;
  /** Reserves an attempt for a client address; false when the address is banned (or at its limit). */
  reserveClient(ip: string): Promise<boolean>;
  /** The reserved attempt of this address failed: it stays counted, and may ban the address. */
  clientFailed(ip: string, email: string | null): Promise<void>;
  /** The reserved attempt of this address succeeded: it is given back. */
  clientSucceeded(ip: string): Promise<void>;
  /**
   * Clears a locked contact's lock and count (an admin's action, audit-logged). Only a locked
   * account is unlocked, and only by one caller however many run at once: false when there is no
   * account or it is not locked (its failure count, if any, is left as it is).
   */
  unlock(contactId: number, adminUserId: number, options?: { readonly transaction?: Transaction }): Promise<boolean>;
  /**
   * `unlock` of many contacts at once (the login check's page of locked users), in a constant number
   * of statements whatever their number: the ids that were locked and are now unlocked, ascending.
   * Ids that are not locked, or have no account, are left out (and nothing is written for them).
   */
  unlockMany(contactIds: readonly number[], adminUserId: number, options?: { readonly transaction?: Transaction }): Promise<readonly number[]>;
  /**
   * Clears a contact's lock and count because its owner used the emailed unlock link (recorded in
   * the login history as such). Only a locked account is unlocked: false otherwise. Runs in the
   * caller's transaction, which also marks the link used.
   */
  unlockByLink(contactId: number, options: { readonly transaction: Transaction }): Promise<boolean>;
  /**
   * Clears a contact's lock and count because the CRM changed its email and the access details
   * with a new password have just been mailed to the new address: the lock protected a password
   * that no longer exists, and the one mailed must work (recorded in the login history as such).
   * Only a locked account is unlocked: false otherwise. Runs in the caller's transaction.
   */
  unlockForNewAccessDetails(contactId: number, options: { readonly transaction: Transaction }): Promise<boolean>;
  /**
   * New access details (a generated password) replaced the account's password: the failures counted
   * against the old one are void, and the new password gets its five tries. Sets the count of an
   * account that is not locked back to zero; a locked one is left to `unlock` /
   * `unlockForNewAccessDetails`, which clear the count with the lock (and say so). Runs in the
   * caller's transaction, the one that sets the password or unlocks. True when a count was cleared.
   */
  forgetFailures(contactId: number, options: { readonly transaction: Transaction }): Promise<boolean>;
  /**
   * Lifts a client address's ban and clears its count (an admin's action, audit-logged). Only a
   * banned address — or one at the limit, whose ban is being written — is lifted: false for an
   * address that is not banned (its count of failures stays) or not recorded. In the caller's
   * transaction when given (the login check's, which also writes the admin's audit entry).
   */
  liftBan(ip: string, adminUserId?: number, options?: { readonly transaction?: Transaction }): Promise<boolean>;
  /** Banned client addresses, the most recently banned first: all of them, or the first `limit`. */
  bannedClients(options?: { readonly limit?: number }): Promise<readonly BannedClient[]>;
}

@injectable()
export class DatabaseLockout implements Lockout {
  constructor(
    @inject(HostDatabase) private readonly database: HostDatabase,
    @inject(LoginHistory) private readonly history: LoginHistory,
    @inject(HostLogger) private readonly logger: HostLogger,
    @multiInject(AccountLockListener) @optional() private readonly listeners: readonly AccountLockListener[] = [],
  ) {}

  /** Tells the listeners; a failing listener is logged and never changes the caller's outcome. */
  private async notify(event: string, call: (listener: AccountLockListener) => Promise<void> | undefined): Promise<void> {
    for (const listener of this.listeners ?? []) {
      try {
        await call(listener);
      } catch (error) {
        this.logger.error('Business Portal: a lock listener failed', { event, error: error instanceof Error ? error.message : String(error) });
      }
    }
  }

  /** Runs an UPDATE or DELETE and answers how many rows it matched. */
  private async write(sql: string, replacements: Record<string, unknown>, type: QueryTypes.BULKUPDATE | QueryTypes.BULKDELETE = QueryTypes.BULKUPDATE): Promise<number> {
    return toNumber(await this.database.sequelize.query(sql, { type, replacements }));
  }

  /**
   * The write that settles a passed check, tried again while the database blinks (a connection
   * lost and refused at once, `SETTLE_RETRY_MS`): failing, it left the reservation counted, so a
   * right password given as the database blinked counted as a wrong one. A try that failed slowly
   * (a lock or a server that waited out its wait) is not tried again: the request would wait that
   * long again. What still fails stays counted, as an attempt whose process died (fail closed).
   */
  private async settle(sql: string, replacements: Record<string, unknown>): Promise<number> {
    for (let attempt = 0; ; attempt += 1) {
      const began = performance.now();
      try {
        return await this.write(sql, replacements);
      } catch (error) {
        const pause = SETTLE_RETRY_MS[attempt];
        if (pause === undefined || !isDatabaseUnavailable(error) || performance.now() - began > SETTLE_QUICK_FAILURE_MS) throw error;
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }

  async guard(account: GuardedAccount, ip: string, check: () => Promise<boolean>, options: GuardOptions = {}): Promise<GuardOutcome> {
    const reserved = await this.write(
      `UPDATE ${ACCOUNTS_TABLE} SET failed_attempts = failed_attempts + 1, reserved_at = :now, version = version + 1
        WHERE id = :id AND locked_at IS NULL AND failed_attempts < :limit`,
      { id: account.id, limit: LOCK_AFTER_FAILURES, now: new Date() },
    );
    if (reserved !== 1) {
      if (await this.lockAbandoned(account, ip)) return { kind: 'refused', reason: 'locked' };
      return { kind: 'refused', reason: (await this.isLocked(account.id)) ? 'locked' : 'attempts_in_flight' };
    }

    let passed: boolean;
    try {
      passed = await check();
    } catch (error) {
      // Should `check` throw, the reservation stays counted as a failure — fail closed — and is
      // settled as one: a fifth left unsettled would refuse every attempt as in flight, for good.
      await this.failed(account, ip);
      throw error;
    }
    if (passed) {
      // Only the reset is tried again: it is the same however often it runs, while a give-back run
      // twice (its first answer lost after its commit) would forgive another attempt's failure.
      const settled =
        options.completesLogin === false
          ? await this.write(
              `UPDATE ${ACCOUNTS_TABLE} SET failed_attempts = failed_attempts - 1, version = version + 1
                WHERE id = :id AND locked_at IS NULL AND failed_attempts > 0`,
              { id: account.id },
            )
          : await this.settle(
              `UPDATE ${ACCOUNTS_TABLE} SET failed_attempts = 0, first_failed_at = NULL, version = version + 1
                WHERE id = :id AND locked_at IS NULL`,
              { id: account.id },
            );
      // Zero rows: the account was locked while this check ran. The lock wins.
      return settled === 1 ? { kind: 'passed' } : { kind: 'refused', reason: 'locked' };
    }

    return { kind: 'failed', locked: await this.failed(account, ip, options.failure) };
  }

  /**
   * Settles a reserved attempt that failed: records it (in the login history too when `failure`
   * says how, before any lock), and locks the account at the limit. True: this call locked it.
   */
  private async failed(account: GuardedAccount, ip: string, failure?: GuardOptions['failure']): Promise<boolean> {
    const now = new Date();
    await this.write(
      `UPDATE ${ACCOUNTS_TABLE}
          SET first_failed_at = COALESCE(first_failed_at, :now), last_failed_at = :now, last_failed_ip = :ip, version = version + 1
        WHERE id = :id`,
      { id: account.id, now, ip: ip.slice(0, 45) },
    );
    if (failure) {
      // The lock below never waits on the history: a failure that cannot be written is logged.
      try {
        await this.history.record({ event: 'failed', contactId: account.contactId, email: failure.email === undefined ? account.email : failure.email, reason: failure.reason, ip });
      } catch (error) {
        this.logger.error('Business Portal: a failed sign-in could not be written to the login history', { contactId: account.contactId, error: error instanceof Error ? error.message : String(error) });
      }
    }
    const locked = await this.write(
      `UPDATE ${ACCOUNTS_TABLE} SET locked_at = :now, version = version + 1
        WHERE id = :id AND locked_at IS NULL AND failed_attempts >= :limit`,
      { id: account.id, now, limit: LOCK_AFTER_FAILURES },
    );
    // Exactly one request sees its UPDATE lock the account: it alone records the lock.
    if (locked === 1) await this.recordLock(account, ip);
    return locked === 1;
  }

  /**
   * Locks an account held at the limit by reservations nobody settled for `RESERVATIONS_STALE_AFTER_MS`
   * (the process checking them died): counted as the failures they were kept as, they lock it, as a
   * fifth settled failure would. True: this call locked it.
   */
  private async lockAbandoned(account: GuardedAccount, ip: string): Promise<boolean> {
    const now = new Date();
    const locked = await this.write(
      `UPDATE ${ACCOUNTS_TABLE} SET locked_at = :now, version = version + 1
        WHERE id = :id AND locked_at IS NULL AND failed_attempts >= :limit AND (reserved_at IS NULL OR reserved_at < :stale)`,
      { id: account.id, now, limit: LOCK_AFTER_FAILURES, stale: new Date(now.getTime() - RESERVATIONS_STALE_AFTER_MS) },
    );
    if (locked === 1) await this.recordLock(account, ip);
    return locked === 1;
  }

  /** Records a lock this process set, and tells the listeners (the lock email). */
  private async recordLock(account: GuardedAccount, ip: string): Promise<void> {
    await this.history.record({ event: 'locked', contactId: account.contactId, email: account.email, reason: 'too_many_failures', ip });
    await this.notify('locked', (listener) => listener.accountLocked?.({ contactId: account.contactId, email: account.email }));
  }

  private async isLocked(id: number): Promise<boolean> {
    const rows = await this.database.sequelize.query<{ locked_at: unknown }>(`SELECT locked_at FROM ${ACCOUNTS_TABLE} WHERE id = :id`, {
      type: QueryTypes.SELECT,
      replacements: { id },
    });
    return rows.length === 0 || toIsoDateTime(rows[0]!.locked_at) !== null;
  }

  async reserveClient(ip: string): Promise<boolean> {
    const address = clientKey(ip).slice(0, 45);
    const increment = () =>
      this.write(
        `UPDATE ${CLIENTS_TABLE} SET failures = failures + 1
          WHERE ip = :ip AND banned_at IS NULL AND failures < :limit`,
        { ip: address, limit: BAN_CLIENT_AFTER_FAILURES },
      );
    // The first attempts of a new address race to insert its row: the losers count on the winner's row.
    for (let round = 0; round < 3; round++) {
      if ((await increment()) === 1) return true;
      const rows = await this.database.sequelize.query<{ failures: unknown; banned_at: unknown }>(
        `SELECT failures, banned_at FROM ${CLIENTS_TABLE} WHERE ip = :ip`,
        { type: QueryTypes.SELECT, replacements: { ip: address } },
      );
      const row = rows[0];
      if (row) {
        if (toIsoDateTime(row.banned_at) !== null || toNumber(row.failures) >= BAN_CLIENT_AFTER_FAILURES) return false;
        continue; // inserted by a concurrent request between our UPDATE and SELECT
      }
      try {
        await this.database.sequelize.query(`INSERT INTO ${CLIENTS_TABLE} (ip, failures, banned_at, last_failed_at) VALUES (:ip, 1, NULL, NULL)`, {
          type: QueryTypes.INSERT,
          replacements: { ip: address },
        });
        return true;
      } catch (error) {
        if (!isInsertCollision(error)) throw error;
      }
    }
    // Still racing after three rounds: refuse rather than let an attempt through uncounted.
    return false;
  }

  async clientFailed(ip: string, email: string | null): Promise<void> {
    const address = clientKey(ip).slice(0, 45);
    const now = new Date();
    await this.write(`UPDATE ${CLIENTS_TABLE} SET last_failed_at = :now WHERE ip = :ip`, { ip: address, now });
    const banned = await this.write(
      `UPDATE ${CLIENTS_TABLE} SET banned_at = :now WHERE ip = :ip AND banned_at IS NULL AND failures >= :limit`,
      { ip: address, now, limit: BAN_CLIENT_AFTER_FAILURES },
    );
    if (banned === 1) await this.history.record({ event: 'locked', contactId: null, email, reason: 'client_too_many_failures', ip: address });
  }

  async clientSucceeded(ip: string): Promise<void> {
    await this.write(`UPDATE ${CLIENTS_TABLE} SET failures = failures - 1 WHERE ip = :ip AND failures > 0`, { ip: clientKey(ip).slice(0, 45) });
  }

  async unlock(contactId: number, adminUserId: number, options: { readonly transaction?: Transaction } = {}): Promise<boolean> {
    return (await this.unlockMany([contactId], adminUserId, options)).length === 1;
  }

  unlockMany(contactIds: readonly number[], adminUserId: number, options: { readonly transaction?: Transaction } = {}): Promise<readonly number[]> {
    return this.clearLocks(contactIds, { reason: 'admin_unlock', adminUserId, transaction: options.transaction });
  }

  async unlockByLink(contactId: number, options: { readonly transaction: Transaction }): Promise<boolean> {
    return (await this.clearLocks([contactId], { reason: 'unlock_link', transaction: options.transaction })).length === 1;
  }

  async unlockForNewAccessDetails(contactId: number, options: { readonly transaction: Transaction }): Promise<boolean> {
    return (await this.clearLocks([contactId], { reason: 'email_changed', transaction: options.transaction })).length === 1;
  }

  async forgetFailures(contactId: number, options: { readonly transaction: Transaction }): Promise<boolean> {
    const cleared = await this.database.sequelize.query(
      `UPDATE ${ACCOUNTS_TABLE} SET failed_attempts = 0, first_failed_at = NULL, version = version + 1
        WHERE contact_id = :contactId AND locked_at IS NULL AND failed_attempts > 0`,
      { type: QueryTypes.BULKUPDATE, replacements: { contactId }, transaction: options.transaction },
    );
    return toNumber(cleared) === 1;
  }

  /**
   * Clears the lock and count of those of `contactIds` that are locked, recorded with why (and which
   * admin); in the caller's transaction when given, else in one of its own. The one path of every
   * unlock, one contact or a page of them: the same few statements whatever their number (read the
   * locked ones, clear them, their history rows, the listeners), never a loop of statements per id.
   * Answers the ids it unlocked, ascending.
   */
  private async clearLocks(
    contactIds: readonly number[],
    how: { readonly reason: 'admin_unlock' | 'unlock_link' | 'email_changed'; readonly adminUserId?: number; readonly transaction?: Transaction },
  ): Promise<readonly number[]> {
    const ids = [...new Set(contactIds)].filter((id) => Number.isSafeInteger(id) && id > 0);
    if (ids.length === 0) return [];
    if (!how.transaction) return this.database.sequelize.transaction((transaction) => this.clearLocks(ids, { ...how, transaction }));
    const { transaction } = how;
    const sequelize = this.database.sequelize;
    // Locked rows only, held until the transaction ends (in the order of their ids, as every batch
    // takes them: two admins' batches never wait for each other in a circle). A failed login that
    // arrives meanwhile waits, and then counts against the unlocked account; one that came first
    // found it locked and changed nothing. SQLite: the transaction already holds the only writer's turn.
    const rows = await sequelize.query<{ contact_id: unknown; email: unknown }>(
      `SELECT contact_id, email FROM ${ACCOUNTS_TABLE} WHERE contact_id IN (:ids) AND locked_at IS NOT NULL ORDER BY contact_id${rowLock(sequelize.getDialect())}`,
      { type: QueryTypes.SELECT, replacements: { ids }, transaction },
    );
    if (rows.length === 0) return [];
    const locked = rows.map((row) => ({ contactId: toNumber(row.contact_id), email: String(row.email) }));
    const unlocked = locked.map((account) => account.contactId);
    const changed = toNumber(
      await sequelize.query(
        `UPDATE ${ACCOUNTS_TABLE}
            SET failed_attempts = 0, first_failed_at = NULL, locked_at = NULL, updated_at = :now, version = version + 1
          WHERE contact_id IN (:unlocked) AND locked_at IS NOT NULL`,
        { type: QueryTypes.BULKUPDATE, replacements: { unlocked, now: new Date() }, transaction },
      ),
    );
    // The rows are held: any other count means they were not, and the transaction must not claim them.
    if (changed !== unlocked.length) throw new Error(`Business Portal: ${unlocked.length} locked accounts read, ${changed} unlocked`);
    await this.history.recordMany(
      locked.map((account) => ({ event: 'unlocked' as const, contactId: account.contactId, email: account.email, reason: how.reason, ip: null })),
      { transaction, adminUserId: how.adminUserId },
    );
    await this.notify('unlocked', (listener) => listener.accountsUnlocked?.(unlocked, { transaction }));
    return unlocked;
  }

  async liftBan(ip: string, adminUserId?: number, options: { readonly transaction?: Transaction } = {}): Promise<boolean> {
    const { transaction } = options;
    const address = clientKey(ip).slice(0, 45);
    // Banned, or at the limit that `reserveClient` already refuses while `clientFailed` writes the ban.
    const removed = toNumber(
      await this.database.sequelize.query(`DELETE FROM ${CLIENTS_TABLE} WHERE ip = :ip AND (banned_at IS NOT NULL OR failures >= :limit)`, {
        type: QueryTypes.BULKDELETE,
        replacements: { ip: address, limit: BAN_CLIENT_AFTER_FAILURES },
        transaction,
      }),
    );
    if (removed !== 1) return false;
    await this.history.record(
      { event: 'unlocked', contactId: null, email: null, reason: 'admin_lifted_ban', ip: address },
      adminUserId === undefined ? { transaction } : { transaction, adminUserId },
    );
    return true;
  }

  async bannedClients(options: { readonly limit?: number } = {}): Promise<readonly BannedClient[]> {
    const limit = options.limit === undefined ? '' : ` LIMIT ${Math.max(1, Math.trunc(options.limit))}`;
    const rows = await this.database.sequelize.query<Record<string, unknown>>(
      `SELECT ip, failures, banned_at, last_failed_at FROM ${CLIENTS_TABLE} WHERE banned_at IS NOT NULL ORDER BY banned_at DESC, ip ASC${limit}`,
      { type: QueryTypes.SELECT },
    );
    return rows.map((row) => ({
      ip: String(row.ip),
      failures: toNumber(row.failures),
      bannedAt: toIsoDateTime(row.banned_at)!,
      lastFailedAt: toIsoDateTime(row.last_failed_at),
    }));
  }
}
