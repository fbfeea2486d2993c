/**
 * Mail that met a mail server failing for the moment (a 4xx answer, a refused or timed-out
 * connection) waits in `crm_mail_queue` to be tried again (`host/mail/mail-queue.ts`): as given
 * (recipients, subject, body, Message-ID), with its route, its tries, when it is next due and the
 * server's last answer. `next_attempt_at` is NULL once given up (`given_up_at`), so the index on
 * it finds "due now" without reading those. Safe to re-run: the table is created only when missing.
 */
import { DataTypes } from 'sequelize';
import type { HostMigrationContext } from '../schema/migrate.js';

const TABLE = 'crm_mail_queue';
const DUE_INDEX = 'crm_mail_queue_due';

export async function up({ context }: { context: HostMigrationContext }): Promise<void> {
  if (await context.queryInterface.tableExists(TABLE)) return;
  const long = context.dialect === 'mariadb' ? DataTypes.TEXT('long') : DataTypes.TEXT;
  await context.queryInterface.createTable(TABLE, {
    id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
    message_id: { type: DataTypes.STRING(255), allowNull: false },
    // `global`, or `user:<id>` for mail sent through a CRM user's own account.
    route: { type: DataTypes.STRING(30), allowNull: false },
    from_address: { type: DataTypes.STRING(255), allowNull: false },
    from_name: { type: DataTypes.STRING(150), allowNull: false, defaultValue: '' },
    // JSON array of { address, name? }.
    to_addresses: { type: DataTypes.TEXT, allowNull: false },
    reply_to: { type: DataTypes.STRING(255), allowNull: true },
    reply_to_name: { type: DataTypes.STRING(150), allowNull: true },
    subject: { type: DataTypes.STRING(1000), allowNull: false },
    html: { type: long, allowNull: false },
    text: { type: long, allowNull: false },
    language: { type: DataTypes.STRING(35), allowNull: true },
    attempts: { type: DataTypes.INTEGER, allowNull: false },
    // NULL once given up. While a process sends it, the end of its claim (see claim_token).
    next_attempt_at: { type: DataTypes.DATE, allowNull: true },
    // The process that claimed it last (a random id): only it may remove or reschedule the row.
    claim_token: { type: DataTypes.STRING(36), allowNull: true },
    // The mail server's last answer, for an operator (never logged).
    last_error: { type: DataTypes.STRING(500), allowNull: true },
    created_at: { type: DataTypes.DATE, allowNull: false },
    given_up_at: { type: DataTypes.DATE, allowNull: true },
  });
  await context.queryInterface.addIndex(TABLE, ['next_attempt_at'], { name: DUE_INDEX });
}

export async function down({ context }: { context: HostMigrationContext }): Promise<void> {
  await context.queryInterface.dropTable(TABLE);
}
