/**
 * `bp_form_submissions`: one row per portal form post that carried a one-time value (`_once`),
 * keyed by an HMAC of the customer, that value and what the form sent, and one per API write
 * that carried an `Idempotency-Key` (keyed by the customer and the key; `contents` the digest of
 * what was sent, `outcome` the first answer). Inserted under a
 * unique key before the work is done, so a form sent twice — a double tap, Back and send again, a
 * reload that resends — does its work once, by this process or any other sharing the database;
 * the row then keeps where the first answer led, for the repeat to go there too. Rows are purged
 * a day after (`created_at`, indexed for that DELETE: test/scale/query-plans.test.ts).
 */
import { DataTypes } from 'sequelize';
import type { PluginMigrationContext } from '../plugin/lifecycle/plugin-migrator.js';

const TABLE = 'bp_form_submissions';
const UNIQUE = 'bp_form_submissions_key_unique';
const PURGE_INDEX = 'bp_form_submissions_created_at';

export async function up({ context }: { context: PluginMigrationContext }): Promise<void> {
  const qi = context.queryInterface;
  if (!(await qi.tableExists(TABLE))) {
    await qi.createTable(TABLE, {
      id: { type: DataTypes.INTEGER, allowNull: false, primaryKey: true, autoIncrement: true },
      // base64url of an HMAC-SHA-256: 43 characters.
      submission_key: { type: DataTypes.STRING(64), allowNull: false },
      contact_id: { type: DataTypes.INTEGER, allowNull: false },
      // An API write's digest of what it sent (a form's is in its key): the same key with another body is refused.
      contents: { type: DataTypes.STRING(64), allowNull: true },
      // Where a repeat of a form is sent (a path of the portal), or an API write's first answer (JSON); NULL while the first is at work.
      outcome: { type: DataTypes.TEXT, allowNull: true },
      created_at: { type: DataTypes.DATE, allowNull: false },
    });
  }
  const existing = (await qi.showIndex(TABLE)) as { name: string }[];
  if (!existing.some((index) => index.name === UNIQUE)) await qi.addIndex(TABLE, ['submission_key'], { name: UNIQUE, unique: true });
  if (!existing.some((index) => index.name === PURGE_INDEX)) await qi.addIndex(TABLE, ['created_at'], { name: PURGE_INDEX });
}

export async function down({ context }: { context: PluginMigrationContext }): Promise<void> {
  if (await context.queryInterface.tableExists(TABLE)) await context.queryInterface.dropTable(TABLE);
}
