/**
 * The login-check capability's tables:
 * - `bp_unlock_links`: the single-use links a locked portal user gets by email, keyed by the
 *   SHA-256 of the link's token (never the token), each valid for a short while;
 * - `bp_login_check_audit`: what CRM admins did on the Check Business Portal login page
 *   (unlocks, lifted address bans): who, when, what.
 */
import { DataTypes } from 'sequelize';
import type { PluginMigrationContext } from '../plugin/lifecycle/plugin-migrator.js';

async function addIndexOnce(context: PluginMigrationContext, table: string, name: string, fields: string[], unique = false): Promise<void> {
  const existing = (await context.queryInterface.showIndex(table)) as { name: string }[];
  if (existing.some((index) => index.name === name)) return;
  await context.queryInterface.addIndex(table, fields, { name, unique });
}

export async function up({ context }: { context: PluginMigrationContext }): Promise<void> {
  const qi = context.queryInterface;

  if (!(await qi.tableExists('bp_unlock_links'))) {
    await qi.createTable('bp_unlock_links', {
      id: { type: DataTypes.INTEGER, allowNull: false, primaryKey: true, autoIncrement: true },
      contact_id: { type: DataTypes.INTEGER, allowNull: false },
      // Hex SHA-256 of the emailed token: a leaked table unlocks nobody.
      token_hash: { type: DataTypes.STRING(64), allowNull: false },
      created_at: { type: DataTypes.DATE, allowNull: false },
      expires_at: { type: DataTypes.DATE, allowNull: false },
      // Set once: by the redemption of this link, or when the lock ends another way (admin, other link).
      used_at: { type: DataTypes.DATE, allowNull: true },
      revoked_at: { type: DataTypes.DATE, allowNull: true },
    });
  }
  await addIndexOnce(context, 'bp_unlock_links', 'bp_unlock_links_token_hash_unique', ['token_hash'], true);
  await addIndexOnce(context, 'bp_unlock_links', 'bp_unlock_links_contact_id', ['contact_id']);

  if (!(await qi.tableExists('bp_login_check_audit'))) {
    await qi.createTable('bp_login_check_audit', {
      id: { type: DataTypes.INTEGER, allowNull: false, primaryKey: true, autoIncrement: true },
      user_id: { type: DataTypes.INTEGER, allowNull: false },
      // Kept as it was at the time: the user may be renamed or removed later.
      user_name: { type: DataTypes.STRING(100), allowNull: false },
      // unlock | lift_ban
      action: { type: DataTypes.STRING(32), allowNull: false },
      // The contact id (unlock) or the client address (lift_ban).
      target: { type: DataTypes.STRING(64), allowNull: false },
      // Whether the action changed anything (an account already unlocked by someone else did not).
      applied: { type: DataTypes.BOOLEAN, allowNull: false },
      at: { type: DataTypes.DATE, allowNull: false },
    });
  }
  await addIndexOnce(context, 'bp_login_check_audit', 'bp_login_check_audit_at', ['at']);
}

export async function down({ context }: { context: PluginMigrationContext }): Promise<void> {
  const qi = context.queryInterface;
  for (const table of ['bp_login_check_audit', 'bp_unlock_links']) {
    if (await qi.tableExists(table)) await qi.dropTable(table);
  }
}
