/**
 * What goes with a contact that leaves the CRM: its portal account, its sessions (remember-me
 * ones too), its password-reset links, sign-in codes and unlock links, its reminder records and
 * its login history, in one transaction. The history (events with client addresses) is personal
 * data that no page shows once the contact is gone (its pages answer 404), and a host that gives
 * a later contact the id would show it as that contact's (README: "Deleting a contact").
 *
 * An account whose contact left while nobody removed it (the deletion's listener failed, or the
 * contact was deleted while the plugin was inactive) is removed at the next activation
 * (`gone-contact-accounts.ts`), and before that when another contact wants its email
 * (`releaseEmailOfGone`): it holds that login for nobody, and no page shows it.
 */
import { QueryTypes } from 'sequelize';
import type { PortalAccountStore } from '../auth/portal-account-store.js';
import type { PortalSessions } from '../auth/portal-sessions.js';
import { HISTORY_TABLE } from '../auth/login-history.js';
import { UNLOCK_LINKS_TABLE } from '../auth/unlock-links.js';
import type { HostDatabase, HostLogger, HostRecords } from '../host-contract/index.js';
import { REMINDERS_TABLE } from './support-reminders.js';

/** Whether an account was removed, and how many sessions ended. */
export async function removePortalAccount(
  database: HostDatabase,
  accounts: PortalAccountStore,
  sessions: PortalSessions,
  contactId: number,
): Promise<{ readonly removed: boolean; readonly ended: number }> {
  let removed = false;
  let ended = 0;
  await database.sequelize.transaction(async (transaction) => {
    removed = await accounts.delete(contactId, { transaction });
    ended = await sessions.endAllFor(contactId, { transaction });
    // Nothing of the account outlives it: a host that gives a later contact this id must not
    // hand it a reset link, a code or an unlock link mailed to this one, nor show this one's
    // sign-ins and client addresses as its login history.
    await accounts.dropResetLinks(contactId, { transaction, twoFactor: true });
    for (const table of [UNLOCK_LINKS_TABLE, REMINDERS_TABLE, HISTORY_TABLE]) {
      await database.sequelize.query(`DELETE FROM ${table} WHERE contact_id = :contactId`, {
        type: QueryTypes.BULKDELETE,
        replacements: { contactId },
        transaction,
      });
    }
  });
  return { removed, ended };
}

/** Removes the enabled accounts of `email` other than `contactId`'s whose contact is no longer in the CRM. */
export async function releaseEmailOfGone(
  services: { readonly records: HostRecords; readonly database: HostDatabase; readonly accounts: PortalAccountStore; readonly sessions: PortalSessions; readonly logger: HostLogger },
  email: string,
  contactId: number,
): Promise<void> {
  for (const other of await services.accounts.findByEmail(email)) {
    if (!other.portalEnabled || other.contactId === contactId) continue;
    if (await services.records.get('Contacts', other.contactId)) continue;
    await removePortalAccount(services.database, services.accounts, services.sessions, other.contactId);
    services.logger.info('Business Portal: the portal account of a contact no longer in the CRM removed; its email is free again', { contactId: other.contactId });
  }
}
