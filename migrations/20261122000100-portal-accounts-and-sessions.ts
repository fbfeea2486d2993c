/**
 * The auth capability's tables:
 * - `bp_portal_accounts`: one portal account per CRM contact (login email, profile, support
 *   period, password hash, the lockout counter);
 * - `bp_sessions`: portal sessions, keyed by the SHA-256 of the cookie's token (never the token);
 * - `bp_client_failures`: failed logins per client address (banned after too many);
 * - `bp_login_history`: every login, logout, failure, lock and unlock, with the true reason.
 */
import { DataTypes } from 'sequelize';
import type { PluginMigrationContext } from '../plugin/lifecycle/plugin-migrator.js';

// 45 characters hold any IPv6 address, IPv4-mapped ones included.
const IP_LENGTH = 45;
// The longest valid email address (RFC 5321 path limit).
const EMAIL_LENGTH = 254;

async function addIndexOnce(
  context: PluginMigrationContext,
  table: string,
  name: string,
  fields: string[],
  options: { unique?: boolean } = {},
): Promise<void> {
  const existing = (await context.queryInterface.showIndex(table)) as { name: string }[];
  if (existing.some((index) => index.name === name)) return;
  await context.queryInterface.addIndex(table, fields, { name, unique: options.unique ?? false });
}

export async function up({ context }: { context: PluginMigrationContext }): Promise<void> {
  const qi = context.queryInterface;

  if (!(await qi.tableExists('bp_portal_accounts'))) {
    await qi.createTable('bp_portal_accounts', {
      id: { type: DataTypes.INTEGER, allowNull: false, primaryKey: true, autoIncrement: true },
      contact_id: { type: DataTypes.INTEGER, allowNull: false },
      // Always stored lower-cased (the store does it): logins compare it as given.
      email: { type: DataTypes.STRING(EMAIL_LENGTH), allowNull: false },
      portal_enabled: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      // A deleted profile leaves the account on no profile (the profiles capability moves contacts first).
      profile_id: {
        type: DataTypes.INTEGER,
        allowNull: true,
        references: { model: 'bp_profiles', key: 'id' },
        onDelete: 'SET NULL',
        onUpdate: 'CASCADE',
      },
      // Days in the CRM's time zone, both inclusive; null leaves that side open.
      support_start_date: { type: DataTypes.DATEONLY, allowNull: true },
      support_end_date: { type: DataTypes.DATEONLY, allowNull: true },
      language: { type: DataTypes.STRING(8), allowNull: true },
      // The self-describing scrypt string of password-hasher.ts; null until a password is set.
      password_hash: { type: DataTypes.STRING(255), allowNull: true },
      must_change_password: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: true },
      password_changed_at: { type: DataTypes.DATE, allowNull: true },
      failed_attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      first_failed_at: { type: DataTypes.DATE, allowNull: true },
      last_failed_at: { type: DataTypes.DATE, allowNull: true },
      last_failed_ip: { type: DataTypes.STRING(IP_LENGTH), allowNull: true },
      locked_at: { type: DataTypes.DATE, allowNull: true },
      created_at: { type: DataTypes.DATE, allowNull: false },
      updated_at: { type: DataTypes.DATE, allowNull: false },
      version: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 1 },
    });
  }
  await addIndexOnce(context, 'bp_portal_accounts', 'bp_portal_accounts_contact_id_unique', ['contact_id'], { unique: true });
  await addIndexOnce(context, 'bp_portal_accounts', 'bp_portal_accounts_email', ['email']);
  await addIndexOnce(context, 'bp_portal_accounts', 'bp_portal_accounts_locked_at', ['locked_at']);

  if (!(await qi.tableExists('bp_sessions'))) {
    await qi.createTable('bp_sessions', {
      // Hex SHA-256 of the cookie's token: a leaked table gives no usable cookie.
      id: { type: DataTypes.STRING(64), allowNull: false, primaryKey: true },
      contact_id: { type: DataTypes.INTEGER, allowNull: false },
      created_at: { type: DataTypes.DATE, allowNull: false },
      last_seen_at: { type: DataTypes.DATE, allowNull: false },
      idle_expires_at: { type: DataTypes.DATE, allowNull: false },
      absolute_expires_at: { type: DataTypes.DATE, allowNull: false },
      remember: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      ip: { type: DataTypes.STRING(IP_LENGTH), allowNull: true },
      user_agent: { type: DataTypes.STRING(512), allowNull: true },
    });
  }
  await addIndexOnce(context, 'bp_sessions', 'bp_sessions_contact_id', ['contact_id']);
  await addIndexOnce(context, 'bp_sessions', 'bp_sessions_absolute_expires_at', ['absolute_expires_at']);

  if (!(await qi.tableExists('bp_client_failures'))) {
    await qi.createTable('bp_client_failures', {
      ip: { type: DataTypes.STRING(IP_LENGTH), allowNull: false, primaryKey: true },
      failures: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      banned_at: { type: DataTypes.DATE, allowNull: true },
      last_failed_at: { type: DataTypes.DATE, allowNull: true },
    });
  }

  if (!(await qi.tableExists('bp_login_history'))) {
    await qi.createTable('bp_login_history', {
      id: { type: DataTypes.INTEGER, allowNull: false, primaryKey: true, autoIncrement: true },
      // Null when the attempt named no known account (or for a client address ban).
      contact_id: { type: DataTypes.INTEGER, allowNull: true },
      email: { type: DataTypes.STRING(EMAIL_LENGTH), allowNull: true },
      // login | logout | failed | locked | unlocked
      event: { type: DataTypes.STRING(16), allowNull: false },
      // The true reason (e.g. `wrong_password`, `locked`): for the CRM only, never for the customer.
      reason: { type: DataTypes.STRING(100), allowNull: true },
      ip: { type: DataTypes.STRING(IP_LENGTH), allowNull: true },
      at: { type: DataTypes.DATE, allowNull: false },
    });
  }
  await addIndexOnce(context, 'bp_login_history', 'bp_login_history_contact_at', ['contact_id', 'at']);
  await addIndexOnce(context, 'bp_login_history', 'bp_login_history_at', ['at']);
}

export async function down({ context }: { context: PluginMigrationContext }): Promise<void> {
  const qi = context.queryInterface;
  for (const table of ['bp_login_history', 'bp_client_failures', 'bp_sessions', 'bp_portal_accounts']) {
    if (await qi.tableExists(table)) await qi.dropTable(table);
  }
}
