/**
 * The reference host's Contacts page (every contact by last name, first name, a page at a time)
 * sorted every contact for each page: the Contacts table gets `CONTACTS_NAME_INDEX`, an index on
 * the record store's sort keys of `lastname, firstname` and `id`, which the registry now also
 * creates with the table. The database walks it and stops after the page (checked by
 * test/scale/query-plans.test.ts). SQLite and PostgreSQL only: MariaDB 10.11 indexes no expression.
 * Safe to re-run: the index is created only if it does not exist, on a table with both columns.
 */
import { QueryTypes } from 'sequelize';
import { CONTACTS_NAME_INDEX, contactsNameIndexStatement, tableOf } from '../registry/module-tables.js';
import type { HostMigrationContext } from '../schema/migrate.js';

const table = tableOf(CONTACTS_NAME_INDEX.module);

export async function up({ context }: { context: HostMigrationContext }): Promise<void> {
  const q = (identifier: string) => context.queryInterface.quoteIdentifier(identifier);
  const statement = contactsNameIndexStatement(context.dialect, q);
  // A fresh database has no module tables yet: the registry creates this one with its index.
  if (!statement || !(await context.queryInterface.tableExists(table))) return;
  // Both names as text fields, as the registry asks of the table (`describeTable` is no help: on
  // SQLite, Sequelize's fails on a table with an index on expressions).
  const [row] = await context.sequelize.query<{ n: number | string }>(
    "SELECT COUNT(*) AS n FROM crm_fields WHERE module = $module AND type = 'text' AND name IN ($lastname, $firstname)",
    { bind: { module: CONTACTS_NAME_INDEX.module, lastname: CONTACTS_NAME_INDEX.fields[0], firstname: CONTACTS_NAME_INDEX.fields[1] }, type: QueryTypes.SELECT },
  );
  if (Number(row?.n ?? 0) !== CONTACTS_NAME_INDEX.fields.length) return;
  await context.sequelize.query(statement);
}

export async function down({ context }: { context: HostMigrationContext }): Promise<void> {
  if (context.dialect === 'mariadb' || !(await context.queryInterface.tableExists(table))) return;
  await context.sequelize.query(`DROP INDEX IF EXISTS ${context.queryInterface.quoteIdentifier(CONTACTS_NAME_INDEX.name)}`);
}
