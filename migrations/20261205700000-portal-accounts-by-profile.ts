/**
 * Each profile's number of portal users (`bp_portal_accounts` joined on `profile_id`, enabled
 * ones only) is counted wherever profiles are listed: the Business Portal settings, a profile's
 * page, and every CRM contact's Business Portal section. `profile_id` had no index: SQLite read
 * the whole table once per profile (a nested loop), PostgreSQL read it whole and sorted it.
 * `(profile_id, portal_enabled)` gives each profile's count from the index alone, and finds a
 * profile's users when the profile is deleted. Checked by test/scale/query-plans.test.ts.
 */
import type { PluginMigrationContext } from '../plugin/lifecycle/plugin-migrator.js';

const TABLE = 'bp_portal_accounts';
const INDEX = 'bp_portal_accounts_profile_enabled';

async function hasIndex(context: PluginMigrationContext): Promise<boolean> {
  const existing = (await context.queryInterface.showIndex(TABLE)) as { name: string }[];
  return existing.some((index) => index.name === INDEX);
}

export async function up({ context }: { context: PluginMigrationContext }): Promise<void> {
  if (!(await hasIndex(context))) await context.queryInterface.addIndex(TABLE, ['profile_id', 'portal_enabled'], { name: INDEX });
}

export async function down({ context }: { context: PluginMigrationContext }): Promise<void> {
  if (!(await hasIndex(context))) return;
  const qi = context.queryInterface;
  const index = qi.quoteIdentifier(INDEX);
  if (context.dialect === 'mariadb') {
    // InnoDB gave the foreign key on `profile_id` an index of its own (named `profile_id`) and
    // dropped it when `up` added one that serves the key: it cannot drop this one while the key
    // needs it. Both in one statement, so the table is as it was before `up`. Plain DDL, as in
    // 20261204000000: Sequelize's MariaDB removeIndex trips over the driver's result.
    const column = qi.quoteIdentifier('profile_id');
    await context.sequelize.query(`ALTER TABLE ${qi.quoteIdentifier(TABLE)} ADD INDEX ${column} (${column}), DROP INDEX ${index}`);
    return;
  }
  await context.sequelize.query(`DROP INDEX ${index}`);
}
