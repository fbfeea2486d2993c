/**
 * The Check Business Portal login page lists the portal users with failed logins that are not
 * locked (`WHERE locked_at IS NULL AND failed_attempts > 0`) on every view, and walks the same
 * accounts when it is filtered by name. `bp_portal_accounts` holds a row per portal user (5,000
 * in the generated CRM), of which a handful are failing: with only `locked_at` indexed, the
 * database read every row of the table. `(locked_at, failed_attempts)` finds the failing ones
 * and still serves the locked list (`locked_at IS NOT NULL`). Checked by test/scale/query-plans.test.ts.
 */
import type { PluginMigrationContext } from '../plugin/lifecycle/plugin-migrator.js';

const TABLE = 'bp_portal_accounts';
const INDEX = 'bp_portal_accounts_locked_failed';

async function hasIndex(context: PluginMigrationContext): Promise<boolean> {
  const existing = (await context.queryInterface.showIndex(TABLE)) as { name: string }[];
  return existing.some((index) => index.name === INDEX);
}

export async function up({ context }: { context: PluginMigrationContext }): Promise<void> {
  if (!(await hasIndex(context))) await context.queryInterface.addIndex(TABLE, ['locked_at', 'failed_attempts'], { name: INDEX });
}

export async function down({ context }: { context: PluginMigrationContext }): Promise<void> {
  if (!(await hasIndex(context))) return;
  const qi = context.queryInterface;
  const index = qi.quoteIdentifier(INDEX);
  // Plain DDL, as in 20261204000000: Sequelize's MariaDB removeIndex trips over the driver's result.
  await context.sequelize.query(context.dialect === 'mariadb' ? `DROP INDEX ${index} ON ${qi.quoteIdentifier(TABLE)}` : `DROP INDEX ${index}`);
}
