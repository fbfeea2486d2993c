/**
 * A record's newest documents a page at a time (contract 1.4.0, `documents(…, { newest })`): the
 * Documents table gets `(created_at, id)` (`DOCUMENTS_CREATED_INDEX`), which the registry now also
 * creates with the table. The database walks it from the newest file and stops after a page, where
 * it read every file of the table before (checked by test/scale/query-plans.test.ts).
 * Safe to re-run: the index is created only if it does not exist.
 */
import { DOCUMENTS_CREATED_INDEX, tableOf } from '../registry/module-tables.js';
import type { HostMigrationContext } from '../schema/migrate.js';

const table = tableOf(DOCUMENTS_CREATED_INDEX.module);

export async function up({ context }: { context: HostMigrationContext }): Promise<void> {
  // A fresh database has no module tables yet: the registry creates this one with its index.
  if (!(await context.queryInterface.tableExists(table))) return;
  const q = (identifier: string) => context.queryInterface.quoteIdentifier(identifier);
  await context.sequelize.query(`CREATE INDEX IF NOT EXISTS ${q(DOCUMENTS_CREATED_INDEX.name)} ON ${q(table)} (${DOCUMENTS_CREATED_INDEX.columns.map(q).join(', ')})`);
}

export async function down({ context }: { context: HostMigrationContext }): Promise<void> {
  if (!(await context.queryInterface.tableExists(table))) return;
  const q = (identifier: string) => context.queryInterface.quoteIdentifier(identifier);
  await context.sequelize.query(context.dialect === 'mariadb' ? `DROP INDEX IF EXISTS ${q(DOCUMENTS_CREATED_INDEX.name)} ON ${q(table)}` : `DROP INDEX IF EXISTS ${q(DOCUMENTS_CREATED_INDEX.name)}`);
}
