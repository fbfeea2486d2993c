/**
 * A CRM contact's page shows the contact's last portal login (`SELECT MAX(at) … WHERE contact_id = ?
 * AND event = 'login'`, `PortalUserSettings.lastLogin`) on every view. With only `(contact_id, at)`
 * indexed the database read every history row of the contact to check its event: a contact whose
 * login was tried 100,000 times (the history keeps every refusal) cost about 115 ms of SQLite on
 * each view of their page. `(contact_id, event, at)` reads the one row. Checked by
 * test/contacts/last-login-plan.test.ts.
 */
import type { PluginMigrationContext } from '../plugin/lifecycle/plugin-migrator.js';

const TABLE = 'bp_login_history';
const INDEX = 'bp_login_history_contact_event_at';

async function hasIndex(context: PluginMigrationContext): Promise<boolean> {
  const existing = (await context.queryInterface.showIndex(TABLE)) as { name: string }[];
  return existing.some((index) => index.name === INDEX);
}

export async function up({ context }: { context: PluginMigrationContext }): Promise<void> {
  if (!(await hasIndex(context))) await context.queryInterface.addIndex(TABLE, ['contact_id', 'event', 'at'], { name: INDEX });
}

export async function down({ context }: { context: PluginMigrationContext }): Promise<void> {
  if (!(await hasIndex(context))) return;
  const qi = context.queryInterface;
  const index = qi.quoteIdentifier(INDEX);
  // Plain DDL, as in 20261205600000: Sequelize's MariaDB removeIndex trips over the driver's result.
  await context.sequelize.query(context.dialect === 'mariadb' ? `DROP INDEX ${index} ON ${qi.quoteIdentifier(TABLE)}` : `DROP INDEX ${index}`);
}
