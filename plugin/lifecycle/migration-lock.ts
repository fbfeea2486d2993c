/**
 * One migration run at a time across every host process that shares the database: a row in
 * `bp_migration_lock` (a unique id) is the lock. Without it, two processes starting together
 * would both run the same migration, and the loser's revert would drop the winner's tables.
 * A lock older than `STALE_AFTER_MS` was left by a process that died, and is taken over.
 */
import { randomUUID } from 'node:crypto';
import { DataTypes, QueryTypes, UniqueConstraintError, type Sequelize } from 'sequelize';

export const LOCK_TABLE = 'bp_migration_lock';
export const STALE_AFTER_MS = 10 * 60_000;
const WAIT_MS = 60_000;

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

export async function withMigrationLock<T>(sequelize: Sequelize, run: () => Promise<T>, waitMs = WAIT_MS): Promise<T> {
  await ensureLockTable(sequelize);
  const owner = randomUUID();
  const deadline = Date.now() + waitMs;
  for (;;) {
    await sequelize.query(`DELETE FROM ${LOCK_TABLE} WHERE id = 1 AND locked_at < :stale`, {
      type: QueryTypes.DELETE,
      replacements: { stale: new Date(Date.now() - STALE_AFTER_MS) },
    });
    try {
      await sequelize.query(`INSERT INTO ${LOCK_TABLE} (id, owner, locked_at) VALUES (1, :owner, :now)`, {
        type: QueryTypes.INSERT,
        replacements: { owner, now: new Date() },
      });
      break;
    } catch (error) {
      if (!(error instanceof UniqueConstraintError)) throw error;
      if (Date.now() > deadline) throw new Error('Business Portal: another process has been migrating the database for too long');
      await new Promise((ok) => setTimeout(ok, 50 + Math.floor(Math.random() * 100)));
    }
  }
  try {
    return await run();
  } finally {
    await sequelize.query(`DELETE FROM ${LOCK_TABLE} WHERE id = 1 AND owner = :owner`, { type: QueryTypes.DELETE, replacements: { owner } });
  }
}

/** Drops the lock table (uninstall, or a first install that failed): only when no migration is recorded. */
export async function dropLockTable(sequelize: Sequelize): Promise<void> {
  const qi = sequelize.getQueryInterface();
  if (await qi.tableExists(LOCK_TABLE)) await qi.dropTable(LOCK_TABLE);
}
