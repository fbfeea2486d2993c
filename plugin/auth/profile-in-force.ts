/**
 * Which profile applies to a portal account now — one rule for every reader outside the access
 * layer (the contact summary of `GET /me`, the second factor at sign-in): none on version 1, which
 * has no profiles (the version 2 ones are kept beside it, not in force); the account's own profile
 * when it has one and the CRM holds the licence; else the Default profile (SPEC §2.3: without the
 * licence only Default exists, another profile a contact was given stays stored, inert). Read at
 * each call, so a version switch, a licence change or a profile given through any host process
 * applies at once. The access layer applies the same rule to its cached policies
 * (`access-policies.ts`).
 */
import { inject, injectable } from 'inversify';
import { QueryTypes } from 'sequelize';
import { HostDatabase, HostLicences } from '../host-contract/index.js';
import { PORTAL_LICENCE } from '../profiles/profile-service.js';
import { PortalVersions } from '../settings/portal-version.js';
import type { PortalAccount } from './portal-account-store.js';

/** Columns of `bp_profiles` a reader may ask for (names only: they go into the statement). */
export type ProfileColumn = 'id' | 'name' | 'two_factor_type' | 'two_factor_fallback';

@injectable()
export class ProfileInForce {
  constructor(
    @inject(HostDatabase) private readonly database: HostDatabase,
    @inject(HostLicences) private readonly licences: HostLicences,
    @inject(PortalVersions) private readonly versions: PortalVersions,
  ) {}

  /** The columns of the profile in force for the account, or null (version 1, or no such profile). */
  async columns<C extends ProfileColumn>(account: Pick<PortalAccount, 'profileId'>, columns: readonly C[]): Promise<Record<C, unknown> | null> {
    if ((await this.versions.current()) === 1) return null;
    const own = account.profileId !== null && (await this.licences.has(PORTAL_LICENCE));
    const list = columns.join(', ');
    const rows = await this.database.sequelize.query<Record<C, unknown>>(
      own ? `SELECT ${list} FROM bp_profiles WHERE id = :id` : `SELECT ${list} FROM bp_profiles WHERE is_default = :yes ORDER BY id ASC`,
      { type: QueryTypes.SELECT, replacements: { id: account.profileId, yes: true } },
    );
    return rows[0] ?? null;
  }
}
