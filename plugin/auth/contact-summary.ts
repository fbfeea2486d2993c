/**
 * What the portal API tells a signed-in customer about themselves (`GET /api/v1/me` and the
 * login's answer). Only these fields: nothing of the lockout, the password or the session.
 */
import { inject, injectable } from 'inversify';
import { QueryTypes } from 'sequelize';
import { HostDatabase, HostLicences, type CrmRecord, type FieldValue } from '../host-contract/index.js';
import { toNumber } from '../lifecycle/sql-values.js';
import { PORTAL_LICENCE } from '../profiles/profile-service.js';
import { PortalVersions } from '../settings/portal-version.js';
import type { PortalAccount } from './portal-account-store.js';

export interface PortalContactSummary {
  readonly id: number;
  readonly firstName: string;
  readonly lastName: string;
  readonly email: string;
  readonly accountId: number | null;
  readonly language: string | null;
  readonly profile: { readonly id: number; readonly name: string } | null;
  readonly mustChangePassword: boolean;
}

export const ContactSummaries = Symbol.for('business-portal.auth.ContactSummaries');
export interface ContactSummaries {
  summarize(account: PortalAccount, contact: CrmRecord): Promise<PortalContactSummary>;
}

function text(value: FieldValue | undefined): string {
  return typeof value === 'string' ? value : '';
}

@injectable()
export class CrmContactSummaries implements ContactSummaries {
  constructor(
    @inject(HostDatabase) private readonly database: HostDatabase,
    @inject(HostLicences) private readonly licences: HostLicences,
    @inject(PortalVersions) private readonly versions: PortalVersions,
  ) {}

  async summarize(account: PortalAccount, contact: CrmRecord): Promise<PortalContactSummary> {
    const accountId = contact.values.account_id;
    const language = account.language ?? (text(contact.values.language) || null);
    return {
      id: account.contactId,
      firstName: text(contact.values.firstname),
      lastName: text(contact.values.lastname),
      email: account.email,
      accountId: typeof accountId === 'number' ? accountId : null,
      language,
      profile: await this.profileOf(account),
      mustChangePassword: account.mustChangePassword,
    };
  }

  /**
   * The account's profile; contacts on no profile use the Default one, and so does everyone without
   * the licence. None on version 1: it has no profiles (the version 2 ones are kept, not in force).
   */
  private async profileOf(account: PortalAccount): Promise<{ id: number; name: string } | null> {
    if ((await this.versions.current()) === 1) return null;
    const own = account.profileId !== null && (await this.licences.has(PORTAL_LICENCE));
    const rows = await this.database.sequelize.query<{ id: unknown; name: unknown }>(
      !own
        ? 'SELECT id, name FROM bp_profiles WHERE is_default = :yes ORDER BY id ASC'
        : 'SELECT id, name FROM bp_profiles WHERE id = :id',
      { type: QueryTypes.SELECT, replacements: { id: account.profileId, yes: true } },
    );
    return rows[0] ? { id: toNumber(rows[0].id), name: String(rows[0].name) } : null;
  }
}
