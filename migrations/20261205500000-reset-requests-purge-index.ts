/**
 * `bp_reset_requests` keeps every "I forgot my password" request: the email as typed and the
 * client address. Nothing deleted them, so they piled up for ever, personal data kept long after
 * the hour the limits count a request in. `RetentionPurge` now deletes the ones past that hour
 * (`WHERE at <= …`); the table's indexes (`email, at` and `ip, at`) cannot serve that, and it
 * would read the whole table every quarter of an hour. Checked by test/scale/query-plans.test.ts.
 */
import type { PluginMigrationContext } from '../plugin/lifecycle/plugin-migrator.js';

const TABLE = 'bp_reset_requests';
const INDEX = 'bp_reset_requests_at';

async function hasIndex(context: PluginMigrationContext): Promise<boolean> {
  const existing = (await context.queryInterface.showIndex(TABLE)) as { name: string }[];
  return existing.some((index) => index.name === INDEX);
}

export async function up({ context }: { context: PluginMigrationContext }): Promise<void> {
  if (!(await hasIndex(context))) await context.queryInterface.addIndex(TABLE, ['at'], { name: INDEX });
}

export async function down({ context }: { context: PluginMigrationContext }): Promise<void> {
  if (!(await hasIndex(context))) return;
  const qi = context.queryInterface;
  const index = qi.quoteIdentifier(INDEX);
  // Plain DDL, as in 20261204000000: Sequelize's MariaDB removeIndex trips over the driver's result.
  await context.sequelize.query(context.dialect === 'mariadb' ? `DROP INDEX ${index} ON ${qi.quoteIdentifier(TABLE)}` : `DROP INDEX ${index}`);
}
