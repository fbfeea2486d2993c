/**
 * What the portal API tells a signed-in customer about themselves (`GET /api/v1/me` and the
 * login's answer). Only these fields: nothing of the lockout, the password or the session.
 */
import { inject, injectable } from 'inversify';
import { type CrmRecord, type FieldValue } from '../host-contract/index.js';
import { toNumber } from '../lifecycle/sql-values.js';
import type { PortalAccount } from './portal-account-store.js';
import { ProfileInForce } from './profile-in-force.js';

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
  constructor(@inject(ProfileInForce) private readonly profiles: ProfileInForce) {}

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

  /** The profile in force (`ProfileInForce`): none on version 1. */
  private async profileOf(account: PortalAccount): Promise<{ id: number; name: string } | null> {
    const row = await this.profiles.columns(account, ['id', 'name']);
    return row ? { id: toNumber(row.id), name: String(row.name) } : null;
  }
}
