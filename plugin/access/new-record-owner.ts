/**
 * The owner of a record a customer creates: the policy's (a profile's owner user or group, or
 * version 1's select user) while the CRM still has it. One the CRM no longer has (deleted since it
 * was chosen) would leave the record assigned to no one the CRM knows — no one would ever see the
 * customer's request — so the record is created as if no owner were chosen (the host's default)
 * and the host's log says which profile needs another owner. An inactive user still exists and
 * may be chosen (SPEC 2.2): they stay the owner.
 *
 * Asked only when a record is created (one look-up of the user or group); building a policy or a
 * context, which every page does, never looks the owner up.
 */
import type { CrmGroup, CrmUser, HostLogger, HostUsers, OwnerRef } from '../host-contract/index.js';
import type { AccessPolicy } from './access-policy.js';

export class NewRecordOwner {
  constructor(
    private readonly users: HostUsers,
    private readonly logger: HostLogger,
  ) {}

  /** The owner to give a new record of `module`; null: none (the host's default). */
  async of(policy: AccessPolicy, module: string): Promise<OwnerRef | null> {
    const owner = policy.owner;
    if (!owner) return null;
    const found: CrmUser | CrmGroup | null = owner.kind === 'user' ? await this.users.user(owner.id) : await this.users.group(owner.id);
    if (found) return owner;
    this.logger.warn('Business Portal: the owner chosen for records created from the portal no longer exists in the CRM; the record is created as with no owner chosen', {
      profileVersion: policy.source.version,
      profileId: policy.source.profileId,
      profileName: policy.source.profileName,
      ownerKind: owner.kind,
      ownerId: owner.id,
      module,
    });
    return null;
  }
}
