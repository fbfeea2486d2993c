/**
 * The outcome an admin page's POST sends back to a page (`303` to `…?done=saved&…`), signed for
 * the admin's CRM session, so that a page shows a "done" notice only when this admin's own save
 * made it: a link someone else made or altered (sent to an admin) shows no false "Saved." or
 * count. `sig` is an HMAC, under its own key, of the session's secret id, the page's path and
 * every other parameter of the query (sorted by name); it is always the query's last parameter.
 * The host keeps no session data a flash could live in; a signature needs no storage and works
 * behind several processes. Compared in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import { inject, injectable } from 'inversify';
import { crmSessionOf } from './admin-pages.js';
import { PluginKeys } from './plugin-keys.js';

/** The query parameter that carries the signature. */
export const OUTCOME_SIGNATURE = 'sig';
/** No outcome of ours is longer; a longer query is not one (and is not hashed). */
const MAX_QUERY_LENGTH = 2000;

export const AdminOutcomes = Symbol.for('business-portal.AdminOutcomes');
export interface AdminOutcomes {
  /**
   * Answers 303 to `path` (no query of its own) with `outcome` in the query, in that order (empty
   * values left out) and signed for the request's CRM session.
   */
  redirect(res: Response, path: string, outcome: Readonly<Record<string, string>>): void;
  /**
   * The outcome in the request's query when its POST signed it for this admin's session and this
   * page (every parameter but `sig`), else null: unsigned, altered, made for another session or
   * page, a repeated parameter.
   */
  of(req: Request, res: Response): Readonly<Record<string, string>> | null;
}

@injectable()
export class HmacAdminOutcomes implements AdminOutcomes {
  constructor(@inject(PluginKeys) private readonly keys: PluginKeys) {}

  redirect(res: Response, path: string, outcome: Readonly<Record<string, string>>): void {
    const session = crmSessionOf(res);
    // The admin guard runs before every admin route: a session is always there.
    if (!session) throw new Error('Business Portal: an admin outcome without a CRM session');
    const query = new URLSearchParams(Object.entries(outcome).filter(([, value]) => value !== ''));
    query.append(OUTCOME_SIGNATURE, this.signature(session.sessionId, path, query));
    res.redirect(303, `${path}?${query.toString()}`);
  }

  of(req: Request, res: Response): Readonly<Record<string, string>> | null {
    const session = crmSessionOf(res);
    const [path = '', search = ''] = req.originalUrl.split(/\?(.*)/s);
    if (!session || search.length === 0 || search.length > MAX_QUERY_LENGTH) return null;
    const query = new URLSearchParams(search);
    const given = query.getAll(OUTCOME_SIGNATURE);
    if (given.length !== 1) return null;
    query.delete(OUTCOME_SIGNATURE);
    const outcome: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const [key, value] of query) {
      if (key in outcome) return null;
      outcome[key] = value;
    }
    const expected = Buffer.from(this.signature(session.sessionId, path, query));
    const sent = Buffer.from(given[0]!);
    return sent.length === expected.length && timingSafeEqual(sent, expected) ? outcome : null;
  }

  private signature(sessionId: string, path: string, query: URLSearchParams): string {
    const sorted = new URLSearchParams(query);
    sorted.sort();
    return createHmac('sha256', this.keys.key('business-portal:admin-outcome:v1')).update(`${sessionId}\n${path}\n${sorted.toString()}`).digest('base64url');
  }
}
