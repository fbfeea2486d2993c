/**
 * First access: an account whose password was generated (`must_change_password`) may do nothing
 * but choose its own password. Registered before every other capability's portal routes, this
 * gate sends such a signed-in customer's page requests to `/first-access` and answers their API
 * requests 403 `password_change_required` — except the change itself, signing in again, logout,
 * the language switch and the static assets.
 */
import type { NextFunction, Request, Response, Router } from 'express';
import { inject, injectable } from 'inversify';
import { API_PREFIX, isApiPath, sendApiError } from '../http/api-errors.js';
import { requestLanguage } from '../i18n/request-language.js';
import { Translator } from '../i18n/translator.js';
import { PluginSettings, type PortalRouteContribution } from '../lifecycle/contributions.js';
import { LOGIN_PATH, LOGOUT_PATH, ME_PATH } from './auth-routes.js';
import { workspaceNext } from './return-paths.js';
import { PortalSessions } from './portal-sessions.js';

export const FIRST_ACCESS_PATH = '/first-access';
/** The home's `notice` after the first access's password is saved (`/?notice=password`). */
export const PASSWORD_CHOSEN_NOTICE = 'password';
export const PASSWORD_CHANGE_API_PATH = `${API_PREFIX}/auth/password`;

/**
 * What a customer who must change their password may still reach: the change itself, sign-in and
 * out, and `GET /me` (SPEC §8: it answers the signed-in contact; its `mustChangePassword` tells an
 * app to show the change form).
 */
export const FIRST_ACCESS_ALLOWED: ReadonlySet<string> = new Set([`POST ${PASSWORD_CHANGE_API_PATH}`, `GET ${ME_PATH}`, `POST ${LOGOUT_PATH}`, `POST ${LOGIN_PATH}`, 'POST /login', `GET ${FIRST_ACCESS_PATH}`, `POST ${FIRST_ACCESS_PATH}`, 'POST /logout', 'POST /language']);

@injectable()
export class FirstAccessGate implements PortalRouteContribution {
  constructor(
    @inject(PortalSessions) private readonly sessions: PortalSessions,
    @inject(Translator) private readonly translator: Translator,
    @inject(PluginSettings) private readonly settings: PluginSettings,
  ) {}

  registerPortalRoutes(router: Router): void {
    router.use((req, res, next) => this.gate(req, res, next));
  }

  private async gate(req: Request, res: Response, next: NextFunction): Promise<void> {
    // Express routes a path in any case and with a trailing slash, and a HEAD to its GET: so does
    // the list of what goes through (a HEAD of the first-access page was redirected to itself).
    const route = req.path.toLowerCase().replace(/(.)\/$/, '$1');
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    if (route.startsWith('/assets/') || FIRST_ACCESS_ALLOWED.has(`${method} ${route}`)) return next();
    // The session's row tells whether its account must change its password. When it need not,
    // the route goes on at once and checks the session itself (so that the statements it needs
    // start alongside that check); when it must, the gate first makes sure the session holds.
    if (!(await this.sessions.presented(req))?.mustChangePassword) return next();
    const session = await this.sessions.current(req, res);
    if (!session?.account.mustChangePassword) return next();
    if (isApiPath(req.path)) {
      sendApiError(res, 403, 'password_change_required', this.translator.t(requestLanguage(req, this.translator), 'auth.errors.passwordChangeRequired'));
      return;
    }
    // The page asked for follows the change (a workspace page, its query kept).
    const back = req.method === 'GET' && req.url.startsWith('/') ? workspaceNext(req.url) : null;
    res.redirect(303, `${this.settings.portalPath}${FIRST_ACCESS_PATH}${back && back !== '/' ? `?next=${encodeURIComponent(back)}` : ''}`);
  }
}
