/**
 * Which profile applies to a portal account now — one rule for every reader outside the access
 * layer (the contact summary of `GET /me`, the second factor at sign-in and on every signed-in
 * request): none on version 1, which has no profiles (the version 2 ones are kept beside it, not in
 * force); the account's own profile when it has one and the CRM holds the licence; else the Default
 * profile (SPEC §2.3: without the licence only Default exists, another profile a contact was given
 * stays stored, inert). Read at each call, so a version switch, a licence change or a profile given
 * through any host process applies at once. The access layer applies the same rule to its cached
 * policies (`access-policies.ts`).
 */
import { inject, injectable } from 'inversify';
import { QueryTypes } from 'sequelize';
import { HostDatabase, HostLicences } from '../host-contract/index.js';
import { PORTAL_LICENCE } from '../profiles/profile-service.js';
import { PORTAL_VERSION_SETTING, PortalVersions } from '../settings/portal-version.js';
import type { PortalAccount } from './portal-account-store.js';

/** Columns of `bp_profiles` a reader may ask for (names only: they go into the statement). */
export type ProfileColumn = 'id' | 'name' | 'two_factor_type' | 'two_factor_fallback';

/** A profile's two-factor type that asks for no second factor (an empty or missing one asks for none either). */
export const NO_SECOND_FACTOR = 'none';

/** A stored `two_factor_type` (or fallback) as the sign-in reads it: empty or missing is `none`. */
export function twoFactorTypeOf(value: unknown): string {
  return typeof value === 'string' && value !== '' ? value : NO_SECOND_FACTOR;
}

/**
 * What `asksForSecondFactor` needs, read with the session's row (`sessionColumns`): the stored
 * portal version, and the two-factor type of the account's own profile and of Default.
 */
export type SecondFactorValues = {
  readonly pif_portal_version?: unknown;
  readonly pif_own_two_factor?: unknown;
  readonly pif_default_two_factor?: unknown;
};

@injectable()
export class ProfileInForce {
  /**
   * Scalar subqueries for the session lookup (`SessionCompanionColumns`' form; the account is `a`):
   * every signed-in request learns whether its profile asks for a second factor without a
   * statement of its own.
   */
  readonly sessionColumns: { readonly sql: string; readonly replacements: Readonly<Record<string, unknown>> };

  constructor(
    @inject(HostDatabase) private readonly database: HostDatabase,
    @inject(HostLicences) private readonly licences: HostLicences,
    @inject(PortalVersions) private readonly versions: PortalVersions,
  ) {
    // `key` is a reserved word in MariaDB: always quoted.
    const key = database.sequelize.getQueryInterface().quoteIdentifier('key');
    this.sessionColumns = {
      sql: `(SELECT pv.value FROM bp_settings pv WHERE pv.${key} = :pifVersionSetting) AS pif_portal_version,
    (SELECT po.two_factor_type FROM bp_profiles po WHERE po.id = a.profile_id) AS pif_own_two_factor,
    (SELECT pd.two_factor_type FROM bp_profiles pd WHERE pd.is_default = :pifYes ORDER BY pd.id LIMIT 1) AS pif_default_two_factor`,
      replacements: { pifVersionSetting: PORTAL_VERSION_SETTING, pifYes: true },
    };
  }

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

  /**
   * Whether the profile in force asks for a second factor (its primary type is not `none`, as at
   * sign-in), from the values `sessionColumns` read. The licence is asked only when it decides:
   * the account has a profile of its own whose type differs from Default's.
   */
  async asksForSecondFactor(account: Pick<PortalAccount, 'profileId'>, values: SecondFactorValues): Promise<boolean> {
    if (this.versions.fromStored(typeof values.pif_portal_version === 'string' ? values.pif_portal_version : null) === 1) return false;
    const byDefault = twoFactorTypeOf(values.pif_default_two_factor) !== NO_SECOND_FACTOR;
    if (account.profileId === null) return byDefault;
    // Its own profile, gone, asks for none (as `columns` finds no row at sign-in).
    const own = twoFactorTypeOf(values.pif_own_two_factor) !== NO_SECOND_FACTOR;
    if (own === byDefault) return own;
    return (await this.licences.has(PORTAL_LICENCE)) ? own : byDefault;
  }
}
