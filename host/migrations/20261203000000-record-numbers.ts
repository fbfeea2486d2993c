/**
 * The next number of each module's record-number series (`host/records/record-numbers.ts`):
 * `HelpDesk` → 1013 gives the next ticket created without a number `TT1013`. A series gets its
 * row the first time it is used. Safe to re-run: the table is created only when missing.
 */
import { DataTypes } from 'sequelize';
import type { HostMigrationContext } from '../schema/migrate.js';

const TABLE = 'crm_record_numbers';

export async function up({ context }: { context: HostMigrationContext }): Promise<void> {
  if (await context.queryInterface.tableExists(TABLE)) return;
  await context.queryInterface.createTable(TABLE, {
    module: { type: DataTypes.STRING(64), allowNull: false, primaryKey: true },
    next_number: { type: DataTypes.BIGINT, allowNull: false },
  });
}

export async function down({ context }: { context: HostMigrationContext }): Promise<void> {
  await context.queryInterface.dropTable(TABLE);
}
