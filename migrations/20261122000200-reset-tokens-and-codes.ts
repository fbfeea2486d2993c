/**
 * The one-time secrets of the sign-in flows:
 * - `bp_reset_tokens`: password-reset links, keyed by the SHA-256 of the link's token (never the
 *   token), valid 30 minutes, single use;
 * - `bp_reset_requests`: every "I forgot my password" request (email as typed, client address),
 *   to throttle them per address and per client;
 * - `bp_two_factor_challenges`: a second-factor step in progress, keyed by the SHA-256 of the
 *   browser's challenge cookie, holding an HMAC of the emailed code (never the code), its tries
 *   and its expiry.
 */
import { DataTypes } from 'sequelize';
import type { PluginMigrationContext } from '../plugin/lifecycle/plugin-migrator.js';

const IP_LENGTH = 45;
const EMAIL_LENGTH = 254;

async function addIndexOnce(context: PluginMigrationContext, table: string, name: string, fields: string[], unique = false): Promise<void> {
  const existing = (await context.queryInterface.showIndex(table)) as { name: string }[];
  if (existing.some((index) => index.name === name)) return;
  await context.queryInterface.addIndex(table, fields, { name, unique });
}

export async function up({ context }: { context: PluginMigrationContext }): Promise<void> {
  const qi = context.queryInterface;

  if (!(await qi.tableExists('bp_reset_tokens'))) {
    await qi.createTable('bp_reset_tokens', {
      id: { type: DataTypes.INTEGER, allowNull: false, primaryKey: true, autoIncrement: true },
      contact_id: { type: DataTypes.INTEGER, allowNull: false },
      // Hex SHA-256 of the token in the link.
      token_hash: { type: DataTypes.STRING(64), allowNull: false },
      created_at: { type: DataTypes.DATE, allowNull: false },
      expires_at: { type: DataTypes.DATE, allowNull: false },
      used_at: { type: DataTypes.DATE, allowNull: true },
      ip: { type: DataTypes.STRING(IP_LENGTH), allowNull: true },
    });
  }
  await addIndexOnce(context, 'bp_reset_tokens', 'bp_reset_tokens_token_hash_unique', ['token_hash'], true);
  await addIndexOnce(context, 'bp_reset_tokens', 'bp_reset_tokens_contact_id', ['contact_id']);

  if (!(await qi.tableExists('bp_reset_requests'))) {
    await qi.createTable('bp_reset_requests', {
      id: { type: DataTypes.INTEGER, allowNull: false, primaryKey: true, autoIncrement: true },
      email: { type: DataTypes.STRING(EMAIL_LENGTH), allowNull: false },
      ip: { type: DataTypes.STRING(IP_LENGTH), allowNull: false },
      at: { type: DataTypes.DATE, allowNull: false },
    });
  }
  await addIndexOnce(context, 'bp_reset_requests', 'bp_reset_requests_email_at', ['email', 'at']);
  await addIndexOnce(context, 'bp_reset_requests', 'bp_reset_requests_ip_at', ['ip', 'at']);

  if (!(await qi.tableExists('bp_two_factor_challenges'))) {
    await qi.createTable('bp_two_factor_challenges', {
      // Hex SHA-256 of the challenge cookie's token.
      id: { type: DataTypes.STRING(64), allowNull: false, primaryKey: true },
      contact_id: { type: DataTypes.INTEGER, allowNull: false },
      // The method that sent the code, e.g. `email`.
      method: { type: DataTypes.STRING(32), allowNull: false },
      // Hex HMAC-SHA-256 of the code under a key derived from the plugin's secret.
      code_hash: { type: DataTypes.STRING(64), allowNull: false },
      remember: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      created_at: { type: DataTypes.DATE, allowNull: false },
      expires_at: { type: DataTypes.DATE, allowNull: false },
      used_at: { type: DataTypes.DATE, allowNull: true },
      ip: { type: DataTypes.STRING(IP_LENGTH), allowNull: true },
    });
  }
  await addIndexOnce(context, 'bp_two_factor_challenges', 'bp_two_factor_challenges_contact_id', ['contact_id']);
  await addIndexOnce(context, 'bp_two_factor_challenges', 'bp_two_factor_challenges_expires_at', ['expires_at']);
}

export async function down({ context }: { context: PluginMigrationContext }): Promise<void> {
  const qi = context.queryInterface;
  for (const table of ['bp_two_factor_challenges', 'bp_reset_requests', 'bp_reset_tokens']) {
    if (await qi.tableExists(table)) await qi.dropTable(table);
  }
}
