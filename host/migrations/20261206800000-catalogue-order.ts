/**
 * Every customer's FAQ and Products lists (the portal's public catalogues: the published entries,
 * the active products, newest first, with their total) read and sorted the whole table for each
 * page: the FAQ gets `(status, modified_at)` and Products `(active, modified_at)`
 * (`CATALOGUE_INDEXES`), which the registry now also creates with the table and with the field.
 * Checked by test/scale/query-plans.test.ts. Safe to re-run: an index is created only if it does
 * not exist, on a table that has the field (a CRM may have removed it).
 */
import { QueryTypes } from 'sequelize';
import { CATALOGUE_INDEXES, catalogueIndexStatement, tableOf } from '../registry/module-tables.js';
import type { HostMigrationContext } from '../schema/migrate.js';

export async function up({ context }: { context: HostMigrationContext }): Promise<void> {
  const q = (identifier: string) => context.queryInterface.quoteIdentifier(identifier);
  for (const index of CATALOGUE_INDEXES) {
    // A fresh database has no module tables yet: the registry creates them with their indexes.
    if (!(await context.queryInterface.tableExists(tableOf(index.module)))) continue;
    const [row] = await context.sequelize.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM crm_fields WHERE module = $module AND name = $field', {
      bind: { module: index.module, field: index.field },
      type: QueryTypes.SELECT,
    });
    if (Number(row?.n ?? 0) === 0) continue;
    await context.sequelize.query(catalogueIndexStatement(index, q));
  }
}

export async function down({ context }: { context: HostMigrationContext }): Promise<void> {
  const q = (identifier: string) => context.queryInterface.quoteIdentifier(identifier);
  for (const index of CATALOGUE_INDEXES) {
    if (!(await context.queryInterface.tableExists(tableOf(index.module)))) continue;
    await context.sequelize.query(context.dialect === 'mariadb' ? `DROP INDEX IF EXISTS ${q(index.name)} ON ${q(tableOf(index.module))}` : `DROP INDEX IF EXISTS ${q(index.name)}`);
  }
}
