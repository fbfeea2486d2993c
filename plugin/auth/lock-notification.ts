/**
 * The lock email: when a portal account becomes locked its contact gets one email (kind
 * `accountLocked`) with a single-use unlock link, `{portal}/unlock?token=…`. The lockout calls
 * this listener once per lock, from the request that set it; the link is made and the mail sent
 * in the background, so that the refused login that locked the account answers as fast as any
 * other refusal (its timing must not tell that the email belongs to an account).
 */
import { inject, injectable, optional } from 'inversify';
import { HostHttp, HostLogger } from '../host-contract/index.js';
import { BackgroundWork, DeactivationDeadline } from '../lifecycle/background-work.js';
import { PluginSettings, type LifecycleContribution } from '../lifecycle/contributions.js';
import { PortalMailer } from '../notifications/portal-mailer.js';
import type { AccountLockListener, LockedAccountRef } from './account-lock-listener.js';
import { UNLOCK_LINK_TTL_MINUTES, UnlockLinks } from './unlock-links.js';

/** The portal page that takes the link (under the portal's mount path). */
export const UNLOCK_PATH = '/unlock';

@injectable()
export class LockNotification implements AccountLockListener, LifecycleContribution {
  private readonly pending = new BackgroundWork();

  constructor(
    @inject(UnlockLinks) private readonly links: UnlockLinks,
    @inject(HostHttp) private readonly http: HostHttp,
    @inject(PluginSettings) private readonly settings: PluginSettings,
    @inject(HostLogger) private readonly logger: HostLogger,
    @inject(DeactivationDeadline) private readonly deadline: DeactivationDeadline,
    @inject(PortalMailer) @optional() private readonly mailer?: PortalMailer,
  ) {}

  async accountLocked(account: LockedAccountRef): Promise<void> {
    void this.pending.run(() => this.send(account.contactId));
  }

  /** Resolves once every lock email started so far has been sent or has failed (for shutdown and tests). */
  async settled(): Promise<void> {
    await this.pending.settled();
  }

  /** A deactivation (the host shutting down) lets the emails under way finish first (for a while: until its `DeactivationDeadline`). */
  async onDeactivate(): Promise<void> {
    if (!(await this.pending.stop(this.deadline.leftMs()))) this.logger.warn('Business Portal: deactivated while a lock email was still being sent');
  }

  private async send(contactId: number): Promise<void> {
    try {
      if (!this.mailer) {
        this.logger.warn('Business Portal: no portal mailer is installed, the lock email was not sent', { contactId });
        return;
      }
      // Taken before the link is made, so never after its expiry: a host that keeps the mail to try
      // again gives it up rather than deliver a dead link (discardAfter).
      const discardAfter = new Date(Date.now() + UNLOCK_LINK_TTL_MINUTES * 60_000);
      const token = await this.links.issue(contactId);
      const unlockUrl = this.http.publicUrl(`${this.settings.portalPath}${UNLOCK_PATH}?token=${encodeURIComponent(token)}`);
      const outcome = await this.mailer.sendToContact('accountLocked', contactId, { portal: { unlockUrl } }, { discardAfter });
      // The link is never logged: it is a credential.
      if (outcome === 'sent') this.logger.info('Business Portal: lock email sent', { contactId });
      else if (outcome === 'kept_for_retry') this.logger.info('Business Portal: lock email kept by the host to be sent when the mail server answers', { contactId });
      else if (outcome === 'no_email') this.logger.warn('Business Portal: the locked contact has no email address, no lock email was sent', { contactId });
      else if (outcome === 'no_template') this.logger.warn('Business Portal: no email template for the lock email, no lock email was sent', { contactId });
    } catch (error) {
      this.logger.error('Business Portal: the lock email could not be sent', { contactId, error: error instanceof Error ? error.message : String(error) });
    }
  }
}
