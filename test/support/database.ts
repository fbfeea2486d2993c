/**
 * A fresh, empty database for one suite: a temporary SQLite file by default, or a new database
 * on the server named by DATABASE_URL (PostgreSQL or MariaDB), dropped again by `drop()`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';
import { dialectOf, openDatabase, type OpenedDatabase } from '../../host/database.js';

export interface ScratchDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

export function serverUnderTest(): string | undefined {
  const url = process.env.DATABASE_URL;
  return url && !url.startsWith('sqlite:') ? url : undefined;
}

export async function scratchDatabase(): Promise<ScratchDatabase> {
  const server = serverUnderTest();
  if (!server) {
    const dir = mkdtempSync(join(tmpdir(), 'bp-test-'));
    return { url: `sqlite:${join(dir, 'crm.sqlite')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `bp_test_${randomBytes(6).toString('hex')}`;
  const admin = await openDatabase(server);
  const q = dialectOf(server) === 'postgres' ? `"${name}"` : `\`${name}\``;
  await admin.sequelize.query(`CREATE DATABASE ${q}`);
  await admin.sequelize.close();
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const again = await openDatabase(server);
      try {
        await again.sequelize.query(`DROP DATABASE IF EXISTS ${q}${dialectOf(server) === 'postgres' ? ' WITH (FORCE)' : ''}`);
      } finally {
        await again.sequelize.close();
      }
    },
  };
}

/** Runs the host migration `name`'s `up` once more, by hand: what a start after a partial run does to it. */
export async function runHostMigrationAgain(name: string, db: Pick<OpenedDatabase, 'sequelize' | 'dialect'>): Promise<void> {
  const migration = (await import(`../../host/migrations/${name}.js`)) as { up(params: { context: unknown }): Promise<void> };
  await migration.up({ context: { sequelize: db.sequelize, queryInterface: db.sequelize.getQueryInterface(), dialect: db.dialect } });
}

/**
 * Records the SQL of every statement `sequelize` answers from now on that `keep` accepts, until
 * `stop()`: how a test counts the statements a page or a call costs.
 */
export function recordStatements(sequelize: Sequelize, keep: (sql: string) => boolean = () => true): { readonly sql: string[]; stop(): void } {
  const sql: string[] = [];
  const name = `record-statements-${randomBytes(4).toString('hex')}`;
  sequelize.addHook('afterQuery', name, (_options, query) => {
    const text = (query as unknown as { sql?: unknown }).sql;
    const statement = typeof text === 'string' ? text : '';
    if (keep(statement)) sql.push(statement);
  });
  return { sql, stop: () => sequelize.removeHook('afterQuery', name) };
}

/**
 * Makes the COMMIT of a transaction fail, as a database refuses one: `refuse(transaction)` writes
 * a row whose foreign key SQLite and PostgreSQL check only at COMMIT (a deferred one). MariaDB
 * checks every key at once, so there it kills the transaction's connection from another one: the
 * COMMIT fails as on a lost server, and the transaction is rolled back.
 */
export async function commitRefuser(sequelize: Sequelize): Promise<(transaction: Transaction) => Promise<void>> {
  if (sequelize.getDialect() === 'mariadb') {
    return async (transaction) => {
      const [row] = await sequelize.query<{ id: number | string }>('SELECT CONNECTION_ID() AS id', { type: QueryTypes.SELECT, transaction });
      await sequelize.query(`KILL CONNECTION ${Number(row!.id)}`);
    };
  }
  await sequelize.query('CREATE TABLE IF NOT EXISTS refused_commit_parents (id INTEGER PRIMARY KEY)');
  await sequelize.query(
    'CREATE TABLE IF NOT EXISTS refused_commits (parent_id INTEGER NOT NULL REFERENCES refused_commit_parents (id) DEFERRABLE INITIALLY DEFERRED)',
  );
  return async (transaction) => {
    await sequelize.query('INSERT INTO refused_commits (parent_id) VALUES (-1)', { transaction });
  };
}
