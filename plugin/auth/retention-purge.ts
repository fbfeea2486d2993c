/**
 * Deletes what the sign-in no longer needs while the plugin is active: once at activation, then
 * every quarter of an hour, off the request path. The timer is `unref()`ed (it never keeps the
 * host alive) and stopped at deactivation, which also waits for a purge under way (for a while:
 * until the deactivation's `DeactivationDeadline`), so that it does not meet the database the host
 * closes next. Each purge is one indexed DELETE (their plans are read by
 * test/scale/query-plans.test.ts), and one failing does not keep the other from running.
 *
 * - Dead portal sessions. Expired sessions are refused anyway; this only keeps the table small. A
 *   rotated-away remember-me token is kept until its family's absolute end, so that its replay is
 *   recognised (`SESSION_PURGE_STATEMENTS` in portal-sessions.ts).
 * - "I forgot my password" requests past the hour their limits count them in: each holds an email
 *   as typed and a client address, kept no longer than the throttling needs them
 *   (`RESET_REQUESTS_PURGE_STATEMENT` in password-reset.ts).
 * - Second-factor challenges past the hour the limit on codes mailed counts them in: each holds
 *   the contact and the client address, and a contact who never asks for another code would keep
 *   them for ever (`CHALLENGES_PURGE_STATEMENT` in two-factor.ts).
 */
import { inject, injectable } from 'inversify';
import { HostLogger } from '../host-contract/index.js';
import { BackgroundWork, DeactivationDeadline } from '../lifecycle/background-work.js';
import type { LifecycleContribution } from '../lifecycle/contributions.js';
import { FormSubmissions } from './form-submissions.js';
import { PasswordReset } from './password-reset.js';
import { PortalSessions } from './portal-sessions.js';
import { TwoFactor } from './two-factor.js';

export const PURGE_INTERVAL_MS = 15 * 60 * 1000;

@injectable()
export class RetentionPurge implements LifecycleContribution {
  private timer: NodeJS.Timeout | null = null;
  private readonly running = new BackgroundWork();

  constructor(
    @inject(PortalSessions) private readonly sessions: PortalSessions,
    @inject(PasswordReset) private readonly resets: PasswordReset,
    @inject(TwoFactor) private readonly twoFactor: TwoFactor,
    @inject(FormSubmissions) private readonly submissions: FormSubmissions,
    @inject(HostLogger) private readonly logger: HostLogger,
    @inject(DeactivationDeadline) private readonly deadline: DeactivationDeadline,
  ) {}

  async onActivate(): Promise<void> {
    await this.purge();
    this.timer = setInterval(() => {
      // One purge at a time: a slow one is not joined by the next.
      if (!this.running.busy) void this.running.run(() => this.purge());
    }, PURGE_INTERVAL_MS);
    this.timer.unref();
  }

  async onDeactivate(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (!(await this.running.stop(this.deadline.leftMs()))) this.logger.warn('Business Portal: deactivated while a purge was still running');
  }

  private async purge(): Promise<void> {
    await this.run('expired portal sessions', () => this.sessions.purgeExpired());
    await this.run('password reset requests past their hour', () => this.resets.purgeRequests());
    await this.run('second-factor challenges past their hour', () => this.twoFactor.purgeChallenges());
    await this.run('form posts past their day', () => this.submissions.purge());
  }

  private async run(what: string, purge: () => Promise<number>): Promise<void> {
    try {
      const purged = await purge();
      if (purged > 0) this.logger.debug(`Business Portal: ${what} purged`, { purged });
    } catch (error) {
      this.logger.warn(`Business Portal: purging ${what} failed`, { error: error instanceof Error ? error.message : String(error) });
    }
  }
}
