/**
 * The notifications capability's table:
 * - `bp_notification_deliveries`: one row per host event that produced (or was about to
 *   produce) a ticket notification, keyed by the event (`newTicket:HelpDesk:42`,
 *   `ticketReply:comment:7`). The row is inserted before anything is sent, under a unique key,
 *   so an event delivered twice — by the same process or by any other sharing the database —
 *   sends its mails once.
 */
import { DataTypes } from 'sequelize';
import type { PluginMigrationContext } from '../plugin/lifecycle/plugin-migrator.js';

const TABLE = 'bp_notification_deliveries';
const UNIQUE = 'bp_notification_deliveries_event_key_unique';

export async function up({ context }: { context: PluginMigrationContext }): Promise<void> {
  const qi = context.queryInterface;
  if (!(await qi.tableExists(TABLE))) {
    await qi.createTable(TABLE, {
      id: { type: DataTypes.INTEGER, allowNull: false, primaryKey: true, autoIncrement: true },
      // 191 characters: the longest key MariaDB indexes in utf8mb4 on every row format.
      event_key: { type: DataTypes.STRING(191), allowNull: false },
      created_at: { type: DataTypes.DATE, allowNull: false },
    });
  }
  const existing = (await qi.showIndex(TABLE)) as { name: string }[];
  if (!existing.some((index) => index.name === UNIQUE)) await qi.addIndex(TABLE, ['event_key'], { name: UNIQUE, unique: true });
}

export async function down({ context }: { context: PluginMigrationContext }): Promise<void> {
  if (await context.queryInterface.tableExists(TABLE)) await context.queryInterface.dropTable(TABLE);
}
