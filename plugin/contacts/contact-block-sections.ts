/**
 * The Business Portal block on the CRM's Contact record is made of sections, each from its own
 * capability (multi-bound under `ContactBlockSection`): the login history today, the portal-user
 * fields (portal user, profile, support dates) beside it. The block shows them by `order`.
 */
import type { RecordBlockContext } from '../host-contract/index.js';

export const ContactBlockSection = Symbol.for('business-portal.contacts.ContactBlockSection');
export interface ContactBlockSection {
  /** Stable and unique, e.g. `login-history`; also the section's anchor in the page. */
  readonly id: string;
  /** Lower comes first. */
  readonly order: number;
  /** Trusted markup rendered with escaping templates, in `context.language`. */
  render(context: RecordBlockContext): Promise<string>;
}
