/**
 * The customer's own account in the workspace:
 *   GET  /account/password   the form: current password, the new one twice
 *   POST /account/password   the change (`PasswordChange`, as the API's: the current password is
 *                            checked under the lockout and the address's counter, the policy applies,
 *                            every other session ends, a confirmation is mailed); back to the form
 *                            with a notice, or the form again with the reason
 * The passwords typed are never sent back in the page.
 */
import type { Router } from 'express';
import { inject, injectable } from 'inversify';
import { PasswordChange } from '../../auth/password-change.js';
import { portalFormBody } from '../../http/json-body.js';
import type { PortalRouteContribution } from '../../lifecycle/contributions.js';
import { WorkspaceFrame, type FormDone, type WorkspaceRequest } from './workspace-frame.js';

export const PASSWORD_PAGE = '/account/password';

@injectable()
export class AccountPages implements PortalRouteContribution {
  constructor(
    @inject(WorkspaceFrame) private readonly frame: WorkspaceFrame,
    @inject(PasswordChange) private readonly passwords: PasswordChange,
  ) {}

  registerPortalRoutes(router: Router): void {
    router.get(PASSWORD_PAGE, this.frame.page(async (w) => this.passwordForm(w)));
    // Sent twice (a double tap), the change is made once: the second goes where the first did.
    router.post(PASSWORD_PAGE, portalFormBody(), this.frame.post(this.frame.once((w) => this.changePassword(w))));
  }

  private passwordForm(w: WorkspaceRequest, refused?: { readonly status: number; readonly error: string; readonly field: 'current' | 'new' }): void {
    const title = w.t('portal.account.passwordTitle');
    this.frame.send(w, {
      template: 'password-change',
      title,
      status: refused?.status ?? 200,
      notice: !refused && w.req.query.notice === 'changed' ? w.t('portal.account.changed') : null,
      refused: refused !== undefined,
      data: {
        heading: title,
        action: this.frame.path(PASSWORD_PAGE),
        error: refused?.error ?? null,
        currentInvalid: refused?.field === 'current',
        newInvalid: refused?.field === 'new',
        // The field to type in: the one refused, else the first.
        focusCurrent: refused?.field !== 'new',
      },
    });
  }

  private async changePassword(w: WorkspaceRequest): Promise<FormDone | void> {
    const body = (w.req.body ?? {}) as Record<string, unknown>;
    const text = (name: string) => (typeof body[name] === 'string' ? (body[name] as string) : '');
    const result = await this.passwords.change(w.req, w.res, w.session, {
      currentPassword: text('currentPassword'),
      newPassword: text('newPassword'),
      confirmPassword: text('confirmPassword'),
    });
    if (!result.ok) {
      const current = result.problem === 'currentWrong';
      return this.passwordForm(w, { status: current ? 403 : 422, error: w.t(result.messageKey, result.params), field: current ? 'current' : 'new' });
    }
    // The change ended every session and opened a new one for this browser: a fresh page, fresh tokens.
    const changed = this.frame.path(`${PASSWORD_PAGE}?notice=changed`);
    return { location: changed, again: changed };
  }
}
