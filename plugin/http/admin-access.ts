/**
 * The gate of the admin router: anonymous visitors (portal customers included: a portal session
 * is never a CRM session) go to the CRM login and come back; signed-in CRM users who are not
 * active administrators get a 403 page. Every unsafe method then needs the session's CSRF token.
 * A request that speaks JSON (the privileges editor's) gets its refusals as
 * `{"error": {code, message}}` instead of a page — a signed-out one a 401 instead of the redirect.
 * OPTIONS meets the gate as GET does (see `requireCrmAdmin`).
 */
import type { Request, RequestHandler, Response } from 'express';
import type { HostHttp } from '../host-contract/index.js';
import type { MessageKey, MessageParams } from '../i18n/message-keys.js';
import type { Translator } from '../i18n/translator.js';
import { crmSessionOf, rememberCrmSession, type AdminPages } from './admin-pages.js';
import { sendApiError } from './api-errors.js';
import type { CsrfTokens } from './csrf.js';

/** Whether an admin request speaks JSON: it sends a JSON body, or asks for JSON rather than HTML. */
export function wantsJson(req: Request): boolean {
  return Boolean(req.is('application/json')) || req.accepts(['html', 'json']) === 'json';
}

/** An admin refusal as JSON, in the admin's language. */
export function sendAdminJsonError(res: Response, pages: AdminPages, translator: Translator, status: number, code: string, messageKey: MessageKey, params?: MessageParams): void {
  sendApiError(res, status, code, translator.t(pages.language(res), messageKey, params));
}

export function requireCrmAdmin(http: HostHttp, pages: AdminPages, translator: Translator): RequestHandler {
  return async (req, res, next) => {
    // OPTIONS meets the gate as GET does: only an administrator gets Express's `200` with `Allow` (a
    // 404 for a path no route has). Anyone else is answered alike for every path, as their GET is
    // (the login, a 403): a 200 against a 404 would tell them which admin routes exist (and so the
    // plugin's version), which a signed-out GET never does.
    const session = await http.crmSession(req);
    if (!session) {
      // A script (the privileges editor) cannot follow a redirect to a login page: it gets a 401 to show.
      if (wantsJson(req)) return sendAdminJsonError(res, pages, translator, 401, 'not_signed_in', 'errors.crmSignedOut');
      res.redirect(303, http.loginUrl(req.originalUrl));
      return;
    }
    rememberCrmSession(res, session);
    if (!session.user.isAdmin || !session.user.active) {
      if (wantsJson(req)) return sendAdminJsonError(res, pages, translator, 403, 'forbidden', 'errors.forbidden');
      await pages.sendMessage(req, res, 403, 'errors.forbiddenTitle', 'errors.forbidden');
      return;
    }
    next();
  };
}

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Refuses, with a 403 and no change, every POST/PUT/PATCH/DELETE without the session's token. */
export function requireCsrfToken(csrf: CsrfTokens, pages: AdminPages, translator: Translator): RequestHandler {
  return async (req, res, next) => {
    const session = crmSessionOf(res);
    if (safeMethods.has(req.method) || (session && csrf.verifyRequest(req, session))) {
      next();
      return;
    }
    if (wantsJson(req)) return sendAdminJsonError(res, pages, translator, 403, 'csrf', 'errors.csrf');
    await pages.sendMessage(req, res, 403, 'errors.forbiddenTitle', 'errors.csrf');
  };
}
