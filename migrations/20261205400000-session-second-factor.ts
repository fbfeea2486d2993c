/**
 * `bp_sessions.second_factor`: the second factor the session's sign-in passed (`email`), or null
 * when it was opened with the password alone. A profile that comes to ask for a second factor (an
 * admin switches it on, or gives the contact such a profile) signs out the sessions opened without
 * it at their next request (`plugin/auth/portal-sessions.ts`). Sessions from before the upgrade
 * count as opened with the password alone: whoever is on a profile that asks for the code signs in
 * once more.
 */
import { DataTypes } from 'sequelize';
import type { PluginMigrationContext } from '../plugin/lifecycle/plugin-migrator.js';

const TABLE = 'bp_sessions';
const COLUMN = 'second_factor';

export async function up({ context }: { context: PluginMigrationContext }): Promise<void> {
  const qi = context.queryInterface;
  const columns = await qi.describeTable(TABLE);
  if (!(COLUMN in columns)) await qi.addColumn(TABLE, COLUMN, { type: DataTypes.STRING(16), allowNull: true });
}

export async function down({ context }: { context: PluginMigrationContext }): Promise<void> {
  const qi = context.queryInterface;
  const columns = await qi.describeTable(TABLE);
  // Plain DDL, as in 20261205300000-account-reservations-stamped (Sequelize's removeColumn fails on MariaDB).
  if (COLUMN in columns) await context.sequelize.query(`ALTER TABLE ${qi.quoteIdentifier(TABLE)} DROP COLUMN ${qi.quoteIdentifier(COLUMN)}`);
}
