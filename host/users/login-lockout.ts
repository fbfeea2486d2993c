/**
 * The CRM's own brute-force lock (SPEC §5: a portal user is locked after five consecutive failed
 * logins "as CRM users are"), on `crm_users.failed_logins`, `failed_at` and `locked_at`, shared by
 * every host process on the database. The same scheme as the plugin's `plugin/auth/lockout.ts`,
 * smaller (the plugin is not imported: the host knows it only through the contract):
 *
 * - Each attempt is *reserved* before the password is checked, by one atomic conditional UPDATE;
 *   only a request whose UPDATE matched the row checks. So however many guesses arrive at once, at
 *   most five run, and the fifth failure locks. A success resets the count, only while the user is
 *   not locked (a success running beside failures never clears a lock already set).
 * - A lock lifts by itself `lockMs` after it was set (15 minutes by default): the next attempt
 *   starts a fresh count. Portal customers stay locked until an admin or their emailed link unlocks
 *   them; the CRM's admin has nobody above them, so an attacker who knows the user name could
 *   otherwise keep the only admin out for good. Five guesses per quarter of an hour against a
 *   scrypt hash is slow enough. `npm run host -- unlock-user <userName>` unlocks at once.
 * - Reservations a process never settled (it died while checking) stay counted; once `lockMs`
 *   old they no longer hold the user at the limit.
 *
 * Every UPDATE changes a column whatever the row held, so its affected-row count means "rows
 * matched" on MariaDB too (which reports changed rows), except the success's reset, read again.
 */
import { QueryTypes, type Sequelize } from 'sequelize';
import { toNumber } from '../schema/row-values.js';

/** Consecutive failed sign-ins that lock a CRM user. */
export const LOCK_AFTER_FAILED_LOGINS = 5;
/** How long a CRM user stays locked unless unlocked before (the host option `crmLockMs`). */
export const CRM_LOCK_MS = 15 * 60_000;

export type UnlockOutcome = 'unlocked' | 'not-locked' | 'unknown';

export class CrmLoginLockout {
  constructor(
    private readonly sequelize: Sequelize,
    private readonly lockMs: number = CRM_LOCK_MS,
  ) {}

  private async write(sql: string, replacements: Record<string, unknown>): Promise<number> {
    return toNumber(await this.sequelize.query(sql, { type: QueryTypes.BULKUPDATE, replacements }));
  }

  /**
   * Reserves an attempt for the user: false when they are locked (or their five attempts are all
   * being checked), and the password must then not be checked against their hash. A lock older
   * than the lock time, or reservations at the limit that old, are lifted here: the count starts
   * again at this attempt.
   */
  async reserve(userId: number): Promise<boolean> {
    const now = new Date();
    // `failed_logins` is assigned first: MariaDB assigns left to right and reads the new values.
    const reserved = await this.write(
      `UPDATE crm_users
          SET failed_logins = CASE WHEN locked_at IS NULL AND failed_logins < :limit THEN failed_logins + 1 ELSE 1 END,
              locked_at = NULL,
              failed_at = :now
        WHERE id = :id
          AND ((locked_at IS NULL AND (failed_logins < :limit OR failed_at <= :liftedBefore)) OR locked_at <= :liftedBefore)`,
      { id: userId, limit: LOCK_AFTER_FAILED_LOGINS, now, liftedBefore: new Date(now.getTime() - this.lockMs) },
    );
    return reserved === 1;
  }

  /** The reserved attempt succeeded: the count starts again. False when the user was locked meanwhile (the lock wins). */
  async passed(userId: number): Promise<boolean> {
    const reset = await this.write('UPDATE crm_users SET failed_logins = 0, failed_at = NULL WHERE id = :id AND locked_at IS NULL', { id: userId });
    if (reset === 1) return true;
    // MariaDB counts a row left as it was (another success reset it first) as not matched: read it.
    const [row] = await this.sequelize.query<{ locked_at: unknown }>('SELECT locked_at FROM crm_users WHERE id = :id', {
      type: QueryTypes.SELECT,
      replacements: { id: userId },
    });
    return row !== undefined && row.locked_at === null;
  }

  /** The reserved attempt failed: it stays counted, and locks the user at the limit. True: this failure locked them. */
  async failed(userId: number): Promise<boolean> {
    const locked = await this.write('UPDATE crm_users SET locked_at = :now WHERE id = :id AND locked_at IS NULL AND failed_logins >= :limit', {
      id: userId,
      now: new Date(),
      limit: LOCK_AFTER_FAILED_LOGINS,
    });
    return locked === 1;
  }

  /** Lifts a user's lock and clears their count (an operator's command). */
  async unlock(userName: string): Promise<UnlockOutcome> {
    const [row] = await this.sequelize.query<{ id: unknown; locked_at: unknown }>('SELECT id, locked_at FROM crm_users WHERE user_name = :userName', {
      type: QueryTypes.SELECT,
      replacements: { userName },
    });
    if (!row) return 'unknown';
    await this.sequelize.query('UPDATE crm_users SET failed_logins = 0, failed_at = NULL, locked_at = NULL WHERE id = :id', {
      type: QueryTypes.BULKUPDATE,
      replacements: { id: toNumber(row.id) },
    });
    return row.locked_at === null ? 'not-locked' : 'unlocked';
  }
}
