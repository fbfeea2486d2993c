/**
 * Synchronizer tokens for the admin forms, bound to the CRM session: the token is an HMAC of
 * the session's secret id under a key derived from the host's secret for this plugin, so it
 * needs no storage, differs per session and dies with the session. Compared in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { inject, injectable } from 'inversify';
import type { CrmSession } from '../host-contract/index.js';
import { PluginKeys } from './plugin-keys.js';

/** The form field and the header that carry the token. */
export const CSRF_FIELD = '_csrf';
export const CSRF_HEADER = 'x-csrf-token';

export const CsrfTokens = Symbol.for('business-portal.CsrfTokens');
export interface CsrfTokens {
  /** The token to put in the forms of this session's pages. */
  issue(session: CrmSession): string;
  verify(session: CrmSession, token: unknown): boolean;
  /** Checks the token a request carries (form field `_csrf` or header `X-CSRF-Token`). */
  verifyRequest(req: Request, session: CrmSession): boolean;
}

@injectable()
export class HmacCsrfTokens implements CsrfTokens {
  constructor(@inject(PluginKeys) private readonly keys: PluginKeys) {}

  private key(): Buffer {
    return this.keys.key('business-portal:csrf:v1');
  }

  issue(session: CrmSession): string {
    return createHmac('sha256', this.key()).update(session.sessionId).digest('base64url');
  }

  verify(session: CrmSession, token: unknown): boolean {
    if (typeof token !== 'string' || token.length === 0 || token.length > 100) return false;
    const expected = Buffer.from(this.issue(session));
    const given = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  verifyRequest(req: Request, session: CrmSession): boolean {
    const body = req.body as Record<string, unknown> | undefined;
    const fromForm = body && typeof body === 'object' ? body[CSRF_FIELD] : undefined;
    return this.verify(session, fromForm ?? req.get(CSRF_HEADER));
  }
}
