/**
 * Portal profiles (version 2): a store interface and its Sequelize implementation over
 * `bp_profiles`. The number of contacts per profile counts the portal accounts that are
 * switched on (`bp_portal_accounts`, the auth capability's table).
 */
import { inject, injectable } from 'inversify';
import { QueryTypes, type Transaction } from 'sequelize';
import { isInsertCollision } from '../lifecycle/insert-collision.js';
import { HostDatabase } from '../host-contract/index.js';
import { toBoolean, toIsoDateTime, toNumber } from '../lifecycle/sql-values.js';

export interface PortalProfile {
  readonly id: number;
  readonly name: string;
  readonly description: string;
  readonly isDefault: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Incremented by every change (optimistic locking). */
  readonly version: number;
}

export interface ProfileSummary extends PortalProfile {
  /** Contacts whose portal access is on and that use the profile. */
  readonly contactCount: number;
}

export const DEFAULT_PROFILE_NAME = 'Default';
export const DEFAULT_PROFILE_DESCRIPTION = 'The profile of every portal contact that has no other one.';

export const ProfileStore = Symbol.for('business-portal.ProfileStore');
export interface ProfileStore {
  /** Every profile with its number of contacts, Default first, then by name. */
  list(options?: { transaction?: Transaction }): Promise<readonly ProfileSummary[]>;
  get(id: number, options?: { transaction?: Transaction }): Promise<PortalProfile | null>;
  /** The Default profile (seeded at install; an error if it is missing). */
  defaultProfile(options?: { transaction?: Transaction }): Promise<PortalProfile>;
  /** Creates the Default profile when it is missing; safe when several processes install at once. */
  ensureDefault(): Promise<PortalProfile>;
}

const columns = 'p.id, p.name, p.description, p.is_default, p.created_at, p.updated_at, p.version';

interface ProfileRow {
  id: unknown;
  name: unknown;
  description: unknown;
  is_default: unknown;
  created_at: unknown;
  updated_at: unknown;
  version: unknown;
  contact_count?: unknown;
}

function toProfile(row: ProfileRow): PortalProfile {
  return {
    id: toNumber(row.id),
    name: String(row.name),
    description: String(row.description ?? ''),
    isDefault: toBoolean(row.is_default),
    createdAt: toIsoDateTime(row.created_at) ?? '',
    updatedAt: toIsoDateTime(row.updated_at) ?? '',
    version: toNumber(row.version),
  };
}

@injectable()
export class SequelizeProfileStore implements ProfileStore {
  constructor(@inject(HostDatabase) private readonly database: HostDatabase) {}

  private get sequelize() {
    return this.database.sequelize;
  }

  async list(options: { transaction?: Transaction } = {}): Promise<readonly ProfileSummary[]> {
    const rows = await this.sequelize.query<ProfileRow>(
      `SELECT ${columns}, COUNT(a.id) AS contact_count
         FROM bp_profiles p LEFT JOIN bp_portal_accounts a ON a.profile_id = p.id AND a.portal_enabled = :yes
        GROUP BY ${columns}
        ORDER BY p.is_default DESC, p.name ASC`,
      { type: QueryTypes.SELECT, replacements: { yes: true }, transaction: options.transaction },
    );
    return rows.map((row) => ({ ...toProfile(row), contactCount: toNumber(row.contact_count) }));
  }

  async get(id: number, options: { transaction?: Transaction } = {}): Promise<PortalProfile | null> {
    if (!Number.isSafeInteger(id) || id <= 0) return null;
    const [row] = await this.sequelize.query<ProfileRow>(`SELECT ${columns} FROM bp_profiles p WHERE p.id = :id`, {
      type: QueryTypes.SELECT,
      replacements: { id },
      transaction: options.transaction,
    });
    return row ? toProfile(row) : null;
  }

  async defaultProfile(options: { transaction?: Transaction } = {}): Promise<PortalProfile> {
    const profile = await this.findDefault(options.transaction);
    if (!profile) throw new Error('Business Portal: the Default profile is missing (was the plugin installed?)');
    return profile;
  }

  async ensureDefault(): Promise<PortalProfile> {
    const existing = await this.findDefault();
    if (existing) return existing;
    const now = new Date();
    try {
      await this.sequelize.query(
        `INSERT INTO bp_profiles (name, description, is_default, created_at, updated_at, version)
         VALUES (:name, :description, :isDefault, :now, :now, 1)`,
        {
          type: QueryTypes.INSERT,
          replacements: { name: DEFAULT_PROFILE_NAME, description: DEFAULT_PROFILE_DESCRIPTION, isDefault: true, now },
        },
      );
    } catch (error) {
      // Another process seeded it at the same moment: the unique name stopped the duplicate.
      if (!isInsertCollision(error)) throw error;
    }
    return this.defaultProfile();
  }

  private async findDefault(transaction?: Transaction): Promise<PortalProfile | null> {
    const [row] = await this.sequelize.query<ProfileRow>(
      `SELECT ${columns} FROM bp_profiles p WHERE p.is_default = :yes ORDER BY p.id ASC`,
      { type: QueryTypes.SELECT, replacements: { yes: true }, transaction },
    );
    return row ? toProfile(row) : null;
  }
}
