/**
 * Profile names are unique as the plugin compares them (case-folded, `nameKey`), on every database.
 * The unique key on `bp_profiles.name` stays as the last guard of exact duplicates, but on MariaDB
 * its default collation, utf8mb4_general_ci, also folds accents and takes every emoji for every
 * other: `Café` was refused beside `Cafe`, `Support 🇬🇧` beside `Support 🇮🇹`, as "already exists",
 * where SQLite and PostgreSQL took them. The column gets the binary collation there.
 */
import type { PluginMigrationContext } from '../plugin/lifecycle/plugin-migrator.js';

/** `null`: back to the table's own character set and collation, which the column had before `up`. */
async function setCollation(context: PluginMigrationContext, collation: string | null): Promise<void> {
  if (context.dialect !== 'mariadb') return;
  // MODIFY keeps the column's unique index.
  const charset = collation === null ? '' : ` CHARACTER SET utf8mb4 COLLATE ${collation}`;
  await context.sequelize.query(`ALTER TABLE bp_profiles MODIFY name VARCHAR(100)${charset} NOT NULL`);
}

export async function up({ context }: { context: PluginMigrationContext }): Promise<void> {
  await setCollation(context, 'utf8mb4_bin');
}

export async function down({ context }: { context: PluginMigrationContext }): Promise<void> {
  await setCollation(context, null);
}
