/** Runs the host's own timestamped migrations (`host/migrations/*.ts`) with umzug, recorded in `crm_migrations`. */
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { QueryInterface, Sequelize } from 'sequelize';
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

export async function migrateHost(sequelize: Sequelize, dialect: DatabaseDialect): Promise<void> {
  await hostMigrator(sequelize, dialect).up();
}
