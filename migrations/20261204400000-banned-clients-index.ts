/**
 * `bp_client_failures` keeps a row for every client address that ever failed a portal login (one
 * typo is enough), so after years it holds hundreds of thousands of rows, of which the banned ones
 * are a handful. The Check Business Portal login page lists those (`WHERE banned_at IS NOT NULL`)
 * on every view: without an index that read every row of the table (500,000 rows: a full scan of
 * about 100 ms on PostgreSQL, and MariaDB's `ALL`). Checked by test/scale/query-plans.test.ts.
 */
import type { PluginMigrationContext } from '../plugin/lifecycle/plugin-migrator.js';

const TABLE = 'bp_client_failures';
const INDEX = 'bp_client_failures_banned_at';

async function hasIndex(context: PluginMigrationContext): Promise<boolean> {
  const existing = (await context.queryInterface.showIndex(TABLE)) as { name: string }[];
  return existing.some((index) => index.name === INDEX);
}

export async function up({ context }: { context: PluginMigrationContext }): Promise<void> {
  if (!(await hasIndex(context))) await context.queryInterface.addIndex(TABLE, ['banned_at'], { name: INDEX });
}

export async function down({ context }: { context: PluginMigrationContext }): Promise<void> {
  if (!(await hasIndex(context))) return;
  const qi = context.queryInterface;
  const index = qi.quoteIdentifier(INDEX);
  // Plain DDL, as in 20261204000000: Sequelize's MariaDB removeIndex trips over the driver's result.
  await context.sequelize.query(context.dialect === 'mariadb' ? `DROP INDEX ${index} ON ${qi.quoteIdentifier(TABLE)}` : `DROP INDEX ${index}`);
}
