/**
 * CSRF tokens for the portal's forms, anonymous ones included (login, forgot password…), where
 * there is no session to bind a token to: a signed double-submit token. The browser gets a
 * random pre-session cookie (`bp_csrf`, HttpOnly, SameSite=Lax, 256 bits); a form's token is an
 * HMAC, under a key derived from the plugin's secret, of that cookie and of the portal session's
 * (secret) id when there is one. So a token works only with the cookie it was made for, another
 * session's token fails, and tokens from before a login or a logout go stale. Compared in
 * constant time; nothing is stored.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { parse as parseCookies } from 'cookie';
import type { Request, Response } from 'express';
import { inject, injectable } from 'inversify';
import { CSRF_FIELD, CSRF_HEADER } from '../http/csrf.js';
import { PluginKeys } from '../http/plugin-keys.js';
import { portalCookieOptions } from '../http/portal-cookies.js';
import { HostHttp } from '../host-contract/index.js';
import { PluginSettings } from '../lifecycle/contributions.js';

export const PRE_SESSION_COOKIE = 'bp_csrf';
const COOKIE_FORMAT = /^[A-Za-z0-9_-]{43}$/;

export const PortalFormCsrf = Symbol.for('business-portal.auth.PortalFormCsrf');
export interface PortalFormCsrf {
  /** The token for this response's forms; sets the pre-session cookie when the browser has none. */
  issue(req: Request, res: Response, sessionId: string | null): string;
  /** Whether the request carries the right token (form field `_csrf` or header `X-CSRF-Token`). */
  verify(req: Request, sessionId: string | null): boolean;
}

@injectable()
export class SignedDoubleSubmitCsrf implements PortalFormCsrf {
  /** The cookie set during this request, so that every form of one page gets the same token. */
  private readonly issued = new WeakMap<Request, string>();

  constructor(
    @inject(PluginKeys) private readonly keys: PluginKeys,
    @inject(PluginSettings) private readonly settings: PluginSettings,
    @inject(HostHttp) private readonly http: HostHttp,
  ) {}

  private key(): Buffer {
    return this.keys.key('business-portal:portal-csrf:v1');
  }

  private cookieOf(req: Request): string | null {
    const fromThisResponse = this.issued.get(req);
    if (fromThisResponse) return fromThisResponse;
    const value = req.headers.cookie ? parseCookies(req.headers.cookie)[PRE_SESSION_COOKIE] : undefined;
    return value && COOKIE_FORMAT.test(value) ? value : null;
  }

  private token(cookie: string, sessionId: string | null): string {
    return createHmac('sha256', this.key()).update(`${cookie}\n${sessionId ?? ''}`).digest('base64url');
  }

  issue(req: Request, res: Response, sessionId: string | null): string {
    let cookie = this.cookieOf(req);
    if (!cookie) {
      cookie = randomBytes(32).toString('base64url');
      this.issued.set(req, cookie);
      res.cookie(PRE_SESSION_COOKIE, cookie, portalCookieOptions(req, this.http, this.settings.portalPath));
    }
    return this.token(cookie, sessionId);
  }

  verify(req: Request, sessionId: string | null): boolean {
    const cookie = this.cookieOf(req);
    const body = req.body as Record<string, unknown> | undefined;
    const given = (body && typeof body === 'object' ? body[CSRF_FIELD] : undefined) ?? req.get(CSRF_HEADER);
    if (!cookie || typeof given !== 'string' || given.length === 0 || given.length > 100) return false;
    const expected = Buffer.from(this.token(cookie, sessionId));
    const actual = Buffer.from(given);
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }
}
