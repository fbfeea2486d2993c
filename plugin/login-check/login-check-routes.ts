/** `GET /settings/business-portal/login-check`: the locked portal users (read-only for now). */
import type { Router } from 'express';
import { inject, injectable } from 'inversify';
import { LOCK_AFTER_FAILURES } from '../auth/lockout.js';
import { AdminPages } from '../http/admin-pages.js';
import type { AdminRouteContribution } from '../lifecycle/contributions.js';
import { LockedAccounts } from './locked-accounts.js';

@injectable()
export class LoginCheckRoutes implements AdminRouteContribution {
  constructor(
    @inject(AdminPages) private readonly pages: AdminPages,
    @inject(LockedAccounts) private readonly locked: LockedAccounts,
  ) {}

  registerAdminRoutes(router: Router): void {
    router.get('/login-check', async (req, res) => {
      await this.pages.send(req, res, {
        template: 'admin/login-check',
        titleKey: 'loginCheck.title',
        data: { maxAttempts: LOCK_AFTER_FAILURES, locked: await this.locked.list() },
      });
    });
  }
}
