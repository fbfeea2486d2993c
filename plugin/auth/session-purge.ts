/**
 * Deletes dead portal sessions while the plugin is active: once at activation, then every
 * quarter of an hour. The timer is `unref()`ed (it never keeps the host alive) and stopped at
 * deactivation. Expired sessions are refused anyway; this only keeps the table small. A
 * rotated-away remember-me token is kept until its family's absolute end, so that its replay is
 * recognised (`SESSION_PURGE_STATEMENTS` in portal-sessions.ts).
 */
import { inject, injectable } from 'inversify';
import { HostLogger } from '../host-contract/index.js';
import type { LifecycleContribution } from '../lifecycle/contributions.js';
import { PortalSessions } from './portal-sessions.js';

export const SESSION_PURGE_INTERVAL_MS = 15 * 60 * 1000;

@injectable()
export class SessionPurge implements LifecycleContribution {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    @inject(PortalSessions) private readonly sessions: PortalSessions,
    @inject(HostLogger) private readonly logger: HostLogger,
  ) {}

  async onActivate(): Promise<void> {
    await this.purge();
    this.timer = setInterval(() => void this.purge(), SESSION_PURGE_INTERVAL_MS);
    this.timer.unref();
  }

  async onDeactivate(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async purge(): Promise<void> {
    try {
      const purged = await this.sessions.purgeExpired();
      if (purged > 0) this.logger.debug('Business Portal: expired portal sessions purged', { purged });
    } catch (error) {
      this.logger.warn('Business Portal: purging expired portal sessions failed', { error: error instanceof Error ? error.message : String(error) });
    }
  }
}
