/**
 * A home button's text in the CRM's other languages (`bp_profile_buttons.translations`, JSON
 * `{ "it": { "title", "description" } }`, null when it has none): the button's own title and
 * description are what every other customer reads.
 */
import { DataTypes } from 'sequelize';
import type { PluginMigrationContext } from '../plugin/lifecycle/plugin-migrator.js';

const TABLE = 'bp_profile_buttons';

export async function up({ context }: { context: PluginMigrationContext }): Promise<void> {
  const columns = (await context.queryInterface.describeTable(TABLE)) as Record<string, unknown>;
  if (!columns.translations) await context.queryInterface.addColumn(TABLE, 'translations', { type: DataTypes.TEXT, allowNull: true });
}

export async function down({ context }: { context: PluginMigrationContext }): Promise<void> {
  const qi = context.queryInterface;
  const columns = (await qi.describeTable(TABLE)) as Record<string, unknown>;
  // Plain DDL, as in 20261204000000-session-families (Sequelize's removeColumn fails on MariaDB).
  if (columns.translations) await context.sequelize.query(`ALTER TABLE ${qi.quoteIdentifier(TABLE)} DROP COLUMN ${qi.quoteIdentifier('translations')}`);
}
