/**
 * Login emails compare exactly (after the lower-casing the store does) on every database. MariaDB's
 * default collation, utf8mb4_general_ci, folds accents: `zoë@example.net` found the account of
 * `zoe@example.net` (a login with her password signed in as her, and enabling the other contact was
 * refused as "already the login of another portal user"). The column gets the binary collation
 * there; SQLite and PostgreSQL compare text exactly already.
 */
import type { PluginMigrationContext } from '../plugin/lifecycle/plugin-migrator.js';

const TABLE = 'bp_portal_accounts';

async function setCollation(context: PluginMigrationContext, collation: string): Promise<void> {
  if (context.dialect !== 'mariadb') return;
  // MODIFY keeps the column's index; the store writes lower-cased addresses, so binary is exact.
  await context.sequelize.query(`ALTER TABLE ${TABLE} MODIFY email VARCHAR(254) CHARACTER SET utf8mb4 COLLATE ${collation} NOT NULL`);
}

export async function up({ context }: { context: PluginMigrationContext }): Promise<void> {
  await setCollation(context, 'utf8mb4_bin');
}

export async function down({ context }: { context: PluginMigrationContext }): Promise<void> {
  await setCollation(context, 'utf8mb4_general_ci');
}
