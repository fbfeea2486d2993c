/**
 * A mail's subject of any length in the mail queue and the outbox: `send` takes any subject the mail
 * server does, and a subject over the columns' 1,000 characters made keeping the mail fail (PostgreSQL
 * 22001, MariaDB 1406) — the mail the queue was to save was lost. TEXT on PostgreSQL, MEDIUMTEXT on
 * MariaDB (TEXT there holds 64 KB). SQLite enforces no VARCHAR length: nothing to change. Safe to
 * re-run. `down` cuts longer subjects to 1,000 characters first.
 */
import type { HostMigrationContext } from '../schema/migrate.js';

const TABLES = ['crm_mail_queue', 'crm_mail_outbox'] as const;

export async function up({ context }: { context: HostMigrationContext }): Promise<void> {
  for (const table of TABLES) {
    if (context.dialect === 'postgres') await context.sequelize.query(`ALTER TABLE ${table} ALTER COLUMN subject TYPE TEXT`);
    else if (context.dialect === 'mariadb') await context.sequelize.query(`ALTER TABLE ${table} MODIFY subject MEDIUMTEXT NOT NULL`);
  }
}

export async function down({ context }: { context: HostMigrationContext }): Promise<void> {
  for (const table of TABLES) {
    if (context.dialect === 'postgres') {
      await context.sequelize.query(`ALTER TABLE ${table} ALTER COLUMN subject TYPE VARCHAR(1000) USING LEFT(subject, 1000)`);
    } else if (context.dialect === 'mariadb') {
      await context.sequelize.query(`UPDATE ${table} SET subject = LEFT(subject, 1000) WHERE CHAR_LENGTH(subject) > 1000`);
      await context.sequelize.query(`ALTER TABLE ${table} MODIFY subject VARCHAR(1000) NOT NULL`);
    }
  }
}
