/**
 * One migration run at a time across every host process that shares the database: a row in
 * `bp_migration_lock` (a unique id) is the lock (`table-lock.ts`: refreshed while the run lasts,
 * taken over once it has not been refreshed for `STALE_AFTER_MS`). Without it, two processes
 * starting together would both run the same migration, and the loser's revert would drop the
 * winner's tables.
 */
import type { Sequelize } from 'sequelize';
import { LOCK_STALE_AFTER_MS, withTableLock, type HeldTableLock, type TableLockKind, type TableLockOptions } from './table-lock.js';

export const LOCK_TABLE = 'bp_migration_lock';
export const STALE_AFTER_MS = LOCK_STALE_AFTER_MS;

/** The lock was taken over by another process while this one held it. */
export class MigrationLockLost extends Error {
  constructor() {
    super('Business Portal: another process took over the migration lock while this one was migrating; stopped');
    this.name = 'MigrationLockLost';
  }
}

/** What a run holding the lock sees of it: `assertHeld` throws `MigrationLockLost` once it was taken over. */
export type HeldMigrationLock = HeldTableLock;
export type MigrationLockOptions = TableLockOptions;

const MIGRATION_LOCK: TableLockKind = {
  table: LOCK_TABLE,
  busyError: () => new Error('Business Portal: another process has been migrating the database for too long'),
  lostError: () => new MigrationLockLost(),
  goneError: () => new Error('Business Portal: the migration lock table keeps disappearing; another process keeps uninstalling the plugin'),
};

/**
 * Runs `run` holding the lock. `dropTableWhen` is asked after the run (succeeded or failed) while
 * the lock is still this process's: when it answers true, the lock table is dropped, the lock
 * with it, instead of the lock being released (see `withTableLock`): a fresh install that failed,
 * an uninstall, leave nothing behind.
 */
export function withMigrationLock<T>(
  sequelize: Sequelize,
  run: (lock: HeldMigrationLock) => Promise<T>,
  options: MigrationLockOptions = {},
  dropTableWhen?: () => Promise<boolean>,
): Promise<T> {
  return withTableLock(sequelize, MIGRATION_LOCK, run, options, dropTableWhen);
}
