/**
 * The portal accounts the Check Business Portal login page lists, read from the auth
 * capability's `bp_portal_accounts`: the locked ones, and those with failures that are not
 * locked yet. Read-only here: unlocking belongs with the lockout itself.
 *
 * The filter runs in SQL: words are matched in the contact's names and email by the host's
 * record query (which treats `%` and `_` literally), and the whole text in the portal login
 * email with `LIKE`, its wildcards escaped, as a bound parameter.
 */
import { inject, injectable } from 'inversify';
import { QueryTypes } from 'sequelize';
import { HostDatabase, HostModuleRegistry, HostRecords, type RecordCondition } from '../host-contract/index.js';
import { toIsoDateTime, toNumber } from '../lifecycle/sql-values.js';
import { personName } from '../access/record-names.js';

/** The longest filter text the page accepts. */
export const MAX_FILTER_LENGTH = 100;
/** At most this many rows per list (the page says how to narrow it down with the filter). */
export const MAX_LISTED = 500;
/** Accounts whose contacts are searched by name in one host query (the host takes at most 1000 ids in an `in` list). */
const CANDIDATE_CHUNK = 1000;
/** At most this many contacts found by name (the list then shows the `MAX_LISTED` most recent of them). */
const MAX_NAMED = MAX_LISTED * 10;

export interface ListedAccount {
  readonly contactId: number;
  /** The contact's name, or null when the contact is gone. */
  readonly contactName: string | null;
  readonly email: string;
  readonly failedAttempts: number;
  /** ISO 8601, UTC. */
  readonly firstAttemptAt: string | null;
  readonly lastAttemptAt: string | null;
  /** The client address of the last failure. */
  readonly lastAttemptFrom: string | null;
  readonly lockedAt: string | null;
}

/** One list of the page: at most `MAX_LISTED` accounts, and whether more match than it holds. */
export interface ListedAccounts {
  readonly accounts: readonly ListedAccount[];
  readonly more: boolean;
}

export interface AccountFilter {
  /** Contact name or email, already trimmed; empty or absent: every account. */
  readonly search?: string;
}

export const LockedAccounts = Symbol.for('business-portal.LockedAccounts');
export interface LockedAccounts {
  /** Locked accounts, most recently locked first. */
  list(filter?: AccountFilter): Promise<ListedAccounts>;
  /** Accounts with failures since their last success that are not locked, most recent failure first. */
  recentFailures(filter?: AccountFilter): Promise<ListedAccounts>;
  /** The names of the contacts `ids` that still exist ("First Last"), for the page's audit of unlocks. */
  contactNames(ids: readonly number[]): Promise<ReadonlyMap<number, string>>;
}

type AccountRow = Record<'contact_id' | 'email' | 'failed_attempts' | 'first_failed_at' | 'last_failed_at' | 'last_failed_ip' | 'locked_at', unknown>;

/** `50%_off!` → `50!%!_off!!`, for `LIKE … ESCAPE '!'` (a backslash would need escaping differently per dialect). */
export function escapeLike(text: string): string {
  return text.replace(/[!%_]/g, (character) => `!${character}`);
}

const NAME_FIELDS = ['firstname', 'lastname', 'email'] as const;

const STATUS = {
  locked: { where: 'locked_at IS NOT NULL', order: 'locked_at DESC, contact_id ASC' },
  failing: { where: 'locked_at IS NULL AND failed_attempts > 0', order: 'last_failed_at DESC, contact_id ASC' },
} as const;

@injectable()
export class SequelizeLockedAccounts implements LockedAccounts {
  constructor(
    @inject(HostDatabase) private readonly database: HostDatabase,
    @inject(HostRecords) private readonly records: HostRecords,
    @inject(HostModuleRegistry) private readonly modules: HostModuleRegistry,
  ) {}

  list(filter: AccountFilter = {}): Promise<ListedAccounts> {
    return this.select('locked', filter);
  }

  recentFailures(filter: AccountFilter = {}): Promise<ListedAccounts> {
    return this.select('failing', filter);
  }

  private async select(status: keyof typeof STATUS, filter: AccountFilter): Promise<ListedAccounts> {
    const { where, order } = STATUS[status];
    const search = (filter.search ?? '').trim().toLowerCase().normalize('NFC').slice(0, MAX_FILTER_LENGTH);
    // Bound, not spliced into the SQL text: the database gets the filter as a value, whatever it holds.
    const bind: Record<string, unknown> = {};
    let condition: string = where;
    if (search !== '') {
      const named = await this.contactsNamed(search, where);
      bind.pattern = `%${escapeLike(search)}%`;
      named.forEach((id, index) => (bind[`named${index}`] = id));
      const byName = named.length > 0 ? ` OR contact_id IN (${named.map((_, index) => `$named${index}`).join(', ')})` : '';
      condition = `${where} AND (LOWER(email) LIKE $pattern ESCAPE '!'${byName})`;
    }
    // One row more than is listed: it only tells that there are more.
    const found = await this.database.sequelize.query<AccountRow>(
      `SELECT contact_id, email, failed_attempts, first_failed_at, last_failed_at, last_failed_ip, locked_at
         FROM bp_portal_accounts WHERE ${condition} ORDER BY ${order} LIMIT ${MAX_LISTED + 1}`,
      { type: QueryTypes.SELECT, bind },
    );
    const rows = found.slice(0, MAX_LISTED);
    const names = await this.contactNames(rows.map((row) => toNumber(row.contact_id)));
    const accounts = rows.map((row) => {
      const contactId = toNumber(row.contact_id);
      return {
        contactId,
        contactName: names.get(contactId) ?? null,
        email: String(row.email ?? ''),
        failedAttempts: toNumber(row.failed_attempts),
        firstAttemptAt: toIsoDateTime(row.first_failed_at),
        lastAttemptAt: toIsoDateTime(row.last_failed_at),
        lastAttemptFrom: row.last_failed_ip ? String(row.last_failed_ip) : null,
        lockedAt: toIsoDateTime(row.locked_at),
      };
    });
    return { accounts, more: found.length > MAX_LISTED };
  }

  /**
   * The contacts, among the accounts in this status, whose names or email hold every word of the
   * search (each word in any of those fields), found by the host in SQL. The accounts are read
   * `CANDIDATE_CHUNK` at a time (the host's limit of an `in` list), every one of them — a CRM with
   * thousands of locked users finds the last one too — until `MAX_NAMED` contacts match.
   */
  private async contactsNamed(search: string, where: string): Promise<number[]> {
    const contacts = this.modules.module('Contacts');
    if (!contacts) return [];
    const fields = NAME_FIELDS.filter((name) => contacts.fields.some((field) => field.name === name));
    if (fields.length === 0) return [];
    const words = search.split(/\s+/).filter((word) => word !== '').slice(0, 10);
    const named: number[] = [];
    for (let after = 0; named.length < MAX_NAMED; ) {
      const candidates = await this.database.sequelize.query<{ contact_id: unknown }>(
        `SELECT contact_id FROM bp_portal_accounts WHERE ${where} AND contact_id > $after ORDER BY contact_id LIMIT ${CANDIDATE_CHUNK}`,
        { type: QueryTypes.SELECT, bind: { after } },
      );
      if (candidates.length === 0) break;
      const ids = candidates.map((row) => toNumber(row.contact_id));
      const matches: RecordCondition = {
        and: [
          { field: 'id', op: 'in', value: ids },
          ...words.map((word): RecordCondition => ({ or: fields.map((field): RecordCondition => ({ field, op: 'contains', value: word })) })),
        ],
      };
      const page = await this.records.query('Contacts', { where: matches, fields: [contacts.labelField], limit: MAX_NAMED - named.length });
      named.push(...page.rows.map((record) => record.id));
      if (candidates.length < CANDIDATE_CHUNK) break;
      after = ids[ids.length - 1]!;
    }
    return named;
  }

  /** "First Last" where the module has those fields, else its label field. */
  async contactNames(ids: readonly number[]): Promise<Map<number, string>> {
    const contacts = this.modules.module('Contacts');
    if (!contacts || ids.length === 0) return new Map();
    const has = (name: string) => contacts.fields.some((field) => field.name === name);
    const fields = [...new Set([contacts.labelField, ...(['firstname', 'lastname'] as const).filter(has)])];
    const page = await this.records.query('Contacts', {
      where: { field: 'id', op: 'in', value: [...new Set(ids)] },
      fields,
      limit: ids.length,
    });
    return new Map(
      page.rows.map((record) => {
        return [record.id, personName(record.values) || String(record.values[contacts.labelField] ?? '')];
      }),
    );
  }
}
