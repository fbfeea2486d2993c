/**
 * Remembered sessions rotate their token when their idle window has lapsed (see
 * `plugin/auth/portal-sessions.ts`). Two columns let that happen without signing the customer out
 * of requests already on their way with the old token:
 * - `family_id`: the id of the first session of a rotation chain, carried to every successor. CSRF
 *   tokens bind to it (a form opened before a rotation still submits) and a logout ends the family.
 * - `replaced_at`: set on a session whose token was rotated away; such a row is honoured for a
 *   short grace window (its `idle_expires_at`), never touched, never rotated again.
 * Existing sessions become families of one.
 */
import { DataTypes } from 'sequelize';
import type { PluginMigrationContext } from '../plugin/lifecycle/plugin-migrator.js';

const TABLE = 'bp_sessions';
const FAMILY_INDEX = 'bp_sessions_family_id';

export async function up({ context }: { context: PluginMigrationContext }): Promise<void> {
  const qi = context.queryInterface;
  const columns = (await qi.describeTable(TABLE)) as Record<string, unknown>;
  if (!columns.family_id) await qi.addColumn(TABLE, 'family_id', { type: DataTypes.STRING(64), allowNull: true });
  if (!columns.replaced_at) await qi.addColumn(TABLE, 'replaced_at', { type: DataTypes.DATE, allowNull: true });
  await context.sequelize.query(`UPDATE ${TABLE} SET family_id = id WHERE family_id IS NULL`);
  const existing = (await qi.showIndex(TABLE)) as { name: string }[];
  if (!existing.some((index) => index.name === FAMILY_INDEX)) await qi.addIndex(TABLE, ['family_id'], { name: FAMILY_INDEX });
}

export async function down({ context }: { context: PluginMigrationContext }): Promise<void> {
  const qi = context.queryInterface;
  const table = qi.quoteIdentifier(TABLE);
  // Plain DDL, as in 20261122000400: Sequelize's SQLite removeColumn rebuilds the table (and SQLite
  // refuses to drop an indexed column), and its MariaDB removeColumn fails on the driver's result.
  const existing = (await qi.showIndex(TABLE)) as { name: string }[];
  if (existing.some((index) => index.name === FAMILY_INDEX)) {
    const index = qi.quoteIdentifier(FAMILY_INDEX);
    await context.sequelize.query(context.dialect === 'mariadb' ? `DROP INDEX ${index} ON ${table}` : `DROP INDEX ${index}`);
  }
  const columns = (await qi.describeTable(TABLE)) as Record<string, unknown>;
  for (const column of ['replaced_at', 'family_id']) {
    if (columns[column]) await context.sequelize.query(`ALTER TABLE ${table} DROP COLUMN ${qi.quoteIdentifier(column)}`);
  }
}
