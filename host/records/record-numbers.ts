/**
 * Record numbers, as a CRM gives them: a ticket created without a number gets the next one of its
 * module's series (`TT1013`), whoever creates it (a CRM user, an import, the Business Portal). The
 * series are the ones the demo data uses. A value the creator gives is kept.
 *
 * The next number of each module is a row of `crm_record_numbers`, moved on inside the creating
 * transaction: two creators (two host processes too) never get the same number, and a create that
 * rolls back gives its number back. A series starts after the highest number of its form already in
 * the table (demo data, generated data, imports), found once, the first time it is used.
 */
import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';
import type { DatabaseDialect } from '../../plugin/host-contract/index.js';
import { RAW_SELECT } from './record-store.js';

export interface NumberSeries {
  /** The text field that holds the number. */
  readonly field: string;
  readonly prefix: string;
}

export const RECORD_NUMBER_SERIES: Readonly<Record<string, NumberSeries>> = {
  HelpDesk: { field: 'ticket_no', prefix: 'TT' },
  Products: { field: 'product_no', prefix: 'PRO-' },
  Quotes: { field: 'quote_no', prefix: 'QUO-' },
  SalesOrder: { field: 'salesorder_no', prefix: 'SO-' },
  Invoice: { field: 'invoice_no', prefix: 'INV-' },
  Assets: { field: 'asset_no', prefix: 'AST-' },
  Project: { field: 'project_no', prefix: 'PRJ-' },
  ServiceContracts: { field: 'contract_no', prefix: 'SC-' },
};

/** Digits after the prefix, at most 15 (below 2^53, and a BIGINT everywhere). */
const MAX_DIGITS = 15;

export class RecordNumbers {
  constructor(
    private readonly sequelize: Sequelize,
    private readonly dialect: DatabaseDialect,
  ) {}

  /** The next number of `module`'s series (`TT1013`), taken inside `transaction`. */
  async next(module: string, table: string, series: NumberSeries, transaction: Transaction): Promise<string> {
    // Whether the series has its row, read without a lock. Moving on a missing row first would lock
    // the gap where it belongs (MariaDB), and two creators starting the series would deadlock there.
    const [known] = await this.sequelize.query('SELECT 1 AS known FROM crm_record_numbers WHERE module = $module', { bind: { module }, ...RAW_SELECT, transaction });
    if (!known) await this.start(module, table, series, transaction);
    // The UPDATE locks the row (PostgreSQL, MariaDB) or holds the database's write lock (SQLite)
    // until the commit, so the number read next is this transaction's alone.
    await this.sequelize.query('UPDATE crm_record_numbers SET next_number = next_number + 1 WHERE module = $module', {
      bind: { module },
      type: QueryTypes.UPDATE,
      transaction,
    });
    const [row] = await this.sequelize.query<{ n: number | string }>('SELECT next_number - 1 AS n FROM crm_record_numbers WHERE module = $module', {
      bind: { module },
      ...RAW_SELECT,
      transaction,
    });
    if (!row) throw new Error(`The number series of ${module} could not be started`);
    return `${series.prefix}${Number(row.n)}`;
  }

  /** Adds the series' row, after the highest number of its form in the table (1 when there is none). */
  private async start(module: string, table: string, series: NumberSeries, transaction: Transaction): Promise<void> {
    const qi = this.sequelize.getQueryInterface();
    const t = qi.quoteIdentifier(table);
    const f = qi.quoteIdentifier(series.field);
    const offset = series.prefix.length + 1;
    const bind = { prefix: series.prefix, length: series.prefix.length };
    // Values that are the prefix and 1 to 15 digits; the digits' largest value.
    const sql = {
      sqlite: `SELECT MAX(CAST(SUBSTR(${f}, ${offset}) AS INTEGER)) AS n FROM ${t}
                WHERE SUBSTR(${f}, 1, $length) = $prefix AND LENGTH(${f}) BETWEEN ${offset} AND ${offset + MAX_DIGITS - 1}
                  AND SUBSTR(${f}, ${offset}) NOT GLOB '*[^0-9]*'`,
      postgres: `SELECT MAX(CAST(SUBSTRING(${f} FROM ${offset}) AS BIGINT)) AS n FROM ${t}
                  WHERE SUBSTRING(${f} FROM 1 FOR $length) = $prefix AND SUBSTRING(${f} FROM ${offset}) ~ '^[0-9]{1,${MAX_DIGITS}}$'`,
      mariadb: `SELECT MAX(CAST(SUBSTRING(${f}, ${offset}) AS UNSIGNED)) AS n FROM ${t}
                 WHERE BINARY SUBSTRING(${f}, 1, $length) = $prefix AND SUBSTRING(${f}, ${offset}) REGEXP '^[0-9]{1,${MAX_DIGITS}}$'`,
    }[this.dialect];
    const [row] = await this.sequelize.query<{ n: number | string | null }>(sql, { bind, ...RAW_SELECT, transaction });
    const highest = row?.n === null || row?.n === undefined ? 0 : Number(row.n);
    const insert = {
      sqlite: 'INSERT OR IGNORE INTO crm_record_numbers (module, next_number) VALUES ($module, $next)',
      postgres: 'INSERT INTO crm_record_numbers (module, next_number) VALUES ($module, $next) ON CONFLICT DO NOTHING',
      // Not INSERT IGNORE: its shared lock on a row another creator just added would leave two
      // waiting creators each holding one and asking for the other's (a deadlock); this takes the exclusive lock.
      mariadb: 'INSERT INTO crm_record_numbers (module, next_number) VALUES ($module, $next) ON DUPLICATE KEY UPDATE next_number = next_number',
    }[this.dialect];
    // Another creator may have started the series meanwhile: its row stands, and `next` moves it on.
    await this.sequelize.query(insert, { bind: { module, next: highest + 1 }, transaction });
  }
}
