/**
 * The audit of admin changes to profiles (`bp_profile_audit`): who, when, which action and
 * section, and the values before and after as JSON. Rows are written inside the transaction
 * of the change they describe, so a change that fails leaves no audit row either.
 */
import { inject, injectable } from 'inversify';
import { QueryTypes, type Transaction } from 'sequelize';
import { HostDatabase } from '../host-contract/index.js';
import { toIsoDateTime, toNumber } from '../lifecycle/sql-values.js';
import type { ProfileActor, ProfileSection } from './profile-document.js';

export const AUDIT_ACTIONS = ['create', 'duplicate', 'import', 'rename', 'delete', 'save'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEntry {
  readonly id: number;
  readonly profileId: number;
  readonly profileName: string;
  readonly userId: number | null;
  readonly userName: string | null;
  readonly action: AuditAction;
  readonly section: ProfileSection | null;
  readonly before: unknown;
  readonly after: unknown;
  /** ISO 8601, UTC. */
  readonly at: string;
}

export interface AuditRecord {
  readonly profileId: number;
  readonly profileName: string;
  readonly actor: ProfileActor;
  readonly action: AuditAction;
  readonly section?: ProfileSection;
  readonly before?: unknown;
  readonly after?: unknown;
}

const json = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));

function parse(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  try {
    return JSON.parse(String(value));
  } catch {
    return null;
  }
}

@injectable()
export class ProfileAudit {
  constructor(@inject(HostDatabase) private readonly database: HostDatabase) {}

  async record(entry: AuditRecord, transaction: Transaction): Promise<void> {
    await this.database.sequelize.getQueryInterface().bulkInsert(
      'bp_profile_audit',
      [
        {
          profile_id: entry.profileId,
          profile_name: entry.profileName,
          user_id: entry.actor.userId,
          user_name: entry.actor.userName.slice(0, 100),
          action: entry.action,
          section: entry.section ?? null,
          before_json: json(entry.before),
          after_json: json(entry.after),
          at: new Date(),
        },
      ],
      { transaction },
    );
  }

  /** The changes of a profile (deleted ones included), newest first, `limit` of them after the first `offset`. */
  list(profileId: number, limit = 200, offset = 0): Promise<readonly AuditEntry[]> {
    return this.select('profile_id = :profileId', { profileId }, limit, offset);
  }

  /** One change of a profile (deleted ones included); null when the profile has no such change. */
  async get(profileId: number, entryId: number): Promise<AuditEntry | null> {
    const [entry] = await this.select('profile_id = :profileId AND id = :entryId', { profileId, entryId }, 1, 0);
    return entry ?? null;
  }

  /** How many changes of a profile are recorded. */
  count(profileId: number): Promise<number> {
    return this.countWhere('profile_id = :profileId', { profileId });
  }

  /** The deletions of profiles, newest first (their profiles' pages are gone with them). */
  deletions(limit: number, offset = 0): Promise<readonly AuditEntry[]> {
    return this.select('action = :action', { action: 'delete' }, limit, offset);
  }

  deletionCount(): Promise<number> {
    return this.countWhere('action = :action', { action: 'delete' });
  }

  private async select(where: string, replacements: Record<string, unknown>, limit: number, offset: number): Promise<readonly AuditEntry[]> {
    const rows = await this.database.sequelize.query<Record<string, unknown>>(
      `SELECT id, profile_id, profile_name, user_id, user_name, action, section, before_json, after_json, at
         FROM bp_profile_audit WHERE ${where} ORDER BY at DESC, id DESC LIMIT :limit OFFSET :offset`,
      { type: QueryTypes.SELECT, replacements: { ...replacements, limit, offset } },
    );
    return rows.map((row) => ({
      id: toNumber(row.id),
      profileId: toNumber(row.profile_id),
      profileName: String(row.profile_name),
      userId: row.user_id === null || row.user_id === undefined ? null : toNumber(row.user_id),
      userName: row.user_name === null || row.user_name === undefined ? null : String(row.user_name),
      action: String(row.action) as AuditAction,
      section: row.section ? (String(row.section) as ProfileSection) : null,
      before: parse(row.before_json),
      after: parse(row.after_json),
      at: toIsoDateTime(row.at) ?? '',
    }));
  }

  private async countWhere(where: string, replacements: Record<string, unknown>): Promise<number> {
    const [row] = await this.database.sequelize.query<{ n: unknown }>(`SELECT COUNT(*) AS n FROM bp_profile_audit WHERE ${where}`, { type: QueryTypes.SELECT, replacements });
    return toNumber(row?.n);
  }
}
