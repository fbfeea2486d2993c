/**
 * The plugin's timestamped migrations (`migrations/*.ts`), run by umzug and recorded in
 * `bp_migrations`. `install` runs what is pending and, when one fails, reverts what it ran
 * itself so that a failed install leaves the database as it found it.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { QueryInterface, Sequelize } from 'sequelize';
import { MigrationError, SequelizeStorage, Umzug } from 'umzug';
import type { DatabaseDialect, HostLogger } from '../host-contract/index.js';
import { MigrationLockLost, withMigrationLock, type HeldMigrationLock, type MigrationLockOptions } from './migration-lock.js';

export interface PluginMigrationContext {
  readonly sequelize: Sequelize;
  readonly queryInterface: QueryInterface;
  readonly dialect: DatabaseDialect;
}

export interface PluginMigration {
  up(params: { context: PluginMigrationContext }): Promise<void>;
  down(params: { context: PluginMigrationContext }): Promise<void>;
}

export const MIGRATION_TABLE = 'bp_migrations';

/** What one `up` did: the migrations it ran, oldest first, and whether it created the migration table. */
export interface MigrationRun {
  readonly ran: string[];
  readonly createdTable: boolean;
}

const migrationFile = /^\d{14}-[a-z0-9-]+\.(ts|js)$/;

export class PluginMigrator {
  private readonly context: PluginMigrationContext;

  constructor(
    sequelize: Sequelize,
    dialect: DatabaseDialect,
    private readonly folder: string,
    private readonly logger: HostLogger,
    private readonly lockOptions: MigrationLockOptions = {},
  ) {
    this.context = { sequelize, queryInterface: sequelize.getQueryInterface(), dialect };
  }

  /** The migration files, oldest first (the timestamp prefix orders them). */
  private files(): { name: string; path: string }[] {
    return readdirSync(this.folder)
      .filter((file) => migrationFile.test(file) && !file.endsWith('.d.ts'))
      .sort()
      .map((file) => ({ name: file.replace(/\.(ts|js)$/, ''), path: join(this.folder, file) }));
  }

  private async load(path: string): Promise<PluginMigration> {
    return (await import(pathToFileURL(path).href)) as PluginMigration;
  }

  /** With `lock`, each migration first checks that this process still holds the migration lock. */
  private umzug(lock?: HeldMigrationLock): Umzug<PluginMigrationContext> {
    const context = this.context;
    const umzug = new Umzug<PluginMigrationContext>({
      migrations: this.files().map(({ name, path }) => ({
        name,
        up: async () => (await this.load(path)).up({ context }),
        down: async () => (await this.load(path)).down({ context }),
      })),
      context,
      storage: new SequelizeStorage({ sequelize: context.sequelize, tableName: MIGRATION_TABLE, modelName: 'BusinessPortalMigration' }),
      logger: undefined,
    });
    if (lock) {
      umzug.on('migrating', () => lock.assertHeld());
      umzug.on('reverting', () => lock.assertHeld());
    }
    return umzug;
  }

  /** Read only: umzug's own `pending` would create the migration table, racing an install in another process. */
  async pending(): Promise<string[]> {
    const executed = new Set(await this.executed());
    return this.files()
      .map((f) => f.name)
      .filter((name) => !executed.has(name));
  }

  async executed(): Promise<string[]> {
    if (!(await this.context.queryInterface.tableExists(MIGRATION_TABLE))) return [];
    return (await this.umzug().executed()).map((m) => m.name);
  }

  /**
   * Runs every pending migration. If one fails, its own `down` is run (migrations are safe to
   * re-run, so this clears what it may have half-created), then the ones this call ran are
   * reverted newest first, and the original error is rethrown.
   */
  async up(): Promise<MigrationRun> {
    let migrationFailed = false;
    return withMigrationLock(
      this.context.sequelize,
      async (lock) => {
        try {
          return await this.upLocked(lock);
        } catch (error) {
          migrationFailed = !lock.lost;
          throw error;
        }
      },
      this.lockOptions,
      // A first install that failed leaves nothing behind, not even the lock table (unless another
      // process took the lock over: the table is its lock now).
      async () => migrationFailed && (await this.noMigrationTable()),
    );
  }

  /** Asked holding the lock: no other process can be creating the migration table meanwhile. */
  private async noMigrationTable(): Promise<boolean> {
    return !(await this.context.queryInterface.tableExists(MIGRATION_TABLE));
  }

  private async upLocked(lock: HeldMigrationLock): Promise<MigrationRun> {
    const run: MigrationRun = { ran: [], createdTable: !(await this.context.queryInterface.tableExists(MIGRATION_TABLE)) };
    const umzug = this.umzug(lock);
    umzug.on('migrated', ({ name }) => void run.ran.push(name));
    try {
      await umzug.up();
      return run;
    } catch (error) {
      if (lock.lost) {
        // Another process migrates now: reverting here would undo what it relies on. It finds
        // what this run recorded as done, and runs the rest.
        this.logger.error('Business Portal: another process took over the migration lock; stopped without reverting', { ran: run.ran.length });
        throw error instanceof MigrationLockLost ? error : new MigrationLockLost();
      }
      const failed = error instanceof MigrationError ? error.migration.name : undefined;
      this.logger.error('Business Portal: a migration failed; reverting this install', { migration: failed ?? null, reverting: run.ran.length });
      try {
        const file = this.files().find((f) => f.name === failed);
        if (file) await (await this.load(file.path)).down({ context: this.context });
      } catch (revertError) {
        this.logRevertFailure(revertError);
      }
      await this.revertUnlocked(run, lock);
      throw error instanceof MigrationError && error.cause instanceof Error
        ? new Error(`Business Portal: migration ${failed} failed: ${error.cause.message}`, { cause: error.cause })
        : error;
    }
  }

  /** Reverts what one `up` ran (newest first), and the migration table if that run created it. Never throws. */
  async revert(run: MigrationRun): Promise<void> {
    try {
      await withMigrationLock(this.context.sequelize, (lock) => this.revertUnlocked(run, lock), this.lockOptions, () => this.noMigrationTable());
    } catch (error) {
      this.logRevertFailure(error);
    }
  }

  private async revertUnlocked(run: MigrationRun, lock: HeldMigrationLock): Promise<void> {
    try {
      // By name, not `to: run.ran[0]`: that would also revert a newer migration an earlier install ran,
      // when this run's first one sorts before it (a hotfix migration with an older timestamp).
      if (run.ran.length > 0) await this.umzug(lock).down({ migrations: [...run.ran].reverse() });
      lock.assertHeld();
      if (run.createdTable && (await this.context.queryInterface.tableExists(MIGRATION_TABLE))) {
        await this.context.queryInterface.dropTable(MIGRATION_TABLE);
      }
    } catch (revertError) {
      this.logRevertFailure(revertError);
    }
  }

  private logRevertFailure(error: unknown): void {
    this.logger.error('Business Portal: reverting a failed install failed too', { error: error instanceof Error ? error.message : String(error) });
  }

  /** Reverts every executed migration, newest first, then drops the migration table and the lock table. */
  async downAll(): Promise<void> {
    await withMigrationLock(
      this.context.sequelize,
      async (lock) => {
        if (!(await this.context.queryInterface.tableExists(MIGRATION_TABLE))) return;
        await this.umzug(lock).down({ to: 0 });
        lock.assertHeld();
        await this.context.queryInterface.dropTable(MIGRATION_TABLE);
      },
      this.lockOptions,
      () => this.noMigrationTable(),
    );
  }
}
