/**
 * `bp_portal_accounts.reserved_at`: when the account's last attempt was reserved
 * (`plugin/auth/lockout.ts`). A process that dies while it checks a secret (killed, out of memory)
 * leaves its reservation counted and never settled; five of them left the account at the limit
 * but not locked, refusing every attempt as "in flight" for good, with no lock email and nothing
 * an admin could unlock. Reservations at the limit that are older than
 * `RESERVATIONS_STALE_AFTER_MS` now become a lock. Accounts with failures at the upgrade are
 * stamped with its time, so what is in flight then is not taken for abandoned.
 */
import { DataTypes } from 'sequelize';
import type { PluginMigrationContext } from '../plugin/lifecycle/plugin-migrator.js';

const TABLE = 'bp_portal_accounts';
const COLUMN = 'reserved_at';

export async function up({ context }: { context: PluginMigrationContext }): Promise<void> {
  const qi = context.queryInterface;
  const columns = await qi.describeTable(TABLE);
  if (!(COLUMN in columns)) await qi.addColumn(TABLE, COLUMN, { type: DataTypes.DATE, allowNull: true });
  await context.sequelize.query(`UPDATE ${TABLE} SET ${COLUMN} = :now WHERE failed_attempts > 0 AND ${COLUMN} IS NULL`, { replacements: { now: new Date() } });
}

export async function down({ context }: { context: PluginMigrationContext }): Promise<void> {
  const qi = context.queryInterface;
  const columns = await qi.describeTable(TABLE);
  // Plain DDL, as in 20261204200000-button-translations (Sequelize's removeColumn fails on MariaDB).
  if (COLUMN in columns) await context.sequelize.query(`ALTER TABLE ${qi.quoteIdentifier(TABLE)} DROP COLUMN ${qi.quoteIdentifier(COLUMN)}`);
}
