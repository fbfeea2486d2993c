/**
 * Picklist labels per language (contract 1.2.0, `FieldDefinition.picklistLabels`): a column of
 * `crm_fields` holding `{ value: { en, it… } }` as JSON. A database made before this release gets
 * the standard modules' labels for the fields that have none (a host developer's own labels stay),
 * and the registry revision moves so that running processes read them.
 */
import { DataTypes, QueryTypes } from 'sequelize';
import type { HostMigrationContext } from '../schema/migrate.js';
import { STANDARD_MODULES } from '../registry/standard-modules.js';

export async function up({ context }: { context: HostMigrationContext }): Promise<void> {
  const qi = context.queryInterface;
  const columns = await qi.describeTable('crm_fields');
  if (!('picklist_labels' in columns)) await qi.addColumn('crm_fields', 'picklist_labels', { type: DataTypes.TEXT, allowNull: true });
  const stored = await context.sequelize.query<{ module: string; name: string }>('SELECT module, name FROM crm_fields WHERE picklist_labels IS NULL', { type: QueryTypes.SELECT });
  const missing = new Set(stored.map((row) => `${row.module}.${row.name}`));
  let changed = false;
  for (const module of STANDARD_MODULES) {
    for (const field of module.fields) {
      if (!field.picklistLabels || !missing.has(`${module.name}.${field.name}`)) continue;
      await context.sequelize.query('UPDATE crm_fields SET picklist_labels = $labels WHERE module = $module AND name = $name AND picklist_labels IS NULL', {
        bind: { labels: JSON.stringify(field.picklistLabels), module: module.name, name: field.name },
      });
      changed = true;
    }
  }
  if (changed) await context.sequelize.query('UPDATE crm_registry_revision SET revision = revision + 1 WHERE id = 1');
}

export async function down({ context }: { context: HostMigrationContext }): Promise<void> {
  // Plain DDL: Sequelize's removeColumn fails with the mariadb connector (see the plugin's session-families migration).
  await context.sequelize.query('ALTER TABLE crm_fields DROP COLUMN picklist_labels');
}
