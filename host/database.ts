/** Opens the host's Sequelize connection from a `DATABASE_URL` (`sqlite:path`, `postgres://…`, `mariadb://…`). */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Sequelize } from 'sequelize';
import type { DatabaseDialect } from '../plugin/host-contract/index.js';

export interface OpenedDatabase {
  readonly sequelize: Sequelize;
  readonly dialect: DatabaseDialect;
}

export function dialectOf(url: string): DatabaseDialect {
  if (url.startsWith('sqlite:')) return 'sqlite';
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return 'postgres';
  if (url.startsWith('mariadb://') || url.startsWith('mysql://')) return 'mariadb';
  throw new Error(`DATABASE_URL must start with sqlite:, postgres:// or mariadb:// (got "${url.split(':')[0]}:")`);
}

export async function openDatabase(url: string, options: { logging?: boolean } = {}): Promise<OpenedDatabase> {
  const dialect = dialectOf(url);
  const logging = options.logging ? (sql: string) => console.log(sql) : false;
  let sequelize: Sequelize;
  if (dialect === 'sqlite') {
    const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    const storage = path === ':memory:' ? path : resolve(path);
    if (storage !== ':memory:') mkdirSync(dirname(storage), { recursive: true });
    sequelize = new Sequelize({
      dialect: 'sqlite',
      storage,
      logging,
      // Several writers (transactions, a second host process) wait for the lock instead of failing at once.
      retry: { max: 10, match: [/SQLITE_BUSY/] },
      hooks: {
        afterConnect: async (connection: unknown) => {
          const db = connection as { exec(sql: string, cb: (err: Error | null) => void): void };
          await new Promise<void>((ok, fail) =>
            db.exec('PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;', (err) => (err ? fail(err) : ok())),
          );
        },
      },
    });
  } else {
    const normalized = url.replace(/^mysql:\/\//, 'mariadb://').replace(/^postgresql:\/\//, 'postgres://');
    sequelize = new Sequelize(normalized, {
      dialect,
      logging,
      pool: { max: 10, min: 0, idle: 10_000 },
      ...(dialect === 'mariadb' ? { dialectOptions: { timezone: '+00:00' }, timezone: '+00:00' } : {}),
    });
  }
  await sequelize.authenticate();
  return { sequelize, dialect };
}
