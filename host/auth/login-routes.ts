/**
 * The CRM's sign-in and sign-out. The login form is protected by a signed double-submit token,
 * sign-out by the session's token; a new session id is issued at every sign-in (a cookie planted
 * before it is worthless after), and every refusal looks the same: a wrong password, an unknown
 * user name, an inactive user and a user locked after five failed sign-ins
 * (`../users/login-lockout.ts`) each cost one password check and get the same page.
 */
import express, { type Request, type Response, type Router } from 'express';
import { serialize as serializeCookie } from 'cookie';
import type { HostLogger } from '../../plugin/host-contract/index.js';
import { verifyPassword, MAX_PASSWORD_LENGTH } from '../users/password-hash.js';
import type { CrmLoginLockout } from '../users/login-lockout.js';
import type { SqlUserDirectory } from '../users/user-directory.js';
import { cookieValue, safeReturnPath, type WebHostHttp } from '../web/host-http.js';
import { CRM_SESSION_COOKIE, type SqlCrmSessions } from './crm-sessions.js';
import { LOGIN_CSRF_COOKIE, type CsrfTokens } from './csrf-tokens.js';

export interface LoginRouteDependencies {
  readonly http: WebHostHttp;
  readonly users: SqlUserDirectory;
  readonly lockout: CrmLoginLockout;
  readonly sessions: SqlCrmSessions;
  readonly csrf: CsrfTokens;
  readonly logger: HostLogger;
}

const formBody = express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 10 });

function field(body: unknown, name: string, maxLength: number): string {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' && value.length <= maxLength ? value : '';
}

export function loginRoutes({ http, users, lockout, sessions, csrf, logger }: LoginRouteDependencies): Router {
  const router = express.Router();

  async function sendLoginForm(req: Request, res: Response, status: number, fields: { returnTo: string; userName?: string; error?: string }): Promise<void> {
    const token = csrf.forLoginForm();
    res.append(
      'Set-Cookie',
      serializeCookie(LOGIN_CSRF_COOKIE, token, { httpOnly: true, sameSite: 'lax', secure: http.secureCookies(req), path: '/login', maxAge: 2 * 60 * 60 }),
    );
    await http.sendView(req, res, { title: 'Sign in to the CRM', view: 'login', status, data: { ...fields, csrfToken: token } });
  }

  router.get('/login', async (req, res) => {
    const returnTo = safeReturnPath(req.query.returnTo);
    if (await http.crmSession(req)) {
      res.redirect(303, returnTo);
      return;
    }
    await sendLoginForm(req, res, 200, { returnTo });
  });

  router.post('/login', formBody, async (req, res) => {
    const returnTo = safeReturnPath(field(req.body, 'returnTo', 2000));
    const userName = field(req.body, 'userName', 100).trim();
    if (!csrf.verifyLoginForm(cookieValue(req, LOGIN_CSRF_COOKIE), field(req.body, 'csrf', 200))) {
      await sendLoginForm(req, res, 403, { returnTo, userName, error: 'The sign-in form had expired. Please try again.' });
      return;
    }
    const password = field(req.body, 'password', MAX_PASSWORD_LENGTH);
    const found = userName ? await users.credentials(userName) : null;
    // Checked only under a reserved attempt; an unknown or locked user still costs one password
    // check (against a hash of nothing), so timing tells neither who exists nor who is locked.
    const reserved = found ? await lockout.reserve(found.user.id) : false;
    const passwordMatches = await verifyPassword(password, reserved ? found!.passwordHash : null);
    // An inactive user's right password is a failed sign-in too: it counts.
    const passed = reserved && passwordMatches && found!.user.active && (await lockout.passed(found!.user.id));
    if (!found || !passed) {
      if (found && reserved && !(passwordMatches && found.user.active) && (await lockout.failed(found.user.id))) {
        logger.warn('CRM user locked after five failed sign-ins', { userId: found.user.id, ip: req.ip ?? null });
      }
      logger.warn('CRM sign-in refused', { ip: req.ip ?? null });
      await sendLoginForm(req, res, 401, { returnTo, userName, error: 'Wrong user name or password.' });
      return;
    }
    await sessions.destroy(cookieValue(req, CRM_SESSION_COOKIE));
    const { token } = await sessions.create(found.user.id);
    http.forgetSession(req);
    http.setSessionCookie(req, res, token);
    res.append('Set-Cookie', serializeCookie(LOGIN_CSRF_COOKIE, '', { httpOnly: true, sameSite: 'lax', secure: http.secureCookies(req), path: '/login', maxAge: 0 }));
    logger.info('CRM user signed in', { userId: found.user.id });
    res.redirect(303, returnTo);
  });

  router.post('/logout', formBody, async (req, res) => {
    const session = await http.crmSession(req);
    if (session && !csrf.verifyForSession(session.sessionId, field(req.body, 'csrf', 200))) {
      await http.sendMessage(req, res, 403, 'Request refused', 'The form had expired. Go back, reload the page and try again.');
      return;
    }
    if (session) {
      await sessions.destroy(cookieValue(req, CRM_SESSION_COOKIE));
      http.forgetSession(req);
      logger.info('CRM user signed out', { userId: session.user.id });
    }
    http.clearSessionCookie(req, res);
    res.redirect(303, '/login');
  });

  return router;
}
