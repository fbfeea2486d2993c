/**
 * The contacts capability's table `bp_support_reminders`: one row per reminder of the end of a
 * contact's support period that was sent (or is being sent right now). The unique key
 * (contact, support end date, kind) is what makes several host processes send each reminder once:
 * the sweep inserts the row first and mails only when its insert won. A new end date (support
 * renewed) gets reminders of its own.
 */
import { DataTypes } from 'sequelize';
import type { PluginMigrationContext } from '../plugin/lifecycle/plugin-migrator.js';

const TABLE = 'bp_support_reminders';
const UNIQUE_INDEX = 'bp_support_reminders_once';

export async function up({ context }: { context: PluginMigrationContext }): Promise<void> {
  const qi = context.queryInterface;
  if (!(await qi.tableExists(TABLE))) {
    await qi.createTable(TABLE, {
      id: { type: DataTypes.INTEGER, allowNull: false, primaryKey: true, autoIncrement: true },
      contact_id: { type: DataTypes.INTEGER, allowNull: false },
      // The end date the reminder announced (YYYY-MM-DD).
      support_end_date: { type: DataTypes.DATEONLY, allowNull: false },
      // month | week
      kind: { type: DataTypes.STRING(16), allowNull: false },
      sent_at: { type: DataTypes.DATE, allowNull: false },
    });
  }
  const existing = (await qi.showIndex(TABLE)) as { name: string }[];
  if (!existing.some((index) => index.name === UNIQUE_INDEX)) {
    await qi.addIndex(TABLE, ['contact_id', 'support_end_date', 'kind'], { name: UNIQUE_INDEX, unique: true });
  }
}

export async function down({ context }: { context: PluginMigrationContext }): Promise<void> {
  if (await context.queryInterface.tableExists(TABLE)) await context.queryInterface.dropTable(TABLE);
}
