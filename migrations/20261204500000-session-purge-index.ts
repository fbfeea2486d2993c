/**
 * A rotated-away remember-me token is now kept until its family's absolute end, so that its
 * replay is recognised as theft (`plugin/auth/portal-sessions.ts`); before, the purge deleted it
 * when its one-minute grace window ended. The purge's second statement — sessions without
 * remember-me past their idle window (`WHERE remember = … AND idle_expires_at <= …`) — had no
 * index: it read the whole table every quarter of an hour, which now also holds a remembered
 * session's replaced tokens. The other one (`absolute_expires_at <= …`) has had its index since
 * 20261122000100. Checked by test/scale/query-plans.test.ts.
 */
import type { PluginMigrationContext } from '../plugin/lifecycle/plugin-migrator.js';

const TABLE = 'bp_sessions';
const INDEX = 'bp_sessions_remember_idle_expires_at';

async function hasIndex(context: PluginMigrationContext): Promise<boolean> {
  const existing = (await context.queryInterface.showIndex(TABLE)) as { name: string }[];
  return existing.some((index) => index.name === INDEX);
}

export async function up({ context }: { context: PluginMigrationContext }): Promise<void> {
  if (!(await hasIndex(context))) await context.queryInterface.addIndex(TABLE, ['remember', 'idle_expires_at'], { name: INDEX });
}

export async function down({ context }: { context: PluginMigrationContext }): Promise<void> {
  if (!(await hasIndex(context))) return;
  const qi = context.queryInterface;
  const index = qi.quoteIdentifier(INDEX);
  // Plain DDL, as in 20261204000000: Sequelize's MariaDB removeIndex trips over the driver's result.
  await context.sequelize.query(context.dialect === 'mariadb' ? `DROP INDEX ${index} ON ${qi.quoteIdentifier(TABLE)}` : `DROP INDEX ${index}`);
}
