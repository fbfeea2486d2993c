/**
 * Portal sessions, kept in the database so that every host process shares them (`bp_sessions`).
 *
 * - The cookie `bp_session` holds a 256-bit random token; the table holds only its SHA-256, so
 *   a leaked table yields no usable cookie. HttpOnly, SameSite=Lax, path = the portal's mount
 *   path, Secure behind HTTPS (`portalCookieOptions`).
 * - Every login creates a new session and ends the one the browser brought along, so a cookie
 *   planted before the login never becomes a signed-in session (session fixation).
 * - A browser holds one `bp_session`; a second one (tossed by a sibling site onto a path under the
 *   portal, which the browser sends first) is read too, never trusted for being first: a cookie that
 *   names no session is passed over, and when two name sessions neither is served and both end, so
 *   that a session planted beside the customer's (someone else's sign-in) stops working. A login
 *   ends every session its request names, and so does a logout.
 * - Idle expiry 30 minutes (rolled forward as the customer works), absolute 12 hours.
 * - "Remember me": the session lives at most 30 days and its cookie survives the browser.
 *   The 30-minute idle window still applies; once it has lapsed, the next request rotates the
 *   session — new token, same family — instead of refusing it. The old token stays good for
 *   `ROTATION_GRACE_MS`, and only for requests that were already on their way with it (a page's
 *   parallel requests, a second tab): they are answered, not rotated again, and carry no cookie;
 *   after the grace window the old token is dead. CSRF tokens bind to the family, so a form
 *   opened before a rotation still submits, and a logout ends the whole family. The successor
 *   goes in under the account's row held shared, and every end of sessions (a logout, a password
 *   change, theft detection…) holds that row exclusive: the two never run beside each other.
 * - Theft detection (Barry Jaspan's "improved persistent login cookie"): a rotated-away token is
 *   kept (hashed) until its family's absolute end. Presented after its grace window, it was copied:
 *   one browser rotated it away and another still holds it. The whole family ends — the thief's
 *   copy and the customer's alike —, the login history records it (`revoked`, `token_replayed`)
 *   for the CRM and the host's log warns; neither holds a token. This costs the signed-in request
 *   nothing: only the lookup's own row tells that it was replaced and its grace is over.
 * - Every request checks the account again (portal on, not locked, within support dates,
 *   contact still there): when it no longer may sign in, all its sessions are deleted.
 * - A session remembers the second factor its sign-in passed (`second_factor`: `email`; null with
 *   the password alone), and carries it to its rotations. When the profile in force comes to ask
 *   for a second factor (an admin switches it on, or gives the contact such a profile, on any host
 *   process), a session without one is ended at its next request — its family, recorded as
 *   `revoked` / `second_factor_required` — and the customer signs in again, code included. What
 *   the profile asks for rides on the lookup's own statement (`ProfileInForce.sessionColumns`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { parse as parseCookies } from 'cookie';
import type { CookieOptions, Request, Response } from 'express';
import { inject, injectable, optional } from 'inversify';
import { QueryTypes, type Transaction } from 'sequelize';
import { HostDatabase, HostHttp, type CrmRecord } from '../host-contract/index.js';
import { portalCookieOptions } from '../http/portal-cookies.js';
import { personName } from '../access/record-names.js';
import { toBoolean, toIsoDateTime, toNumber } from '../lifecycle/sql-values.js';
import { PluginSettings } from '../lifecycle/contributions.js';
import { AccountEligibility } from './account-eligibility.js';
import { clientAddress } from './client-address.js';
import { LoginHistory } from './login-history.js';
import { ACCOUNTS_TABLE, PortalAccountStore, accountColumns, toAccount, type AccountRow, type PortalAccount } from './portal-account-store.js';
import { ProfileInForce, type SecondFactorValues } from './profile-in-force.js';

export const SESSION_COOKIE = 'bp_session';
export const SESSIONS_TABLE = 'bp_sessions';

export const SESSION_IDLE_MS = 30 * 60 * 1000;
export const SESSION_ABSOLUTE_MS = 12 * 60 * 60 * 1000;
export const REMEMBER_ABSOLUTE_MS = 30 * 24 * 60 * 60 * 1000;
/** How long a rotated-away token still answers requests that were sent with it before the rotation. */
export const ROTATION_GRACE_MS = 60 * 1000;
/** A session's idle expiry is written again at most this often (not on every request). */
const TOUCH_INTERVAL_MS = 60 * 1000;

const TOKEN_BYTES = 32;
/** 32 bytes in base64url: anything else is not one of our tokens and costs no query. */
const TOKEN_FORMAT = /^[A-Za-z0-9_-]{43}$/;
/** At most this many `bp_session` cookies of one request are looked at (a browser holds one; a tossed one makes two). */
const MAX_PRESENTED_TOKENS = 4;

/** A signed-in request: the account, its CRM contact and the session's stable (hashed) id. */
export interface PortalSession {
  readonly account: PortalAccount;
  readonly contact: CrmRecord;
  /** The session family's id: stable across remember-me rotations and secret; bind CSRF tokens to it. */
  readonly sessionId: string;
  readonly remember: boolean;
  /** The second factor the sign-in passed (`email`), or null when it was the password alone. */
  readonly secondFactor: string | null;
}

/** How pages greet the signed-in customer: "Jane Doe", or their login email when the contact has no name. */
export function displayName(session: PortalSession): string {
  return personName(session.contact.values) || session.account.email;
}

/**
 * Values another capability reads with the session's row, in the same statement: every portal
 * request runs that statement, and a second one for a few values costs more than the values.
 * `sql` is a comma-separated list of aliased scalar subqueries, `(SELECT …) AS alias`, that may
 * name the session's account as `a` (all its columns are null when the account is gone); aliases
 * and replacement names carry the capability's own prefix.
 */
export const SessionCompanionColumns = Symbol.for('business-portal.auth.SessionCompanionColumns');
export interface SessionCompanionColumns {
  readonly sql: string;
  readonly replacements: Readonly<Record<string, unknown>>;
}

export const PortalSessions = Symbol.for('business-portal.auth.PortalSessions');
export interface PortalSessions {
  /**
   * Starts a new session for a contact that just signed in and sets its cookie; ends the request's
   * previous session. With `passwordHash` (the hash the sign-in checked), only while it is still
   * the account's: false, and no session, when the password was changed since the check (a change
   * ends every session, including one its old password was about to open). `secondFactor`: the
   * method of the second factor the sign-in passed; without it the session is a password-only one,
   * which ends once the contact's profile asks for a second factor.
   */
  start(
    req: Request,
    res: Response,
    contactId: number,
    options: { readonly remember: boolean; readonly passwordHash?: string; readonly secondFactor?: string | null },
  ): Promise<boolean>;
  /**
   * The signed-in account of a request, or null. Pass `res` so that a remember-me session whose
   * idle window lapsed can be rotated (without it such a session is refused).
   */
  authenticate(req: Request, res?: Response): Promise<PortalAccount | null>;
  /** As `authenticate`, with the contact and the session. Computed once per request. */
  current(req: Request, res?: Response): Promise<PortalSession | null>;
  /**
   * The account that the request's session cookie names, read by the same statement `current`
   * starts with, before the session's expiry and the account's eligibility are checked: only for
   * starting work that `current` will then confirm or discard, never for granting anything.
   */
  presented(req: Request): Promise<PortalAccount | null>;
  /** The companion columns (`SessionCompanionColumns`) read with `presented`'s row, or null when there is no row. */
  presentedCompanions(req: Request): Promise<Readonly<Record<string, unknown>> | null>;
  /** Logout: deletes the request's session and clears the cookie. */
  end(req: Request, res: Response): Promise<void>;
  /**
   * Deletes every session of a contact (password change, portal off, contact deleted…), under its
   * account's row held exclusive (in `transaction`, or in one of its own); answers how many.
   */
  endAllFor(contactId: number, options?: { readonly transaction?: Transaction }): Promise<number>;
  /** Deletes the sessions that can no longer be used (a rotated-away token stays until its family's absolute end); answers how many. */
  purgeExpired(now?: Date): Promise<number>;
}

/**
 * The purge (`:now`, `:no` = false): every session past its absolute end, and every one without
 * remember-me past its idle window. A remembered one past its idle window stays until its absolute
 * end: it can still rotate, and once rotated away it is kept to recognise its replay (theft).
 * Two statements, each served by its own index (`absolute_expires_at`; `remember, idle_expires_at`):
 * test/scale/query-plans.test.ts reads their plans.
 */
export const SESSION_PURGE_STATEMENTS: readonly string[] = [
  `DELETE FROM ${SESSIONS_TABLE} WHERE absolute_expires_at <= :now`,
  `DELETE FROM ${SESSIONS_TABLE} WHERE remember = :no AND idle_expires_at <= :now`,
];

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A session joined with its account (null columns when the account is gone): one statement per request. */
type SessionRow = AccountRow & SecondFactorValues & {
  s_id: unknown;
  s_contact_id: unknown;
  s_created_at: unknown;
  s_last_seen_at: unknown;
  s_idle_expires_at: unknown;
  s_absolute_expires_at: unknown;
  s_remember: unknown;
  s_family_id: unknown;
  s_replaced_at: unknown;
  s_second_factor: unknown;
};

function sessionLookup(secondFactorColumns: string, companions: string | undefined, where: string): string {
  return `SELECT s.id AS s_id, s.contact_id AS s_contact_id, s.created_at AS s_created_at, s.last_seen_at AS s_last_seen_at,
    s.idle_expires_at AS s_idle_expires_at, s.absolute_expires_at AS s_absolute_expires_at, s.remember AS s_remember,
    s.family_id AS s_family_id, s.replaced_at AS s_replaced_at, s.second_factor AS s_second_factor, ${accountColumns('a')},
    ${secondFactorColumns}${companions ? `,
    ${companions}` : ''}
  FROM ${SESSIONS_TABLE} s LEFT JOIN ${ACCOUNTS_TABLE} a ON a.contact_id = s.contact_id
  WHERE ${where}`;
}

/** A session's family: its `family_id`, or its own id for a row from before families. */
function familyOf(value: unknown, id: string): string {
  return typeof value === 'string' && value !== '' ? value : id;
}

/** The clause that makes a SELECT wait for rows another transaction is changing or deleting (SQLite's writers take turns anyway). */
function sharedLock(dialect: string): string {
  if (dialect === 'postgres') return ' FOR SHARE';
  if (dialect === 'mariadb' || dialect === 'mysql') return ' LOCK IN SHARE MODE';
  return '';
}

function time(value: unknown): number {
  const iso = toIsoDateTime(value);
  return iso === null ? 0 : Date.parse(iso);
}

@injectable()
export class DatabasePortalSessions implements PortalSessions {
  /** One lookup per request, however many handlers ask. */
  private readonly resolved = new WeakMap<Request, Promise<PortalSession | null>>();
  /** The session's row (joined with its account) per request: `presented` and `current` share it. */
  private readonly rows = new WeakMap<Request, Promise<{ readonly id: string; readonly row: SessionRow } | null>>();

  private readonly lookup: string;
  /** The same lookup for a request that brought several `bp_session` cookies (`:ids`). */
  private readonly lookupOfSeveral: string;
  /** The lookup's named values: what `ProfileInForce` and the companion columns ask for. */
  private readonly lookupReplacements: Readonly<Record<string, unknown>>;

  constructor(
    @inject(HostDatabase) private readonly database: HostDatabase,
    @inject(AccountEligibility) private readonly eligibility: AccountEligibility,
    @inject(LoginHistory) private readonly history: LoginHistory,
    @inject(PluginSettings) private readonly settings: PluginSettings,
    @inject(SessionCompanionColumns) @optional() companions: SessionCompanionColumns | undefined,
    @inject(PortalAccountStore) private readonly accounts: PortalAccountStore,
    @inject(HostHttp) private readonly http: HostHttp,
    @inject(ProfileInForce) private readonly profiles: ProfileInForce,
  ) {
    this.lookup = sessionLookup(profiles.sessionColumns.sql, companions?.sql, 's.id = :id');
    this.lookupOfSeveral = sessionLookup(profiles.sessionColumns.sql, companions?.sql, 's.id IN (:ids)');
    this.lookupReplacements = { ...profiles.sessionColumns.replacements, ...companions?.replacements };
  }

  private get sequelize() {
    return this.database.sequelize;
  }

  /**
   * The request's well-formed `bp_session` tokens, each once: usually one. `cookie.parse` keeps only
   * the first of a name, and the first is the one on the longest path — a cookie tossed onto a path
   * under the portal would win over the customer's own.
   */
  private tokensOf(req: Request): readonly string[] {
    const header = req.headers.cookie;
    if (!header) return [];
    const tokens = new Set<string>();
    for (const pair of header.split(';')) {
      const at = pair.indexOf('=');
      if (at < 0 || pair.slice(0, at).trim() !== SESSION_COOKIE) continue;
      const token = parseCookies(pair)[SESSION_COOKIE];
      if (token && TOKEN_FORMAT.test(token)) tokens.add(token);
      if (tokens.size === MAX_PRESENTED_TOKENS) break;
    }
    return [...tokens];
  }

  private cookieOptions(req: Request): CookieOptions {
    return portalCookieOptions(req, this.http, this.settings.portalPath);
  }

  private async deleteSession(id: string): Promise<number> {
    return toNumber(
      await this.sequelize.query(`DELETE FROM ${SESSIONS_TABLE} WHERE id = :id`, { type: QueryTypes.BULKDELETE, replacements: { id } }),
    );
  }

  /**
   * Inserts a session and sets its cookie. `createdAt`, `absoluteExpiresAt` and `familyId` carry
   * over when rotating (a new session is a family of its own); `token` is the new token when the
   * caller drew it already. With `successorOf` (rotating), the row goes in only while the session
   * it succeeds is still there: a logout, a password change or any other end of the contact's
   * sessions that ran since the rotation began leaves no successor, and null is answered.
   */
  private async issue(
    req: Request,
    res: Response,
    contactId: number,
    session: {
      readonly remember: boolean;
      readonly secondFactor: string | null;
      readonly createdAt: Date;
      readonly absoluteExpiresAt: Date;
      readonly familyId?: string;
      readonly token?: string;
      readonly successorOf?: string;
    },
    now: Date,
    transaction?: Transaction,
  ): Promise<string | null> {
    const token = session.token ?? randomBytes(TOKEN_BYTES).toString('base64url');
    const id = hashToken(token);
    const idleExpiresAt = new Date(Math.min(now.getTime() + SESSION_IDLE_MS, session.absoluteExpiresAt.getTime()));
    const columns = `${SESSIONS_TABLE} (id, family_id, contact_id, created_at, last_seen_at, idle_expires_at, absolute_expires_at, remember, second_factor, ip, user_agent)`;
    const values = ':id, :familyId, :contactId, :createdAt, :now, :idleExpiresAt, :absoluteExpiresAt, :remember, :secondFactor, :ip, :userAgent';
    const { successorOf } = session;
    const inserted = await this.sequelize.query(
      successorOf === undefined
        ? `INSERT INTO ${columns} VALUES (${values})`
        : // A locking read: a delete of that row not yet committed is waited for, not read past.
          `INSERT INTO ${columns} SELECT ${values} FROM ${SESSIONS_TABLE} WHERE id = :successorOf${sharedLock(this.sequelize.getDialect())}`,
      {
        type: successorOf === undefined ? QueryTypes.INSERT : QueryTypes.BULKUPDATE,
        transaction,
        replacements: {
          ...(successorOf === undefined ? {} : { successorOf }),
          id,
          familyId: session.familyId ?? id,
          contactId,
          createdAt: session.createdAt,
          now,
          idleExpiresAt,
          absoluteExpiresAt: session.absoluteExpiresAt,
          remember: session.remember,
          secondFactor: session.secondFactor,
          ip: req.ip || req.socket.remoteAddress ? clientAddress(req).slice(0, 45) : null,
          userAgent: req.get('user-agent')?.slice(0, 512) ?? null,
        },
      },
    );
    if (successorOf !== undefined && toNumber(inserted) !== 1) return null;
    const options = this.cookieOptions(req);
    // A remembered session's cookie outlives the browser, until the session's absolute end.
    if (session.remember) options.maxAge = Math.max(0, session.absoluteExpiresAt.getTime() - now.getTime());
    res.cookie(SESSION_COOKIE, token, options);
    return id;
  }

  async start(
    req: Request,
    res: Response,
    contactId: number,
    options: { readonly remember: boolean; readonly passwordHash?: string; readonly secondFactor?: string | null },
  ): Promise<boolean> {
    // Every session the browser brought along, a tossed one beside its own included.
    const previous = this.tokensOf(req).map(hashToken);
    if (previous.length > 0) {
      await this.sequelize.query(`DELETE FROM ${SESSIONS_TABLE} WHERE id IN (:previous)`, { type: QueryTypes.BULKDELETE, replacements: { previous } });
    }
    const now = new Date();
    const absoluteExpiresAt = new Date(now.getTime() + (options.remember ? REMEMBER_ABSOLUTE_MS : SESSION_ABSOLUTE_MS));
    const session = { remember: options.remember, secondFactor: options.secondFactor ?? null, createdAt: now, absoluteExpiresAt };
    const { passwordHash } = options;
    let started = true;
    if (passwordHash === undefined) await this.issue(req, res, contactId, session, now);
    else {
      // The account's row stays locked until the session is in: a password change (which writes that
      // row, then ends the sessions) runs wholly before — and this finds another hash — or wholly after.
      started = await this.sequelize.transaction(async (transaction) => {
        if (!(await this.accounts.holdPassword(contactId, passwordHash, { transaction }))) return false;
        await this.issue(req, res, contactId, session, now, transaction);
        return true;
      });
    }
    this.forget(req);
    return started;
  }

  private forget(req: Request): void {
    this.resolved.delete(req);
    this.rows.delete(req);
  }

  private sessionRow(req: Request): Promise<{ readonly id: string; readonly row: SessionRow } | null> {
    let pending = this.rows.get(req);
    if (!pending) {
      pending = this.readRow(req);
      this.rows.set(req, pending);
    }
    return pending;
  }

  private async readRow(req: Request): Promise<{ readonly id: string; readonly row: SessionRow } | null> {
    const ids = this.tokensOf(req).map(hashToken);
    if (ids.length === 0) return null;
    if (ids.length === 1) {
      const id = ids[0]!;
      const rows = await this.sequelize.query<SessionRow>(this.lookup, { type: QueryTypes.SELECT, replacements: { ...this.lookupReplacements, id } });
      return rows[0] ? { id, row: rows[0] } : null;
    }
    // Several cookies: the one that names a session is the browser's; when more than one does, one
    // of them was planted and nothing tells which: neither is served, and both end (with their
    // families), so that the planted one stops working and the customer signs in once more.
    const rows = await this.sequelize.query<SessionRow>(this.lookupOfSeveral, { type: QueryTypes.SELECT, replacements: { ...this.lookupReplacements, ids } });
    if (rows.length === 1) return { id: String(rows[0]!.s_id), row: rows[0]! };
    for (const row of rows) {
      const id = String(row.s_id);
      await this.deleteFamily(id, familyOf(row.s_family_id, id), toNumber(row.s_contact_id));
    }
    return null;
  }

  async presented(req: Request): Promise<PortalAccount | null> {
    const found = await this.sessionRow(req);
    return found && found.row.id !== null && found.row.id !== undefined ? toAccount(found.row) : null;
  }

  async presentedCompanions(req: Request): Promise<Readonly<Record<string, unknown>> | null> {
    return (await this.sessionRow(req))?.row ?? null;
  }

  async authenticate(req: Request, res?: Response): Promise<PortalAccount | null> {
    return (await this.current(req, res))?.account ?? null;
  }

  current(req: Request, res?: Response): Promise<PortalSession | null> {
    let pending = this.resolved.get(req);
    if (!pending) {
      pending = this.resolve(req, res);
      this.resolved.set(req, pending);
    }
    return pending;
  }

  private async resolve(req: Request, res: Response | undefined): Promise<PortalSession | null> {
    const found = await this.sessionRow(req);
    if (!found) return null;
    const { row } = found;
    let { id } = found;
    const now = new Date();
    const contactId = toNumber(row.s_contact_id);
    const remember = toBoolean(row.s_remember);
    const familyId = familyOf(row.s_family_id, id);
    const absoluteExpiresAt = time(row.s_absolute_expires_at);
    if (absoluteExpiresAt <= now.getTime()) {
      await this.deleteSession(id);
      return null;
    }
    const account = row.id === null || row.id === undefined ? null : toAccount(row);
    const secondFactor = typeof row.s_second_factor === 'string' && row.s_second_factor !== '' ? row.s_second_factor : null;
    // Opened with the password alone, and the profile in force now asks for a second factor (an
    // admin's decision, on any host process): signed out, before anything is rotated or touched.
    if (account && secondFactor === null && (await this.profiles.asksForSecondFactor(account, row))) {
      await this.endWithoutSecondFactor(req, id, familyId, contactId);
      return null;
    }
    // A rotated-away token: good until its grace window ends (its idle expiry), never touched.
    let settled = row.s_replaced_at !== null && row.s_replaced_at !== undefined;
    if (time(row.s_idle_expires_at) <= now.getTime()) {
      if (settled) {
        await this.endReplayedFamily(req, id, familyId, contactId);
        return null;
      }
      if (!remember || !res) {
        if (!remember) await this.deleteSession(id);
        return null;
      }
      const rotated = await this.rotate(req, res, id, { contactId, remember, secondFactor, familyId, createdAt: time(row.s_created_at), absoluteExpiresAt }, now);
      if (rotated === null) return null;
      id = rotated;
      settled = true;
    }

    const eligibility = account ? await this.eligibility.check(account, now) : null;
    if (!account || !eligibility?.eligible) {
      await this.endAllFor(contactId);
      return null;
    }
    if (!settled && now.getTime() - time(row.s_last_seen_at) >= TOUCH_INTERVAL_MS) {
      await this.sequelize.query(
        `UPDATE ${SESSIONS_TABLE} SET last_seen_at = :now, idle_expires_at = :idleExpiresAt WHERE id = :id AND replaced_at IS NULL`,
        {
          type: QueryTypes.BULKUPDATE,
          replacements: { id, now, idleExpiresAt: new Date(Math.min(now.getTime() + SESSION_IDLE_MS, absoluteExpiresAt)) },
        },
      );
    }
    return { account, contact: eligibility.contact, sessionId: familyId, remember, secondFactor };
  }

  /**
   * Rotates a remembered session whose idle window lapsed: the request whose UPDATE marked the old
   * row replaced issues the successor (and its cookie); a request that lost that race to a
   * concurrent one is answered on the old token while its grace window lasts. Returns the id the
   * request goes on with, or null when the old session is gone.
   */
  private async rotate(
    req: Request,
    res: Response,
    id: string,
    session: {
      readonly contactId: number;
      readonly remember: boolean;
      readonly secondFactor: string | null;
      readonly familyId: string;
      readonly createdAt: number;
      readonly absoluteExpiresAt: number;
    },
    now: Date,
  ): Promise<string | null> {
    const graceEnd = new Date(Math.min(now.getTime() + ROTATION_GRACE_MS, session.absoluteExpiresAt));
    const won = toNumber(
      await this.sequelize.query(
        `UPDATE ${SESSIONS_TABLE} SET replaced_at = :now, idle_expires_at = :graceEnd WHERE id = :id AND replaced_at IS NULL`,
        { type: QueryTypes.BULKUPDATE, replacements: { id, now, graceEnd } },
      ),
    );
    if (won === 1) {
      // The successor goes in under the account's row, held shared: a logout, a password change or
      // any other end of the contact's sessions holds it exclusive, so it runs wholly before (no
      // successor: the old row is gone) or wholly after (its DELETE sees the successor). Beside
      // each other, a DELETE begun while this statement ran missed the successor on PostgreSQL
      // (it deletes only the rows there were when it began) and met it in a deadlock on MariaDB.
      return this.sequelize.transaction(async (transaction) => {
        await this.accounts.lockForSessions(session.contactId, 'shared', { transaction });
        return this.issue(
          req,
          res,
          session.contactId,
          {
            remember: session.remember,
            secondFactor: session.secondFactor,
            createdAt: new Date(session.createdAt),
            absoluteExpiresAt: new Date(session.absoluteExpiresAt),
            familyId: session.familyId,
            successorOf: id,
          },
          now,
          transaction,
        );
      });
    }
    const rows = await this.sequelize.query<{ idle_expires_at: unknown; replaced_at: unknown }>(
      `SELECT idle_expires_at, replaced_at FROM ${SESSIONS_TABLE} WHERE id = :id`,
      { type: QueryTypes.SELECT, replacements: { id } },
    );
    const other = rows[0];
    return other && other.replaced_at !== null && time(other.idle_expires_at) > now.getTime() ? id : null;
  }

  /**
   * A token rotated away more than `ROTATION_GRACE_MS` ago came back: its cookie was copied (the
   * browser that rotated it holds the successor). Ends every session of the family and records it
   * once, on whichever process ended the rows (a second one finds none, and records nothing).
   */
  private async endReplayedFamily(req: Request, id: string, familyId: string, contactId: number): Promise<void> {
    if ((await this.deleteFamily(id, familyId, contactId)) === 0) return;
    await this.history.record({ event: 'revoked', contactId, email: null, reason: 'token_replayed', ip: req.ip ? clientAddress(req) : null });
  }

  /**
   * A session opened without the second factor its profile now asks for: its family ends (the
   * customer's other sign-ins are judged each at its own next request) and the login history
   * records it once, on whichever process ended the rows.
   */
  private async endWithoutSecondFactor(req: Request, id: string, familyId: string, contactId: number): Promise<void> {
    if ((await this.deleteFamily(id, familyId, contactId)) === 0) return;
    await this.history.record({ event: 'revoked', contactId, email: null, reason: 'second_factor_required', ip: req.ip ? clientAddress(req) : null });
  }

  /**
   * Deletes a session and its whole family (the tokens rotated away and the live one), under its
   * account's row (`contactId`, when known) held exclusive; answers how many rows went.
   */
  private async deleteFamily(id: string, familyId: string, contactId: number | null): Promise<number> {
    const statement = `DELETE FROM ${SESSIONS_TABLE} WHERE id = :id OR family_id = :familyId`;
    return this.sequelize.transaction(async (transaction) => {
      if (contactId !== null) await this.accounts.lockForSessions(contactId, 'exclusive', { transaction });
      const options = { type: QueryTypes.BULKDELETE, replacements: { id, familyId }, transaction } as const;
      const ended = toNumber(await this.sequelize.query(statement, options));
      if (ended === 0) return 0;
      // Once more: a rotation of the family's live token that took no lock (its account's row is
      // gone, say) may have stored its successor while this DELETE waited for that token's row (a
      // PostgreSQL DELETE deletes only the rows there were when it began); the second one sees it.
      return ended + toNumber(await this.sequelize.query(statement, options));
    });
  }

  async end(req: Request, res: Response): Promise<void> {
    // Every session the request names: a tossed cookie's as well as the customer's own.
    for (const token of this.tokensOf(req)) {
      const id = hashToken(token);
      const rows = await this.sequelize.query<{ contact_id: unknown; family_id: unknown }>(`SELECT contact_id, family_id FROM ${SESSIONS_TABLE} WHERE id = :id`, {
        type: QueryTypes.SELECT,
        replacements: { id },
      });
      const row = rows[0];
      // The whole family: a rotated-away token still in its grace window ends with its successor.
      const ended = await this.deleteFamily(id, familyOf(row?.family_id, id), row ? toNumber(row.contact_id) : null);
      if (ended > 0 && row) {
        await this.history.record({ event: 'logout', contactId: toNumber(row.contact_id), email: null, reason: 'user_logout', ip: req.ip ? clientAddress(req) : null });
      }
    }
    this.forget(req);
    res.clearCookie(SESSION_COOKIE, this.cookieOptions(req));
  }

  async endAllFor(contactId: number, options: { readonly transaction?: Transaction } = {}): Promise<number> {
    // Under the account's row held exclusive, as every end of sessions (see `rotate`).
    const end = async (transaction: Transaction) => {
      await this.accounts.lockForSessions(contactId, 'exclusive', { transaction });
      return toNumber(
        await this.sequelize.query(`DELETE FROM ${SESSIONS_TABLE} WHERE contact_id = :contactId`, {
          type: QueryTypes.BULKDELETE,
          replacements: { contactId },
          transaction,
        }),
      );
    };
    return options.transaction ? end(options.transaction) : this.sequelize.transaction(end);
  }

  async purgeExpired(now: Date = new Date()): Promise<number> {
    let purged = 0;
    for (const statement of SESSION_PURGE_STATEMENTS) {
      purged += toNumber(await this.sequelize.query(statement, { type: QueryTypes.BULKDELETE, replacements: { now, no: false } }));
    }
    return purged;
  }
}
