/**
 * The CRM's own login lock (`host/users/login-lockout.ts`): `crm_users.failed_logins` (attempts
 * counted since the last success, reserved before each password check), `failed_at` (the last
 * one's time) and `locked_at` (set at the fifth failure; lifts by itself after `crmLockMs`).
 * Safe to re-run: each column is added only when missing.
 */
import { DataTypes } from 'sequelize';
import type { HostMigrationContext } from '../schema/migrate.js';

const TABLE = 'crm_users';
const COLUMNS = {
  failed_logins: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
  failed_at: { type: DataTypes.DATE, allowNull: true },
  locked_at: { type: DataTypes.DATE, allowNull: true },
} as const;

export async function up({ context }: { context: HostMigrationContext }): Promise<void> {
  const qi = context.queryInterface;
  const existing = await qi.describeTable(TABLE);
  for (const [name, spec] of Object.entries(COLUMNS)) {
    if (!(name in existing)) await qi.addColumn(TABLE, name, spec);
  }
}

export async function down({ context }: { context: HostMigrationContext }): Promise<void> {
  const qi = context.queryInterface;
  const existing = await qi.describeTable(TABLE);
  // Plain DDL (Sequelize's removeColumn fails on MariaDB, and rebuilds the table on SQLite).
  for (const name of Object.keys(COLUMNS).reverse()) {
    if (name in existing) await context.sequelize.query(`ALTER TABLE ${qi.quoteIdentifier(TABLE)} DROP COLUMN ${qi.quoteIdentifier(name)}`);
  }
}
