/**
 * Keeps portal accounts in step with their CRM contacts while the plugin is active (host events
 * `record.updated` and `record.deleted` on Contacts):
 *
 * - The contact's email changed: the account's login email follows. When the account is a
 *   portal user and the access details can go to the new address, it gets a new generated
 *   password (to change at the first sign-in), every session of the old credentials ends, and the
 *   access details go to the new address. When they cannot (no template for them, or the contact's
 *   email changed again meanwhile), or the mail server refuses them, the customer keeps their own
 *   password and signs in with the new email (see `follow`). A locked account whose new access
 *   details left is unlocked (the lock protected the password replaced), and the failures counted
 *   against that password on one not locked are forgotten; one whose password was kept stays
 *   locked, its count as it was. Whatever becomes of the password, the unlock links mailed before
 *   the change die with it: they went to an address that is no longer the contact's (a customer
 *   still locked is unlocked by an admin on the Check Business Portal login page). An email
 *   removed or made unusable switches the portal user off (an account cannot sign in without
 *   one) and ends its sessions. So does an email that is already another portal user's login
 *   (two enabled accounts with one email could neither sign in).
 * - The contact's language changed: the account's language follows (mails already use the
 *   contact's).
 * - The contact was deleted: its portal account, sessions, password-reset links, sign-in codes,
 *   unlock links, reminder records and login history are removed.
 *
 * Idempotent, for hosts with several processes (or events delivered twice): each step compares
 * with what is stored and writes with the account's version, so a second delivery of the same
 * change finds nothing left to do and sends nothing.
 */
import { inject, injectable } from 'inversify';
import { Lockout } from '../auth/lockout.js';
import { LoginHistory } from '../auth/login-history.js';
import { PasswordHasher } from '../auth/password-hasher.js';
import { PortalAccountStore, StalePortalAccountError, type PortalAccount } from '../auth/portal-account-store.js';
import { PortalSessions } from '../auth/portal-sessions.js';
import { UnlockLinks } from '../auth/unlock-links.js';
import { HostDatabase, HostLogger, HostRecords, type CrmRecord, type RecordEvents, type Unsubscribe } from '../host-contract/index.js';
import type { LifecycleContribution } from '../lifecycle/contributions.js';
import { PortalMailer } from '../notifications/portal-mailer.js';
import { accessDetailsReadiness, passwordKept, sendAccessDetails, taken } from './access-details.js';
import { releaseEmailOfGone, removePortalAccount } from './account-removal.js';
import { generatePortalPassword } from './generated-password.js';
import { contactLanguage, mailableEmail } from './portal-user-settings.js';

/** How often a change lost to a concurrent writer is retried against the fresh account. */
const ATTEMPTS = 3;

@injectable()
export class ContactRecordListeners implements LifecycleContribution {
  private readonly unsubscribes: Unsubscribe[] = [];

  constructor(
    @inject(HostRecords) private readonly records: HostRecords,
    @inject(HostDatabase) private readonly database: HostDatabase,
    @inject(HostLogger) private readonly logger: HostLogger,
    @inject(PortalAccountStore) private readonly accounts: PortalAccountStore,
    @inject(PasswordHasher) private readonly hasher: PasswordHasher,
    @inject(PortalSessions) private readonly sessions: PortalSessions,
    @inject(LoginHistory) private readonly history: LoginHistory,
    @inject(PortalMailer) private readonly mailer: PortalMailer,
    @inject(Lockout) private readonly lockout: Lockout,
    @inject(UnlockLinks) private readonly unlockLinks: UnlockLinks,
  ) {}

  async onActivate(): Promise<void> {
    this.unsubscribes.push(
      this.records.on('record.updated', (payload) => (payload.record.module === 'Contacts' ? this.logged('record.updated', () => this.contactUpdated(payload)) : undefined)),
      this.records.on('record.deleted', (payload) => (payload.record.module === 'Contacts' ? this.logged('record.deleted', () => this.contactDeleted(payload.record.id)) : undefined)),
    );
  }

  /**
   * Runs a listener's work and logs its failure instead of rejecting: the contract lets a host call
   * listeners without awaiting or catching them, where a rejection would be unhandled. Still a
   * promise, so a host that awaits its listeners (the reference host does) waits for the work.
   */
  private async logged(event: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.logger.error('Business Portal: keeping a portal account in step with its contact failed', { event, error: error instanceof Error ? error.message : String(error) });
    }
  }

  async onDeactivate(): Promise<void> {
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
  }

  /** Public for tests: what a `record.updated` of a contact does. */
  async contactUpdated({ record }: Pick<RecordEvents['record.updated'], 'record'>): Promise<void> {
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      // Most contacts have no portal account: nothing more to read for them.
      const account = await this.accounts.findByContactId(record.id);
      if (!account) return;
      // The event's record may be older than the contact now: act on what the CRM holds.
      const contact = await this.records.get('Contacts', record.id);
      if (!contact) return;
      try {
        await this.follow(contact, account);
        return;
      } catch (error) {
        if (!(error instanceof StalePortalAccountError) || attempt === ATTEMPTS) throw error;
      }
    }
  }

  /** Public for tests: what a `record.deleted` of a contact does. */
  async contactDeleted(contactId: number): Promise<void> {
    const { removed, ended } = await removePortalAccount(this.database, this.accounts, this.sessions, contactId);
    if (removed || ended > 0) this.logger.info('Business Portal: contact deleted; its portal account and sessions removed', { contactId, sessionsEnded: ended });
  }

  private async follow(contact: CrmRecord, account: PortalAccount): Promise<void> {
    const email = mailableEmail(contact);
    const language = contactLanguage(contact);
    if (email === account.email) {
      if (language !== account.language) await this.accounts.update(contact.id, { language }, { expectedVersion: account.version });
      return;
    }
    if (email === null) {
      // The login email stays as it was (an account needs one); the portal user is switched off.
      if (!account.portalEnabled && language === account.language) return;
      await this.database.sequelize.transaction(async (transaction) => {
        await this.accounts.update(contact.id, { portalEnabled: false, language }, { transaction, expectedVersion: account.version });
        await this.sessions.endAllFor(contact.id, { transaction });
        await this.unlockLinks.revokeFor(contact.id, { transaction });
        if (account.portalEnabled) await this.history.record({ event: 'disabled', contactId: contact.id, email: account.email, reason: 'email_removed', ip: null }, { transaction });
      });
      this.logger.warn('Business Portal: the contact has no usable email any more; portal user switched off', { contactId: contact.id });
      return;
    }
    if (!account.portalEnabled) {
      await this.database.sequelize.transaction(async (transaction) => {
        await this.accounts.update(contact.id, { email, language }, { transaction, expectedVersion: account.version });
        await this.unlockLinks.revokeFor(contact.id, { transaction });
      });
      this.logger.info('Business Portal: the contact’s email changed; portal login email updated', { contactId: contact.id });
      return;
    }
    await releaseEmailOfGone({ records: this.records, database: this.database, accounts: this.accounts, sessions: this.sessions, logger: this.logger }, email, contact.id);
    if (await this.accounts.emailInUseByAnother(email, contact.id)) {
      // Another portal user signs in with this address: sharing it would lock both out (the login
      // refuses an email several enabled accounts share). This one is switched off instead, its
      // login email left as it was; the contact block says why, and turning it on again is refused
      // until the contact has an address of their own.
      await this.database.sequelize.transaction(async (transaction) => {
        await this.accounts.update(contact.id, { portalEnabled: false, language }, { transaction, expectedVersion: account.version });
        await this.sessions.endAllFor(contact.id, { transaction });
        await this.unlockLinks.revokeFor(contact.id, { transaction });
        await this.history.record({ event: 'disabled', contactId: contact.id, email: account.email, reason: 'email_in_use', ip: null }, { transaction });
      });
      this.logger.warn('Business Portal: the contact’s new email is another portal user’s login; portal user switched off', { contactId: contact.id });
      return;
    }
    // The new login is told a new password, or its password is not touched. Replacing it when the
    // access details cannot go (no template for them is chosen or found, the contact's email is no
    // longer the one read) would lock the customer out with a password nobody knows. So then only
    // the login name changes: the customer signs in with the new email and the password they have,
    // and their sessions go on — they were opened with that password, which still holds, and ending
    // them would only make the customer sign in again with the same one. What was mailed to the
    // old address for this login (password-reset links, sign-in codes, unlock links) is dropped, as when the
    // password is replaced. The login history (the contact block) and the host's log
    // say that nothing was sent, why, and that the password was kept.
    const readiness = await accessDetailsReadiness(this.mailer, contact.id, email);
    if (readiness !== 'ready') {
      await this.database.sequelize.transaction(async (transaction) => {
        await this.accounts.update(contact.id, { email, language }, { transaction, expectedVersion: account.version });
        await this.accounts.dropResetLinks(contact.id, { transaction, twoFactor: true });
        await this.unlockLinks.revokeFor(contact.id, { transaction });
        await this.history.record({ event: 'access_sent', contactId: contact.id, email, reason: passwordKept(readiness), ip: null }, { transaction });
      });
      this.logger.info(`Business Portal: the contact’s email changed; new access details not sent (${readiness}); the password kept`, { contactId: contact.id });
      return;
    }
    const password = generatePortalPassword();
    const passwordHash = await this.hasher.hash(password);
    let previous: { passwordHash: string | null; mustChange: boolean } = { passwordHash: null, mustChange: account.mustChangePassword };
    await this.database.sequelize.transaction(async (transaction) => {
      // Written with the version read: the password and the must-change flag read here are still the account's.
      await this.accounts.update(contact.id, { email, language }, { transaction, expectedVersion: account.version });
      previous = { passwordHash: await this.accounts.passwordHash(contact.id, { transaction }), mustChange: account.mustChangePassword };
      await this.accounts.setPassword(contact.id, passwordHash, { mustChange: true, transaction });
      await this.accounts.dropResetLinks(contact.id, { transaction });
      await this.unlockLinks.revokeFor(contact.id, { transaction });
      await this.sessions.endAllFor(contact.id, { transaction });
    });
    // Sent once the change has committed, and only then written to the login history as sent or
    // not and why (the reasons the admin's switch-on names): the contact block must not say that
    // access details left when the mail server refused them, no template made them, or the
    // contact's email was gone by then.
    const delivery = await sendAccessDetails(this.mailer, this.logger, contact.id, { password, email });
    // Kept by the host to try again counts as taken (the password mailed is the one that will work);
    // the history says they wait for the mail server rather than that they were sent.
    if (taken(delivery)) {
      // A lock protected the password just replaced: the access details that left must work, so a
      // locked account is unlocked now, as an admin's switch-on does, with the same unlock (its
      // count cleared, its unlock links dead, the login history saying why). Not before the mail
      // left: when they do not leave the customer's own password is put back, and the lock that
      // protects it stays as it was. Only while the password is still the one mailed (another one
      // set since is that write's business), and in one transaction with the history row, so a
      // failed save leaves the account locked (an admin unlocks it on the login-check page).
      let unlocked = false;
      await this.database.sequelize.transaction(async (transaction) => {
        await this.history.record({ event: 'access_sent', contactId: contact.id, email, reason: delivery === 'kept_for_retry' ? 'kept_for_retry' : 'email_changed', ip: null }, { transaction });
        if (await this.accounts.holdPassword(contact.id, passwordHash, { transaction })) {
          unlocked = await this.lockout.unlockForNewAccessDetails(contact.id, { transaction });
          // Not locked: the failures counted against the password replaced do not count against the one mailed.
          if (!unlocked) await this.lockout.forgetFailures(contact.id, { transaction });
        }
      });
      const sent = delivery === 'kept_for_retry' ? 'kept by the host to be sent when the mail server answers' : 'sent';
      this.logger.info(`Business Portal: the contact’s email changed; new access details ${sent}${unlocked ? '; the locked account unlocked' : ''}`, { contactId: contact.id });
      return;
    }
    // They did not leave (the mail server refused them, or the template or the email went away
    // since the check above): nobody knows the new password, so the customer's own is put back, as
    // if it had never been replaced, unless another write set a password since (an admin's
    // switch-on, a reset: that one is then told). The sessions ended stay ended: the customer signs
    // in again with the new email and that password. A mail server that took the mail and then
    // failed to say so leaves the customer a password that does not work — rarer, and less harm
    // than a lock-out with a password that never arrived. What went to the old address stays
    // dropped, and `password_changed_at` keeps the replacement's stamp.
    let kept = false;
    await this.database.sequelize.transaction(async (transaction) => {
      kept = await this.accounts.restorePassword(contact.id, passwordHash, previous, { transaction });
      await this.history.record({ event: 'access_sent', contactId: contact.id, email, reason: kept ? passwordKept(delivery) : delivery, ip: null }, { transaction });
    });
    this.logger.info(`Business Portal: the contact’s email changed; new access details not sent (${delivery}); ${kept ? 'the password put back' : 'a password set since kept'}`, {
      contactId: contact.id,
    });
  }
}
