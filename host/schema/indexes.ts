/** Index statements the host's migrations share: each safe to re-run on SQLite, PostgreSQL and MariaDB. */
import type { HostMigrationContext } from './migrate.js';

/** Drops the index `name` of `table` if it exists (MariaDB names the table; SQLite and PostgreSQL do not). */
export async function dropIndex(context: HostMigrationContext, table: string, name: string): Promise<void> {
  const q = (identifier: string) => context.queryInterface.quoteIdentifier(identifier);
  await context.sequelize.query(context.dialect === 'mariadb' ? `DROP INDEX IF EXISTS ${q(name)} ON ${q(table)}` : `DROP INDEX IF EXISTS ${q(name)}`);
}

/** Creates the index `name` of `table` on `columns`, in that order, if no index of that name exists. */
export async function createIndex(context: HostMigrationContext, table: string, name: string, columns: readonly string[]): Promise<void> {
  const q = (identifier: string) => context.queryInterface.quoteIdentifier(identifier);
  await context.sequelize.query(`CREATE INDEX IF NOT EXISTS ${q(name)} ON ${q(table)} (${columns.map(q).join(', ')})`);
}
