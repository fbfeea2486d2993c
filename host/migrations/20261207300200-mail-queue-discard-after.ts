/**
 * A queued mail's end (contract 1.10.0, `MailMessage.discardAfter`): the time after which the mail is
 * worth nothing — its recovery or unlock link has expired — and is given up rather than sent. NULL for
 * mail that keeps its worth (it is tried for the queue's 24 hours). Safe to re-run.
 */
import { DataTypes } from 'sequelize';
import type { HostMigrationContext } from '../schema/migrate.js';

const TABLE = 'crm_mail_queue';
const COLUMN = 'discard_after';

export async function up({ context }: { context: HostMigrationContext }): Promise<void> {
  const columns = await context.queryInterface.describeTable(TABLE);
  if (!(COLUMN in columns)) await context.queryInterface.addColumn(TABLE, COLUMN, { type: DataTypes.DATE, allowNull: true });
}

export async function down({ context }: { context: HostMigrationContext }): Promise<void> {
  // Plain DDL: Sequelize's removeColumn fails with the mariadb connector (see the plugin's session-families migration).
  const columns = await context.queryInterface.describeTable(TABLE);
  if (COLUMN in columns) await context.sequelize.query(`ALTER TABLE ${TABLE} DROP COLUMN ${COLUMN}`);
}
