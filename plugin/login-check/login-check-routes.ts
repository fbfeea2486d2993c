/**
 * Check Business Portal login (`{settingsPath}/login-check`), for CRM admins only (the admin
 * router refuses anyone else and checks the CSRF token of every POST):
 *
 *   GET  /login-check?q=…          locked portal users (filtered), banned client addresses,
 *                                  recent failures of users not locked, recent admin actions
 *   POST /login-check/unlock       contactId=…(repeated), q=… → unlocks the locked ones (at most
 *                                  MAX_UNLOCK ids, in one transaction), back to the page
 *   POST /login-check/lift-ban     ip=…, q=…                  → lifts the ban, back to the page
 *
 * Every action is audited (`LoginCheckAudit`: table and host log) in the transaction of the
 * change (no change without its entry): only a locked user is unlocked — each one audited; ids
 * that unlock nobody are only counted — and only a banned address lifted (a lift asked for an
 * address not banned is audited as such), and the page says when there was nothing to unlock or
 * lift. POSTs answer 303 to the page with the outcome in the query (numbers and a validated
 * address only, never free text; `q` too, the view it came back to), signed for the admin's CRM
 * session (`AdminOutcomes`, plugin/http/admin-outcomes.ts): the page shows only an outcome it
 * signed, so a link made or altered by someone else shows an admin no false count.
 */
import { fileURLToPath } from 'node:url';
import type { Request, Response, Router } from 'express';
import { inject, injectable, optional } from 'inversify';
import { HostDatabase } from '../host-contract/index.js';
import { isClientKey } from '../auth/client-address.js';
import { BAN_CLIENT_AFTER_FAILURES, LOCK_AFTER_FAILURES, Lockout } from '../auth/lockout.js';
import { AdminOutcomes } from '../http/admin-outcomes.js';
import { AdminPages, crmSessionOf } from '../http/admin-pages.js';
import { PackageAssets } from '../http/package-assets.js';
import type { MessageKey, MessageParams } from '../i18n/message-keys.js';
import { Translator } from '../i18n/translator.js';
import { PluginSettings, type AdminRouteContribution } from '../lifecycle/contributions.js';
import { LockedAccounts, MAX_FILTER_LENGTH, MAX_LISTED, type ListedAccount } from './locked-accounts.js';
import { LoginCheckAudit, type LoginCheckAuditEntry } from './login-check-audit.js';

export const LOGIN_CHECK_PATH = '/login-check';
const LOGIN_CHECK_ASSETS = new PackageAssets(fileURLToPath(new URL('./assets/', import.meta.url)));
/** The most portal users one POST may unlock (a page lists at most `MAX_LISTED`). */
const MAX_UNLOCK = MAX_LISTED;
const AUDIT_SHOWN = 20;
const contactIdShape = /^[1-9]\d{0,9}$/;

/** C0 and C1 control characters and DEL: no name or email holds one. */
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

type Filter = { readonly search: string } | { readonly invalid: MessageKey };

/**
 * `q` as the page takes it: absent, or one string of at most MAX_FILTER_LENGTH characters
 * without control characters (SQLite ends a statement at a NUL and PostgreSQL refuses one: such
 * a filter is a 400 here, never an error of the database).
 */
function filterOf(value: unknown): Filter {
  if (value === undefined) return { search: '' };
  if (typeof value !== 'string' || value.length > MAX_FILTER_LENGTH) return { invalid: 'loginCheck.invalidFilter' };
  if (CONTROL_CHARACTER.test(value)) return { invalid: 'loginCheck.invalidFilterCharacters' };
  return { search: value.trim() };
}

/**
 * Contact ids of the unlock form: the distinct values sent, those shaped as a contact id (a positive
 * integer of at most 2^31 - 1) as numbers, and how many others there were: a forged value (`abc`,
 * `-1`, `01`) unlocks no one, as an id of nobody does, and is only counted as skipped. `tooMany`:
 * more than one POST may unlock (no page shows that many boxes: a forged form, or a list a script made).
 */
function contactIdsOf(value: unknown): { readonly ids: number[]; readonly forged: number } | 'tooMany' {
  const values = value === undefined ? [] : Array.isArray(value) ? value : [value];
  if (values.length > MAX_UNLOCK) return 'tooMany';
  const distinct = new Set(values.map((item) => (typeof item === 'string' ? item : JSON.stringify(item))));
  const ids: number[] = [];
  for (const item of distinct) {
    if (contactIdShape.test(item) && Number(item) <= 2_147_483_647) ids.push(Number(item));
  }
  return { ids, forged: distinct.size - ids.length };
}

function count(value: unknown): number | null {
  return typeof value === 'string' && /^\d{1,4}$/.test(value) ? Number(value) : null;
}

/**
 * What an audit entry says: an unlock or a lifted ban, or one asked for where there was nothing to
 * lift. An unlock names its contact (and its number, as names repeat) while the contact exists; a
 * contact deleted since is named by its number alone.
 */
function auditText(entry: LoginCheckAuditEntry, named: boolean): MessageKey {
  if (entry.action === 'unlock') {
    if (named) return entry.applied ? 'loginCheck.auditUnlockNamed' : 'loginCheck.auditUnlockNamedNotLocked';
    return entry.applied ? 'loginCheck.auditUnlock' : 'loginCheck.auditUnlockNotLocked';
  }
  return entry.applied ? 'loginCheck.auditLiftBan' : 'loginCheck.auditLiftBanNotBanned';
}

interface Notice {
  readonly key: MessageKey;
  readonly params?: MessageParams;
  readonly error?: boolean;
  /** A second sentence. */
  readonly then?: { readonly key: MessageKey; readonly params?: MessageParams };
}

@injectable()
export class LoginCheckRoutes implements AdminRouteContribution {
  constructor(
    @inject(AdminPages) private readonly pages: AdminPages,
    @inject(LockedAccounts) private readonly accounts: LockedAccounts,
    @inject(LoginCheckAudit) private readonly audit: LoginCheckAudit,
    @inject(Translator) private readonly translator: Translator,
    @inject(PluginSettings) private readonly settings: PluginSettings,
    @inject(HostDatabase) private readonly database: HostDatabase,
    @inject(AdminOutcomes) private readonly outcomes: AdminOutcomes,
    // Bound by the auth capability. Without it (the plugin's core alone, as its shell suites load
    // it) nothing can be unlocked: the page only lists, and the POST routes do not exist.
    @inject(Lockout) @optional() private readonly lockout?: Lockout,
  ) {}

  registerAdminRoutes(router: Router): void {
    router.use(`${LOGIN_CHECK_PATH}/assets`, LOGIN_CHECK_ASSETS.routes());
    router.get(LOGIN_CHECK_PATH, (req, res) => this.page(req, res));
    const lockout = this.lockout;
    if (!lockout) return;
    router.post(`${LOGIN_CHECK_PATH}/unlock`, (req, res) => this.unlock(req, res, lockout));
    router.post(`${LOGIN_CHECK_PATH}/lift-ban`, (req, res) => this.liftBan(req, res, lockout));
  }

  private async page(req: Request, res: Response): Promise<void> {
    const filter = filterOf(req.query.q);
    if ('invalid' in filter) {
      await this.pages.send(req, res, {
        template: 'admin/message',
        titleKey: 'loginCheck.title',
        status: 400,
        data: { message: this.translator.t(this.pages.language(res), filter.invalid, { max: MAX_FILTER_LENGTH }) },
      });
      return;
    }
    const { search } = filter;
    const language = this.pages.language(res);
    // Only an outcome this page's own POST signed for this admin's session (see back()).
    const outcome = this.outcomes.of(req, res);
    const notice = outcome ? this.noticeOf(outcome) : null;
    const [locked, failing, banned, audit] = await Promise.all([
      this.accounts.list({ search }),
      this.accounts.recentFailures({ search }),
      // One more than listed: whether there are others (a distributed attack bans thousands of addresses).
      this.lockout ? this.lockout.bannedClients({ limit: MAX_LISTED + 1 }) : [],
      this.audit.latest(AUDIT_SHOWN),
    ]);
    const unlocked = audit.filter((entry) => entry.action === 'unlock' && /^[1-9][0-9]{0,9}$/.test(entry.target)).map((entry) => Number(entry.target));
    const names = await this.accounts.contactNames(unlocked);
    const auditRow = (entry: LoginCheckAuditEntry) => {
      const name = entry.action === 'unlock' ? names.get(Number(entry.target)) : undefined;
      return { ...entry, what: this.translator.t(language, auditText(entry, name !== undefined), name === undefined ? { target: entry.target } : { target: entry.target, name }) };
    };
    const noticeText = notice
      ? [notice, ...(notice.then ? [notice.then] : [])].map((part) => this.translator.t(language, part.key, part.params)).join(' ')
      : null;
    const row = (account: ListedAccount) => {
      const name = account.contactName ?? this.translator.t(language, 'loginCheck.unknownContact', { id: account.contactId });
      return { ...account, name, contactUrl: `/contacts/${account.contactId}` };
    };
    await this.pages.send(req, res, {
      template: 'admin/login-check',
      titleKey: 'loginCheck.title',
      notice: noticeText,
      data: {
        canAct: this.lockout !== undefined,
        maxAttempts: LOCK_AFTER_FAILURES,
        banAfter: BAN_CLIENT_AFTER_FAILURES,
        search,
        maxFilter: MAX_FILTER_LENGTH,
        maxListed: MAX_LISTED,
        locked: locked.accounts.map(row),
        lockedMore: locked.more,
        failing: failing.accounts.map(row),
        failingMore: failing.more,
        banned: banned.slice(0, MAX_LISTED),
        bannedMore: banned.length > MAX_LISTED,
        audit: audit.map(auditRow),
        notice: notice ? { text: noticeText, error: notice.error === true } : null,
        stylesheet: LOGIN_CHECK_ASSETS.href(`${this.settings.settingsPath}${LOGIN_CHECK_PATH}/assets`, 'login-check.css'),
        script: LOGIN_CHECK_ASSETS.href(`${this.settings.settingsPath}${LOGIN_CHECK_PATH}/assets`, 'login-check.js'),
        actionBase: `${this.settings.settingsPath}${LOGIN_CHECK_PATH}`,
      },
    });
  }

  /** The outcome of the POST that redirected here; anything unexpected shows nothing. */
  private noticeOf(query: Readonly<Record<string, string | undefined>>): Notice | null {
    switch (query.done) {
      case 'unlocked': {
        const unlocked = count(query.count);
        const skipped = count(query.skipped);
        if (unlocked === null || skipped === null) return null;
        if (unlocked === 0) return { key: 'loginCheck.nothingUnlocked', error: true };
        // Each number in a sentence of its own, with its plural form.
        return { key: 'loginCheck.unlockedResult', params: { count: unlocked }, ...(skipped > 0 ? { then: { key: 'loginCheck.unlockedSkipped', params: { count: skipped } } } : {}) };
      }
      case 'noneSelected':
        return { key: 'loginCheck.noneSelected', error: true };
      case 'lifted':
      case 'notBanned': {
        const ip = typeof query.ip === 'string' && isClientKey(query.ip) ? query.ip : null;
        if (query.done === 'notBanned') return ip ? { key: 'loginCheck.banNotFound', params: { ip }, error: true } : { key: 'loginCheck.banNotFoundUnnamed', error: true };
        return ip ? { key: 'loginCheck.banLifted', params: { ip } } : null;
      }
      default:
        return null;
    }
  }

  /**
   * Back to the page after a POST, on the view the form was sent from: every action's form carries
   * the page's filter (`q`), and every action comes back with it, then with its outcome, signed.
   */
  private back(res: Response, search: string, outcome: Record<string, string>): void {
    this.outcomes.redirect(res, `${this.settings.settingsPath}${LOGIN_CHECK_PATH}`, { q: search, ...outcome });
  }

  private async unlock(req: Request, res: Response, lockout: Lockout): Promise<void> {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const ids = contactIdsOf(body.contactId);
    const filter = filterOf(body.q);
    if (ids === 'tooMany') {
      const language = this.pages.language(res);
      await this.pages.send(req, res, {
        template: 'admin/message',
        titleKey: 'errors.badRequestTitle',
        status: 413,
        refused: true,
        data: { title: this.translator.t(language, 'errors.badRequestTitle'), message: this.translator.t(language, 'loginCheck.tooManySelected', { max: MAX_UNLOCK }) },
      });
      return;
    }
    if ('invalid' in filter) {
      await this.pages.sendMessage(req, res, 400, 'errors.badRequestTitle', 'errors.badRequest');
      return;
    }
    const { search } = filter;
    if (ids.ids.length + ids.forged === 0) {
      this.back(res, search, { done: 'noneSelected' });
      return;
    }
    const admin = crmSessionOf(res)!.user;
    // Each unlock with its audit entry, or neither: an unlock that no entry accounts for (the audit
    // failed after it) was a change the page reported as an error. One transaction for the request:
    // a failure changes nothing, and the admin sends the same form again. Set-based, one box or a
    // page of 500: the same few statements (the locked ones read, unlocked, their history and audit
    // rows each written in one INSERT). Only an unlock is audited: an id that unlocked nobody (not
    // locked any more, no portal account, forged) changed nothing, and is only counted as skipped.
    const unlocked = await this.database.sequelize.transaction(async (transaction) => {
      const done = await lockout.unlockMany(ids.ids, admin.id, { transaction });
      await this.audit.recordMany(admin, 'unlock', done.map((contactId) => ({ target: String(contactId), applied: true })), { transaction });
      return done.length;
    });
    const skipped = ids.ids.length + ids.forged - unlocked;
    this.back(res, search, { done: 'unlocked', count: String(unlocked), skipped: String(skipped) });
  }

  private async liftBan(req: Request, res: Response, lockout: Lockout): Promise<void> {
    const body = (req.body ?? {}) as Record<string, unknown>;
    // As recorded (the host's idea of the client address, at most 45 characters), which need not be a valid IP.
    const ip = typeof body.ip === 'string' && body.ip.length > 0 && body.ip.length <= 45 && !/[\u0000-\u001f\u007f]/.test(body.ip) ? body.ip : null;
    const filter = filterOf(body.q);
    if (!ip || 'invalid' in filter) {
      await this.pages.sendMessage(req, res, 400, 'errors.badRequestTitle', 'errors.badRequest');
      return;
    }
    const admin = crmSessionOf(res)!.user;
    // The lift with its audit entry, or neither (as an unlock).
    const lifted = await this.database.sequelize.transaction(async (transaction) => {
      const applied = await lockout.liftBan(ip, admin.id, { transaction });
      await this.audit.record(admin, 'lift_ban', ip, applied, { transaction });
      return applied;
    });
    // Only a well-formed address (or IPv6 /64) travels back in the URL to be shown: never arbitrary text.
    this.back(res, filter.search, { done: lifted ? 'lifted' : 'notBanned', ip: isClientKey(ip) ? ip : '' });
  }
}
