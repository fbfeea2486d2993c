/**
 * Runs the host's own timestamped migrations (`host/migrations/*.ts`) with umzug, recorded in
 * `crm_migrations`. Several host processes may start at once on one empty database: a row in
 * `crm_setup_lock` (a unique id) lets one of them migrate (and seed, `withSetupLock`) while the
 * others wait, then find nothing left to do. A lock older than `STALE_LOCK_MS` was left by a
 * process that died.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DataTypes, QueryTypes, UniqueConstraintError, type QueryInterface, type Sequelize } from 'sequelize';
import { SequelizeStorage, Umzug } from 'umzug';
import type { DatabaseDialect } from '../../plugin/host-contract/index.js';

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
const STALE_LOCK_MS = 10 * 60_000;
const LOCK_WAIT_MS = 60_000;

/** Another process held the setup lock for longer than a start waits: `npm start` prints the message alone. */
export class SetupLockBusyError extends Error {
  constructor(waitMs: number) {
    super(
      `Another host process has been setting up this database for over ${waitMs / 1000} s (a row of ${LOCK_TABLE}): let it finish and start again; if none is running, one that was killed left the row, which a start takes over after ${STALE_LOCK_MS / 60_000} minutes (or delete it)`,
    );
    this.name = 'SetupLockBusyError';
  }
}

/** Runs `run` while no other process sharing the database runs its own (migrations, seeds). `waitMs`: how long to wait for another's. */
export async function withSetupLock(sequelize: Sequelize, run: () => Promise<unknown>, options: { readonly waitMs?: number } = {}): Promise<void> {
  const qi = sequelize.getQueryInterface();
  if (!(await qi.tableExists(LOCK_TABLE))) {
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
  const owner = randomUUID();
  const waitMs = options.waitMs ?? LOCK_WAIT_MS;
  const deadline = Date.now() + waitMs;
  for (;;) {
    await sequelize.query(`DELETE FROM ${LOCK_TABLE} WHERE id = 1 AND locked_at < :stale`, {
      type: QueryTypes.DELETE,
      replacements: { stale: new Date(Date.now() - STALE_LOCK_MS) },
    });
    try {
      await sequelize.query(`INSERT INTO ${LOCK_TABLE} (id, owner, locked_at) VALUES (1, :owner, :now)`, {
        type: QueryTypes.INSERT,
        replacements: { owner, now: new Date() },
      });
      break;
    } catch (error) {
      if (!(error instanceof UniqueConstraintError)) throw error;
      if (Date.now() > deadline) throw new SetupLockBusyError(waitMs);
      await new Promise((ok) => setTimeout(ok, 50 + Math.floor(Math.random() * 100)));
    }
  }
  try {
    await run();
  } finally {
    await sequelize.query(`DELETE FROM ${LOCK_TABLE} WHERE id = 1 AND owner = :owner`, { type: QueryTypes.DELETE, replacements: { owner } });
  }
}

/** Runs the pending host migrations, one process at a time. */
export async function migrateHost(sequelize: Sequelize, dialect: DatabaseDialect): Promise<void> {
  await withSetupLock(sequelize, () => hostMigrator(sequelize, dialect).up());
}
