/**
 * The page behind the lock email's link, under the portal router:
 *
 *   GET  {portal}/unlock?token=…  → a confirmation page with one button (changes nothing)
 *   POST {portal}/unlock          token=… → unlocks the account (once), or says the link is dead
 *
 * A dead link — unknown, used, expired, revoked by an admin's unlock or an email change, account
 * not locked — gets one and the same answer, whichever it is. The token is the only credential, so
 * the POST needs no session and no CSRF token: a forged POST without the token can do nothing.
 */
import type { Request, Response, Router } from 'express';
import { inject, injectable } from 'inversify';
import { portalFormBody } from '../http/json-body.js';
import type { MessageKey } from '../i18n/message-keys.js';
import { Translator } from '../i18n/translator.js';
import { PluginSettings, type PortalRouteContribution } from '../lifecycle/contributions.js';
import { UNLOCK_PATH } from './lock-notification.js';
import { PortalPages } from './portal-pages.js';
import { LinkUnlocker, UnlockLinks } from './unlock-links.js';

@injectable()
export class UnlockRoutes implements PortalRouteContribution {
  constructor(
    @inject(UnlockLinks) private readonly links: UnlockLinks,
    @inject(LinkUnlocker) private readonly unlocker: LinkUnlocker,
    @inject(PortalPages) private readonly pages: PortalPages,
    @inject(Translator) private readonly translator: Translator,
    @inject(PluginSettings) private readonly settings: PluginSettings,
  ) {}

  registerPortalRoutes(router: Router): void {
    router.get(UNLOCK_PATH, async (req, res) => {
      const token = typeof req.query.token === 'string' ? req.query.token : null;
      const live = (await this.links.inspect(token)) !== null;
      this.send(req, res, live ? 200 : 400, live ? { confirm: true, token } : { messageKey: 'auth.unlock.invalid' });
    });
    router.post(UNLOCK_PATH, portalFormBody(), async (req, res) => {
      const body = req.body as Record<string, unknown> | undefined;
      const unlocked = await this.unlocker.redeem(body && typeof body === 'object' ? body.token : undefined);
      this.send(req, res, unlocked ? 200 : 400, { messageKey: unlocked ? 'auth.unlock.done' : 'auth.unlock.invalid', signIn: unlocked });
    });
  }

  /**
   * In the portal's layout, as the other pages a mail links to (a password reset): the customer may
   * switch the language, which comes back to this same link.
   */
  private send(req: Request, res: Response, status: number, data: { confirm?: boolean; token?: string | null; messageKey?: MessageKey; signIn?: boolean }): void {
    const language = this.pages.language(req);
    const message = data.messageKey ? this.translator.t(language, data.messageKey) : '';
    this.pages.send(req, res, { sessionId: null }, {
      template: 'account-unlock',
      titleKey: 'auth.unlock.title',
      status,
      // The answer's sentence is a status present at load, which screen readers do not announce: the title says it first.
      ...(message ? { notice: message } : {}),
      // A dead link is an error page: its title starts with "Error:", which a screen reader says first.
      refused: status >= 400,
      returnTo: data.confirm && data.token ? `${UNLOCK_PATH}?token=${encodeURIComponent(data.token)}` : '/login',
      data: {
        confirm: data.confirm === true,
        token: data.token ?? '',
        message,
        signIn: data.signIn === true,
        actionPath: `${this.settings.portalPath}${UNLOCK_PATH}`,
      },
    });
  }
}
