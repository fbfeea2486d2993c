/**
 * Portal users locked after repeated failed logins, read from the auth capability's
 * `bp_portal_accounts`. Read-only here: unlocking belongs with the lockout itself.
 */
import { inject, injectable } from 'inversify';
import { QueryTypes } from 'sequelize';
import { HostDatabase, HostModuleRegistry, HostRecords } from '../host-contract/index.js';
import { toIsoDateTime, toNumber } from '../lifecycle/sql-values.js';

export interface LockedAccount {
  readonly contactId: number;
  /** The contact's label (its module's label field), or null when the contact is gone. */
  readonly contactName: string | null;
  readonly email: string;
  readonly failedAttempts: number;
  /** ISO 8601, UTC. */
  readonly lastAttemptAt: string | null;
  /** The client address of the last failure. */
  readonly lastAttemptFrom: string | null;
  readonly lockedAt: string | null;
}

export const LockedAccounts = Symbol.for('business-portal.LockedAccounts');
export interface LockedAccounts {
  /** Locked accounts, most recently locked first. */
  list(): Promise<readonly LockedAccount[]>;
}

interface LockedRow {
  contact_id: unknown;
  email: unknown;
  failed_attempts: unknown;
  last_failed_at: unknown;
  last_failed_ip: unknown;
  locked_at: unknown;
}

@injectable()
export class SequelizeLockedAccounts implements LockedAccounts {
  constructor(
    @inject(HostDatabase) private readonly database: HostDatabase,
    @inject(HostRecords) private readonly records: HostRecords,
    @inject(HostModuleRegistry) private readonly modules: HostModuleRegistry,
  ) {}

  async list(): Promise<readonly LockedAccount[]> {
    const rows = await this.database.sequelize.query<LockedRow>(
      `SELECT contact_id, email, failed_attempts, last_failed_at, last_failed_ip, locked_at
         FROM bp_portal_accounts WHERE locked_at IS NOT NULL ORDER BY locked_at DESC, contact_id ASC`,
      { type: QueryTypes.SELECT },
    );
    const names = await this.contactNames(rows.map((row) => toNumber(row.contact_id)));
    return rows.map((row) => {
      const contactId = toNumber(row.contact_id);
      return {
        contactId,
        contactName: names.get(contactId) ?? null,
        email: String(row.email ?? ''),
        failedAttempts: toNumber(row.failed_attempts),
        lastAttemptAt: toIsoDateTime(row.last_failed_at),
        lastAttemptFrom: row.last_failed_ip ? String(row.last_failed_ip) : null,
        lockedAt: toIsoDateTime(row.locked_at),
      };
    });
  }

  private async contactNames(ids: readonly number[]): Promise<Map<number, string>> {
    const contacts = this.modules.module('Contacts');
    if (!contacts || ids.length === 0) return new Map();
    const page = await this.records.query('Contacts', {
      where: { field: 'id', op: 'in', value: [...new Set(ids)] },
      fields: [contacts.labelField],
      limit: ids.length,
    });
    return new Map(page.rows.map((record) => [record.id, String(record.values[contacts.labelField] ?? '')]));
  }
}
