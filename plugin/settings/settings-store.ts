/** The plugin's own settings: one JSON value per key in `bp_settings`. */
import { inject, injectable } from 'inversify';
import { QueryTypes, type Transaction } from 'sequelize';
import { isInsertCollision } from '../lifecycle/insert-collision.js';
import { HostDatabase } from '../host-contract/index.js';

export type SettingValue = string | number | boolean | null | readonly SettingValue[] | { readonly [key: string]: SettingValue };

export const SettingsStore = Symbol.for('business-portal.SettingsStore');
export interface SettingsStore {
  get(key: string, options?: { transaction?: Transaction }): Promise<SettingValue | undefined>;
  set(key: string, value: SettingValue, options?: { transaction?: Transaction }): Promise<void>;
  /**
   * Stores the first value of a key that has none; a `UniqueConstraintError` when another save
   * stored one meanwhile (never an overwrite of it).
   */
  insert(key: string, value: SettingValue, options: { readonly transaction: Transaction }): Promise<void>;
  /** Stores `value` unless the key already has one; answers the value that is stored afterwards. */
  setIfMissing(key: string, value: SettingValue): Promise<SettingValue>;
  /**
   * Holds the key's row until `transaction` ends (it is written, unchanged): saves that lock the same
   * key take turns. Nothing is held when the key has no row.
   */
  lock(key: string, options: { readonly transaction: Transaction }): Promise<void>;
}

const settingKey = /^[a-z][A-Za-z0-9.]{0,190}$/;

function checkKey(key: string): void {
  if (!settingKey.test(key)) throw new Error(`Invalid setting key: ${key}`);
}

@injectable()
export class SequelizeSettingsStore implements SettingsStore {
  constructor(@inject(HostDatabase) private readonly database: HostDatabase) {}

  /** `key` is a reserved word in MariaDB: always quoted. */
  private get keyColumn(): string {
    return this.database.sequelize.getQueryInterface().quoteIdentifier('key');
  }

  async get(key: string, options: { transaction?: Transaction } = {}): Promise<SettingValue | undefined> {
    checkKey(key);
    const [row] = await this.database.sequelize.query<{ value: string }>(`SELECT value FROM bp_settings WHERE ${this.keyColumn} = :key`, {
      type: QueryTypes.SELECT,
      replacements: { key },
      transaction: options.transaction,
    });
    return row ? (JSON.parse(row.value) as SettingValue) : undefined;
  }

  async set(key: string, value: SettingValue, options: { transaction?: Transaction } = {}): Promise<void> {
    checkKey(key);
    const { transaction } = options;
    if ((await this.get(key, { transaction })) === undefined) return this.insertRow(key, value, transaction);
    await this.database.sequelize.query(`UPDATE bp_settings SET value = :value, updated_at = :now WHERE ${this.keyColumn} = :key`, {
      replacements: { key, value: JSON.stringify(value), now: new Date() },
      transaction,
    });
  }

  async insert(key: string, value: SettingValue, options: { readonly transaction: Transaction }): Promise<void> {
    checkKey(key);
    await this.insertRow(key, value, options.transaction);
  }

  /** The one INSERT of a key's first value (`set`, `insert`, `setIfMissing`). */
  private async insertRow(key: string, value: SettingValue, transaction?: Transaction): Promise<void> {
    await this.database.sequelize.query(`INSERT INTO bp_settings (${this.keyColumn}, value, updated_at) VALUES (:key, :value, :now)`, {
      type: QueryTypes.INSERT,
      replacements: { key, value: JSON.stringify(value), now: new Date() },
      transaction,
    });
  }

  async lock(key: string, options: { readonly transaction: Transaction }): Promise<void> {
    checkKey(key);
    await this.database.sequelize.query(`UPDATE bp_settings SET updated_at = updated_at WHERE ${this.keyColumn} = :key`, {
      type: QueryTypes.BULKUPDATE,
      replacements: { key },
      transaction: options.transaction,
    });
  }

  async setIfMissing(key: string, value: SettingValue): Promise<SettingValue> {
    const existing = await this.get(key);
    if (existing !== undefined) return existing;
    try {
      await this.insertRow(key, value);
    } catch (error) {
      // Seeded by another process at the same moment: theirs stands.
      if (!isInsertCollision(error)) throw error;
    }
    return (await this.get(key))!;
  }
}
