/**
 * How the plugin's admin pages name a CRM user: by first and last name, else by user name; and,
 * where two people may share a name (a choice, an audit line), with the user name beside it.
 */
import type { CrmUser } from '../host-contract/index.js';

type Named = Pick<CrmUser, 'firstName' | 'lastName' | 'userName'>;

/** "Sara Bianchi", or "sara.support" for a user without a name. */
export function crmUserName(user: Named): string {
  return `${user.firstName} ${user.lastName}`.trim() || user.userName;
}

/** "Sara Bianchi (sara.support)", as the privileges page offers owners. */
export function crmUserLabel(user: Named): string {
  return `${crmUserName(user)} (${user.userName})`;
}
