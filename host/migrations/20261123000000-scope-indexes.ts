/**
 * Indexes for the paths a portal reads a customer's records by, at the size of a CRM with years
 * of data (checked by test/scale/query-plans.test.ts):
 * - every reference column of a module table (`contact_id`, `account_id`, an account's
 *   `parent_id`…) gets `(reference, modified_at)` in place of `(reference)`: the scope lookup and
 *   the default list order (last modified first) from one index. The registry creates the same
 *   index for the tables and fields it adds later (`referenceIndexColumns`);
 * - a record's comments: `(module, record_id, created_at)` in place of `(module, record_id)`, so
 *   that they come oldest first without a sort.
 * Related-list links need nothing new: the primary key `(relation_id, record_id, related_id)` and
 * `crm_relation_links_related_idx` `(relation_id, related_id, record_id)` serve both directions.
 * Safe to re-run: each index is dropped if it exists and created if it does not.
 */
import { QueryTypes } from 'sequelize';
import { referenceIndexColumns, referenceIndexName, tableOf } from '../registry/module-tables.js';
import { createIndex, dropIndex } from '../schema/indexes.js';
import type { HostMigrationContext } from '../schema/migrate.js';

/** The reference fields of the module tables that exist (a fresh database has none yet: the registry creates them). */
async function referenceColumns(context: HostMigrationContext): Promise<{ readonly table: string; readonly field: string }[]> {
  if (!(await context.queryInterface.tableExists('crm_fields'))) return [];
  const rows = await context.sequelize.query<{ module: string; name: string }>("SELECT module, name FROM crm_fields WHERE type = 'reference' ORDER BY module, name", {
    type: QueryTypes.SELECT,
  });
  const found: { table: string; field: string }[] = [];
  for (const { module, name } of rows) {
    const table = tableOf(module);
    if (await context.queryInterface.tableExists(table)) found.push({ table, field: name });
  }
  return found;
}

export async function up({ context }: { context: HostMigrationContext }): Promise<void> {
  for (const { table, field } of await referenceColumns(context)) {
    const name = referenceIndexName(table, field);
    await dropIndex(context, table, name);
    await createIndex(context, table, name, referenceIndexColumns(field));
  }
  if (await context.queryInterface.tableExists('crm_comments')) {
    await createIndex(context, 'crm_comments', 'crm_comments_record_created_idx', ['module', 'record_id', 'created_at']);
    await dropIndex(context, 'crm_comments', 'crm_comments_record_idx');
  }
}

export async function down({ context }: { context: HostMigrationContext }): Promise<void> {
  if (await context.queryInterface.tableExists('crm_comments')) {
    await createIndex(context, 'crm_comments', 'crm_comments_record_idx', ['module', 'record_id']);
    await dropIndex(context, 'crm_comments', 'crm_comments_record_created_idx');
  }
  for (const { table, field } of await referenceColumns(context)) {
    const name = referenceIndexName(table, field);
    await dropIndex(context, table, name);
    await createIndex(context, table, name, [field]);
  }
}
