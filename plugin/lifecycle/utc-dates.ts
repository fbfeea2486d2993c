/**
 * The plugin's statements write times as the instants they are, whatever the server's own zone.
 *
 * Sequelize 6 writes a `Date` given as a replacement (`:now`) in the process's local zone: its
 * `injectReplacements` escapes values with no time zone, ignoring the connection's `timezone`.
 * PostgreSQL and SQLite get the offset with the text, but MariaDB's DATETIME keeps the wall time
 * alone and reads it back as UTC: on a server in Honolulu (UTC-10) a session 30 minutes long had
 * expired 9½ hours before it began, and in Tonga (UTC+13) it lasted 13½ hours. The plugin's
 * connection (`HostDatabase` as the plugin's services get it) turns every `Date` of a statement's
 * replacements and bind parameters into UTC text first, as Sequelize writes with the process in UTC.
 */
import type { Sequelize } from 'sequelize';
import type { DatabaseDialect, HostDatabase } from '../host-contract/index.js';

/** A time as Sequelize writes it in UTC: `2026-12-05 14:10:16.000` (MariaDB), with ` +00:00` elsewhere. */
export function utcDateText(date: Date, dialect: DatabaseDialect): string {
  const text = date.toISOString().slice(0, 23).replace('T', ' ');
  return dialect === 'mariadb' ? text : `${text} +00:00`;
}

function withTexts(values: unknown, dialect: DatabaseDialect): unknown {
  if (values instanceof Date) return Number.isNaN(values.getTime()) ? values : utcDateText(values, dialect);
  if (Array.isArray(values)) return values.map((value) => withTexts(value, dialect));
  if (values !== null && typeof values === 'object' && Object.getPrototypeOf(values) === Object.prototype) {
    return Object.fromEntries(Object.entries(values).map(([key, value]) => [key, withTexts(value, dialect)]));
  }
  return values;
}

/** The host's connection, its `query` writing every `Date` parameter as UTC text; everything else is the connection's own. */
export function withUtcDates(database: HostDatabase): HostDatabase {
  const { sequelize, dialect } = database;
  const query = (sql: unknown, options?: Record<string, unknown>) => {
    const given = options ?? {};
    const sent = {
      ...given,
      ...('replacements' in given ? { replacements: withTexts(given.replacements, dialect) } : {}),
      ...('bind' in given ? { bind: withTexts(given.bind, dialect) } : {}),
    };
    return (sequelize.query as (sql: unknown, options?: unknown) => Promise<unknown>)(sql, options === undefined ? undefined : sent);
  };
  const connection = new Proxy(sequelize, {
    get: (target, property, receiver) => (property === 'query' ? query : Reflect.get(target, property, receiver)),
  }) as Sequelize;
  return { sequelize: connection, dialect };
}
