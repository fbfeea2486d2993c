/**
 * Sending a contact the access details (portal address, login email, a generated password) after
 * the change that made them has committed: the one way both the admin's switch-on and an email
 * changed in the CRM send them, and say what became of them — sent, or not and why — so that the
 * admin's page and the login history never call details sent that did not leave.
 */
import type { HostLogger } from '../host-contract/index.js';
import type { PortalMailer } from '../notifications/portal-mailer.js';

/**
 * `sent`: the host took them for delivery (the mail server took them; a host before 1.10.0 may also
 * have kept them to try again without saying so). `kept_for_retry`: taken for delivery too, but the
 * mail server did not take them now: the host's mail queue keeps them to try again after the server's
 * failure of the moment (contract 1.10.0, `queued`), and they leave when it answers. Not sent:
 * `mail_failed` (the mail server refused them, or could not be reached on a host without a queue),
 * `no_template` (no email template for them is chosen or found), `no_email` (the contact's email was
 * no longer the one checked before the change when they were to leave: changed, removed or made
 * invalid since).
 */
export type AccessDetailsDelivery = 'sent' | 'kept_for_retry' | 'mail_failed' | 'no_template' | 'no_email';

/** Taken for delivery: now, or kept by the host to try again. */
export type AccessDetailsTaken = Extract<AccessDetailsDelivery, 'sent' | 'kept_for_retry'>;

export function taken(delivery: AccessDetailsDelivery): delivery is AccessDetailsTaken {
  return delivery === 'sent' || delivery === 'kept_for_retry';
}

/** Not sent, and the customer's own password kept (never replaced, or put back): the login history's reason. */
export type AccessDetailsKept = `${Exclude<AccessDetailsDelivery, AccessDetailsTaken>}_password_kept`;

export function passwordKept(delivery: Exclude<AccessDetailsDelivery, AccessDetailsTaken>): AccessDetailsKept {
  return `${delivery}_password_kept`;
}

/**
 * Whether access details to `email` could go now, sending nothing: `ready`, or the `no_template` /
 * `no_email` that `sendAccessDetails` would answer (whether the mail server takes them is known
 * only by sending). For a change that must not replace a password nobody can be told.
 */
export async function accessDetailsReadiness(mailer: PortalMailer, contactId: number, email: string): Promise<'ready' | 'no_template' | 'no_email'> {
  return mailer.readinessFor('registration', contactId, { onlyTo: email });
}

export async function sendAccessDetails(
  mailer: PortalMailer,
  logger: HostLogger,
  contactId: number,
  details: { readonly password: string; readonly email: string },
): Promise<AccessDetailsDelivery> {
  try {
    // Only to the address the change checked and the mail names as the login: one changed since
    // (another admin's save, the CRM) is not told a password for a login it is not.
    const outcome = await mailer.sendToContact('registration', contactId, { portal: { password: details.password, email: details.email } }, { onlyTo: details.email });
    // Without a transaction the mailer sends at once: `queued` is not an answer it gives here.
    return outcome === 'queued' ? 'sent' : outcome;
  } catch (error) {
    // The mail server's answer holds nothing of ours (never the password, which is not logged).
    logger.error('Business Portal: the access details could not be sent', { contactId, error: error instanceof Error ? error.message : String(error) });
    return 'mail_failed';
  }
}
