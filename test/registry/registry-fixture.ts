/**
 * A fresh database with the host migrations run (the CRM core tables such as `crm_users`, then
 * the registry's) and a registry open on it, for the registry and record-store suites.
 */
import { QueryTypes } from 'sequelize';
import type { HostLogger, LogFields } from '../../plugin/host-contract/index.js';
import { openDatabase, type OpenedDatabase } from '../../host/database.js';
import { SqlModuleRegistry } from '../../host/registry/module-registry.js';
import { migrateHost } from '../../host/schema/migrate.js';
import { scratchDatabase, type ScratchDatabase } from '../support/database.js';

/** Keeps what was logged, so that a test can assert that nothing failed quietly. */
export class RecordingLogger implements HostLogger {
  readonly entries: { level: string; message: string; fields?: LogFields }[] = [];
  debug(message: string, fields?: LogFields): void {
    this.entries.push({ level: 'debug', message, fields });
  }
  info(message: string, fields?: LogFields): void {
    this.entries.push({ level: 'info', message, fields });
  }
  warn(message: string, fields?: LogFields): void {
    this.entries.push({ level: 'warn', message, fields });
  }
  error(message: string, fields?: LogFields): void {
    this.entries.push({ level: 'error', message, fields });
  }
}

export interface RegistryFixture {
  readonly scratch: ScratchDatabase;
  readonly db: OpenedDatabase;
  readonly registry: SqlModuleRegistry;
  readonly logger: RecordingLogger;
  /** Another connection to the same database (a second host process). */
  openAnother(): Promise<OpenedDatabase>;
  close(): Promise<void>;
}

export async function registryFixture(): Promise<RegistryFixture> {
  const scratch = await scratchDatabase();
  const db = await openDatabase(scratch.url);
  const others: OpenedDatabase[] = [];
  await migrateHost(db.sequelize, db.dialect);
  const logger = new RecordingLogger();
  const registry = await SqlModuleRegistry.open(db, logger);
  return {
    scratch,
    db,
    registry,
    logger,
    async openAnother() {
      const other = await openDatabase(scratch.url);
      others.push(other);
      return other;
    },
    async close() {
      for (const other of others) await other.sequelize.close();
      await db.sequelize.close();
      await scratch.drop();
    },
  };
}

/** Inserts a CRM user with only the columns the registry and the record store read. */
export async function insertUser(db: OpenedDatabase, user: { userName: string; firstName: string; lastName: string; roleId: number | null }): Promise<number> {
  const qi = db.sequelize.getQueryInterface();
  const columns = await qi.describeTable('crm_users');
  const row: Record<string, unknown> = { user_name: user.userName, first_name: user.firstName, last_name: user.lastName, role_id: user.roleId };
  // The CRM core table has more NOT NULL columns than the stand-in: give them plain values.
  const defaults: Record<string, unknown> = { email: `${user.userName}@example.com`, active: true, is_admin: false, language: 'en', password_hash: 'x', created_at: new Date(), updated_at: new Date() };
  for (const [name, value] of Object.entries(defaults)) if (columns[name]) row[name] = value;
  // With the CRM core migration, role_id refers to crm_roles.
  if (user.roleId !== null && (await qi.tableExists('crm_roles'))) {
    const roles = await db.sequelize.query('SELECT id FROM crm_roles WHERE id = $id', { bind: { id: user.roleId }, type: QueryTypes.SELECT });
    if (roles.length === 0) await qi.bulkInsert('crm_roles', [{ id: user.roleId, name: `Role ${user.roleId}`, created_at: new Date() }]);
  }
  await qi.bulkInsert('crm_users', [row]);
  const [found] = await db.sequelize.query<{ id: number }>('SELECT id FROM crm_users WHERE user_name = $name', { bind: { name: user.userName }, type: QueryTypes.SELECT });
  return Number(found!.id);
}

/** The database's own catalog: does the table exist, which columns does it have, which columns are indexed (primary keys aside). */
export const catalog = {
  async tableExists(db: OpenedDatabase, table: string): Promise<boolean> {
    const sql = {
      sqlite: "SELECT name FROM sqlite_master WHERE type = 'table' AND name = $table",
      postgres: "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name = $table",
      mariadb: 'SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = $table',
    }[db.dialect];
    return (await db.sequelize.query(sql, { bind: { table }, type: QueryTypes.SELECT })).length === 1;
  },
  async columns(db: OpenedDatabase, table: string): Promise<string[]> {
    const sql = {
      sqlite: 'SELECT name AS col FROM pragma_table_info($table)',
      postgres: "SELECT column_name AS col FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $table",
      mariadb: 'SELECT column_name AS col FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = $table',
    }[db.dialect];
    const rows = await db.sequelize.query<{ col: string }>(sql, { bind: { table }, type: QueryTypes.SELECT });
    return rows.map((r) => r.col).sort();
  },
  async indexedColumns(db: OpenedDatabase, table: string): Promise<string[]> {
    const sql = {
      sqlite: "SELECT ii.name AS col FROM pragma_index_list($table) AS il, pragma_index_info(il.name) AS ii WHERE il.origin = 'c'",
      postgres:
        'SELECT a.attname AS col FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey) ' +
        "WHERE c.relname = $table AND NOT i.indisprimary",
      mariadb: "SELECT column_name AS col FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = $table AND index_name <> 'PRIMARY'",
    }[db.dialect];
    const rows = await db.sequelize.query<{ col: string }>(sql, { bind: { table }, type: QueryTypes.SELECT });
    return rows.map((r) => r.col).sort();
  },
};
