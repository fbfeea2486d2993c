/**
 * One migration run at a time across every host process that shares the database: a row in
 * `bp_migration_lock` (a unique id) is the lock. Without it, two processes starting together
 * would both run the same migration, and the loser's revert would drop the winner's tables.
 * A lock older than `STALE_AFTER_MS` was left by a process that died, and is taken over.
 *
 * So that a run longer than that (index builds on a big CRM) keeps its lock, the holder refreshes
 * `locked_at` every quarter of the stale time. If a refresh finds the lock is no longer its own
 * (this process was suspended, or lost the database, for longer than the stale time, and another
 * process took over), the run must not go on beside the new holder: `assertHeld` throws from then
 * on, and `withMigrationLock` fails even when the run itself returned.
 */
import { randomUUID } from 'node:crypto';
import { DataTypes, QueryTypes, UniqueConstraintError, type Sequelize } from 'sequelize';

export const LOCK_TABLE = 'bp_migration_lock';
export const STALE_AFTER_MS = 10 * 60_000;
const WAIT_MS = 60_000;

/** The lock was taken over by another process while this one held it. */
export class MigrationLockLost extends Error {
  constructor() {
    super('Business Portal: another process took over the migration lock while this one was migrating; stopped');
    this.name = 'MigrationLockLost';
  }
}

/** What a run holding the lock sees of it. */
export interface HeldMigrationLock {
  /** Whether another process has taken the lock over: the run must stop. */
  readonly lost: boolean;
  /** Throws `MigrationLockLost` when the lock was taken over: call it before each step. */
  assertHeld(): void;
}

async function ensureLockTable(sequelize: Sequelize): Promise<void> {
  const qi = sequelize.getQueryInterface();
  if (await qi.tableExists(LOCK_TABLE)) return;
  try {
    await qi.createTable(LOCK_TABLE, {
      id: { type: DataTypes.INTEGER, allowNull: false, primaryKey: true },
      owner: { type: DataTypes.STRING(36), allowNull: false },
      locked_at: { type: DataTypes.DATE, allowNull: false },
    });
  } catch (error) {
    // Another process created it at the same moment.
    if (!(await qi.tableExists(LOCK_TABLE))) throw error;
  }
}

export interface MigrationLockOptions {
  /** How long to wait for another process's lock before giving up. */
  readonly waitMs?: number;
  /** How old a lock must be to be taken over as left by a dead process. */
  readonly staleAfterMs?: number;
}

/**
 * Refreshes the lock's `locked_at` every quarter of the stale time, one refresh at a time, until
 * stopped. A refresh that finds another owner marks the lock lost; so does a failed refresh once
 * the last good one is half the stale time old: from then on another process may find the lock
 * stale (its clock may run ahead; MariaDB keeps `locked_at` to the whole second). The timer is
 * unref'd: it never keeps the process alive.
 */
class Heartbeat implements HeldMigrationLock {
  lost = false;
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly sequelize: Sequelize,
    private readonly owner: string,
    private readonly staleAfterMs: number,
    /** When `locked_at` was last set by this process. */
    private refreshedAt: number,
  ) {
    this.schedule();
  }

  assertHeld(): void {
    if (this.lost) throw new MigrationLockLost();
  }

  private schedule(): void {
    if (this.stopped || this.lost) return;
    this.timer = setTimeout(() => {
      this.beating = this.beat().finally(() => this.schedule());
    }, Math.max(1, Math.floor(this.staleAfterMs / 4)));
    this.timer.unref();
  }

  /** Refreshes the lock once, or finds it lost. */
  async beat(): Promise<void> {
    try {
      const now = new Date();
      await this.sequelize.query(`UPDATE ${LOCK_TABLE} SET locked_at = :now WHERE id = 1 AND owner = :owner`, {
        type: QueryTypes.UPDATE,
        replacements: { now, owner: this.owner },
      });
      // Affected-row counts differ between dialects: read the owner back instead.
      const rows = await this.sequelize.query<{ owner: string }>(`SELECT owner FROM ${LOCK_TABLE} WHERE id = 1`, { type: QueryTypes.SELECT });
      if (rows[0]?.owner === this.owner) this.refreshedAt = now.getTime();
      else this.lost = true;
    } catch {
      if (Date.now() - this.refreshedAt >= this.staleAfterMs / 2) this.lost = true;
    }
  }

  /** Stops refreshing, and waits for a refresh under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.beating;
  }
}

/**
 * Runs `run` holding the lock. `dropTableWhen` is asked after the run (succeeded or failed) while
 * the lock is still this process's: when it answers true, the lock table is dropped, the lock
 * with it, instead of the lock being released. Only then: dropped after the release, the table
 * could be another process's lock by that time (a fresh install that took the lock meanwhile, and
 * has not yet created the migration table). A process waiting for the lock creates it again.
 */
export async function withMigrationLock<T>(
  sequelize: Sequelize,
  run: (lock: HeldMigrationLock) => Promise<T>,
  options: MigrationLockOptions = {},
  dropTableWhen?: () => Promise<boolean>,
): Promise<T> {
  const { waitMs = WAIT_MS, staleAfterMs = STALE_AFTER_MS } = options;
  await ensureLockTable(sequelize);
  const owner = randomUUID();
  const deadline = Date.now() + waitMs;
  let lockedAt: Date;
  for (;;) {
    lockedAt = new Date();
    try {
      await sequelize.query(`DELETE FROM ${LOCK_TABLE} WHERE id = 1 AND locked_at < :stale`, {
        type: QueryTypes.DELETE,
        replacements: { stale: new Date(Date.now() - staleAfterMs) },
      });
      lockedAt = new Date();
      await sequelize.query(`INSERT INTO ${LOCK_TABLE} (id, owner, locked_at) VALUES (1, :owner, :now)`, {
        type: QueryTypes.INSERT,
        replacements: { owner, now: lockedAt },
      });
      break;
    } catch (error) {
      if (!(error instanceof UniqueConstraintError)) {
        // The holder we waited for was the last one: it dropped the table with its lock. Create it again.
        if (await sequelize.getQueryInterface().tableExists(LOCK_TABLE)) throw error;
        if (Date.now() > deadline) throw new Error('Business Portal: the migration lock table keeps disappearing; another process keeps uninstalling the plugin');
        await ensureLockTable(sequelize);
        continue;
      }
      if (Date.now() > deadline) throw new Error('Business Portal: another process has been migrating the database for too long');
      await new Promise((ok) => setTimeout(ok, 50 + Math.floor(Math.random() * 100)));
    }
  }
  const heartbeat = new Heartbeat(sequelize, owner, staleAfterMs, lockedAt.getTime());
  let result: T;
  try {
    result = await run(heartbeat);
  } catch (error) {
    await heartbeat.stop();
    // The run's own error says what went wrong; a lock that could not be released goes stale.
    await (async () => {
      if (dropTableWhen) {
        await heartbeat.beat();
        if (!heartbeat.lost && (await dropTableWhen())) return dropLockTable(sequelize);
      }
      await release(sequelize, owner);
    })().catch(() => {});
    throw error;
  }
  await heartbeat.stop();
  // Was the lock this process's to the end of the run? If not, the run was not alone: it fails.
  await heartbeat.beat();
  heartbeat.assertHeld();
  if (dropTableWhen && (await dropTableWhen())) await dropLockTable(sequelize);
  else await release(sequelize, owner);
  return result;
}

async function release(sequelize: Sequelize, owner: string): Promise<void> {
  await sequelize.query(`DELETE FROM ${LOCK_TABLE} WHERE id = 1 AND owner = :owner`, { type: QueryTypes.DELETE, replacements: { owner } });
}

/** Drops the lock table, and the lock with it: only by its holder (see `withMigrationLock`). */
async function dropLockTable(sequelize: Sequelize): Promise<void> {
  const qi = sequelize.getQueryInterface();
  if (await qi.tableExists(LOCK_TABLE)) await qi.dropTable(LOCK_TABLE);
}
