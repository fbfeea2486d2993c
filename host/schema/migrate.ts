/**
 * Runs the host's own timestamped migrations (`host/migrations/*.ts`) with umzug, recorded in
 * `crm_migrations`. Several host processes may start at once on one empty database: a row in
 * `crm_setup_lock` (a unique id) lets one of them migrate (and seed, `withSetupLock`) while the
 * others wait, then find nothing left to do. A lock not refreshed for a minute was left by a
 * process that died.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { QueryInterface, Sequelize } from 'sequelize';
import { SequelizeStorage, Umzug } from 'umzug';
import type { DatabaseDialect } from '../../plugin/host-contract/index.js';
// The reference host borrows the plugin's lock rather than keep a second copy of it (the plugin may not import the host).
import { LOCK_STALE_AFTER_MS, withTableLock, type TableLockOptions } from '../../plugin/lifecycle/table-lock.js';

export interface HostMigrationContext {
  readonly sequelize: Sequelize;
  readonly queryInterface: QueryInterface;
  readonly dialect: DatabaseDialect;
}

export interface HostMigration {
  up(params: { context: HostMigrationContext }): Promise<void>;
  down(params: { context: HostMigrationContext }): Promise<void>;
}

const folder = fileURLToPath(new URL('../migrations/', import.meta.url));

export function hostMigrator(sequelize: Sequelize, dialect: DatabaseDialect): Umzug<HostMigrationContext> {
  return new Umzug<HostMigrationContext>({
    migrations: {
      glob: ['*.{ts,js}', { cwd: folder, ignore: ['*.d.ts'] }],
      resolve: ({ name, path, context }) => ({
        name: name.replace(/\.(ts|js)$/, ''),
        up: async () => ((await import(pathToFileURL(path!).href)) as HostMigration).up({ context }),
        down: async () => ((await import(pathToFileURL(path!).href)) as HostMigration).down({ context }),
      }),
    },
    context: { sequelize, queryInterface: sequelize.getQueryInterface(), dialect },
    storage: new SequelizeStorage({ sequelize, tableName: 'crm_migrations', modelName: 'CrmMigration' }),
    logger: undefined,
  });
}

const LOCK_TABLE = 'crm_setup_lock';

/** Another process held the setup lock for longer than a start waits: `npm start` prints the message alone. */
export class SetupLockBusyError extends Error {
  constructor(waitMs: number, staleAfterMs = LOCK_STALE_AFTER_MS) {
    super(
      `Another host process has been setting up this database for over ${waitMs / 1000} s (a row of ${LOCK_TABLE}): let it finish and start again; if none is running, one that was killed left the row, which a start takes over once it is ${staleAfterMs / 1000} s old`,
    );
    this.name = 'SetupLockBusyError';
  }
}

/** The setup lock could not be kept (no refresh for half the stale time, or another process took it over): `npm start` prints the message alone. */
export class SetupLockLostError extends Error {
  constructor() {
    super(`This host process lost the setup lock of this database (a row of ${LOCK_TABLE}): it could not refresh it for half a minute (the database did not answer, or the process was stalled), so another process may have taken it over; it stopped: start it again`);
    this.name = 'SetupLockLostError';
  }
}

/**
 * Runs `run` while no other process sharing the database runs its own (migrations, seeds): the
 * lock is refreshed while `run` lasts, and taken over once it has not been for `staleAfterMs`
 * (a start that was killed; `plugin/lifecycle/table-lock.ts`, which the plugin's migration lock
 * shares). `waitMs`: how long to wait for another's.
 */
export async function withSetupLock(sequelize: Sequelize, run: () => Promise<unknown>, options: TableLockOptions = {}): Promise<void> {
  const staleAfterMs = options.staleAfterMs ?? LOCK_STALE_AFTER_MS;
  await withTableLock(
    sequelize,
    { table: LOCK_TABLE, busyError: (waitMs) => new SetupLockBusyError(waitMs, staleAfterMs), lostError: () => new SetupLockLostError() },
    run,
    options,
  );
}

/** Runs the pending host migrations, one process at a time. */
export async function migrateHost(sequelize: Sequelize, dialect: DatabaseDialect): Promise<void> {
  await withSetupLock(sequelize, () => hostMigrator(sequelize, dialect).up());
}
