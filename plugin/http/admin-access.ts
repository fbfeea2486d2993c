/**
 * The gate of the admin router: anonymous visitors (portal customers included: a portal session
 * is never a CRM session) go to the CRM login and come back; signed-in CRM users who are not
 * active administrators get a 403 page. Every unsafe method then needs the session's CSRF token.
 */
import type { RequestHandler } from 'express';
import type { HostHttp } from '../host-contract/index.js';
import { crmSessionOf, rememberCrmSession, type AdminPages } from './admin-pages.js';
import type { CsrfTokens } from './csrf.js';

export function requireCrmAdmin(http: HostHttp, pages: AdminPages): RequestHandler {
  return async (req, res, next) => {
    const session = await http.crmSession(req);
    if (!session) {
      res.redirect(303, http.loginUrl(req.originalUrl));
      return;
    }
    rememberCrmSession(res, session);
    if (!session.user.isAdmin || !session.user.active) {
      await pages.sendMessage(req, res, 403, 'errors.forbiddenTitle', 'errors.forbidden');
      return;
    }
    next();
  };
}

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Refuses, with a 403 and no change, every POST/PUT/PATCH/DELETE without the session's token. */
export function requireCsrfToken(csrf: CsrfTokens, pages: AdminPages): RequestHandler {
  return async (req, res, next) => {
    const session = crmSessionOf(res);
    if (safeMethods.has(req.method) || (session && csrf.verifyRequest(req, session))) {
      next();
      return;
    }
    await pages.sendMessage(req, res, 403, 'errors.forbiddenTitle', 'errors.csrf');
  };
}
