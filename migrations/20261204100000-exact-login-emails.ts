/**
 * Login emails compare exactly (after the lower-casing the store does) on every database. MariaDB's
 * default collation, utf8mb4_general_ci, folds accents: `zoë@example.net` found the account of
 * `zoe@example.net` (a login with her password signed in as her, and enabling the other contact was
 * refused as "already the login of another portal user"). The column gets the binary collation
 * there; SQLite and PostgreSQL compare text exactly already.
 */
import type { PluginMigrationContext } from '../plugin/lifecycle/plugin-migrator.js';

const TABLE = 'bp_portal_accounts';

/** `null`: back to the table's own character set and collation, which the column had before `up`. */
async function setCollation(context: PluginMigrationContext, collation: string | null): Promise<void> {
  if (context.dialect !== 'mariadb') return;
  // MODIFY keeps the column's index; the store writes lower-cased addresses, so binary is exact.
  const charset = collation === null ? '' : ` CHARACTER SET utf8mb4 COLLATE ${collation}`;
  await context.sequelize.query(`ALTER TABLE ${TABLE} MODIFY email VARCHAR(254)${charset} NOT NULL`);
}

export async function up({ context }: { context: PluginMigrationContext }): Promise<void> {
  await setCollation(context, 'utf8mb4_bin');
}

export async function down({ context }: { context: PluginMigrationContext }): Promise<void> {
  // Not a fixed collation: a database created with another default (utf8mb4_unicode_ci, MariaDB 11's
  // utf8mb4_uca1400_ai_ci) had its own on this column.
  await setCollation(context, null);
}
