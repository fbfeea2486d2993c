/**
 * Whether a portal account may be signed in right now (SPEC §3): portal user on, not locked,
 * today within the support period in the CRM's time zone, and its contact still in the CRM.
 * The login asks it before checking a password; every authenticated request asks it again, so
 * switching the portal off, a support end or a deleted contact stop a session at once.
 */
import { inject, injectable } from 'inversify';
import { HostRecords, HostRegional, type CrmRecord } from '../host-contract/index.js';
import type { LoginReason } from './login-history.js';
import type { PortalAccount } from './portal-account-store.js';
import { todayIn, withinSupport } from './support-period.js';

export type IneligibleReason = Extract<LoginReason, 'portal_disabled' | 'locked' | 'outside_support' | 'contact_missing'>;

export type Eligibility = { readonly eligible: true; readonly contact: CrmRecord } | { readonly eligible: false; readonly reason: IneligibleReason };

export const AccountEligibility = Symbol.for('business-portal.auth.AccountEligibility');
export interface AccountEligibility {
  check(account: PortalAccount, now?: Date): Promise<Eligibility>;
}

@injectable()
export class PortalAccountEligibility implements AccountEligibility {
  constructor(
    @inject(HostRecords) private readonly records: HostRecords,
    @inject(HostRegional) private readonly regional: HostRegional,
  ) {}

  async check(account: PortalAccount, now: Date = new Date()): Promise<Eligibility> {
    if (!account.portalEnabled) return { eligible: false, reason: 'portal_disabled' };
    if (account.lockedAt !== null) return { eligible: false, reason: 'locked' };
    if (!withinSupport(todayIn(this.regional.timeZone(), now), account.supportStartDate, account.supportEndDate)) {
      return { eligible: false, reason: 'outside_support' };
    }
    const contact = await this.records.get('Contacts', account.contactId);
    if (!contact) return { eligible: false, reason: 'contact_missing' };
    return { eligible: true, contact };
  }
}
