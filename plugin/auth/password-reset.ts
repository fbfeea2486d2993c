/**
 * "I forgot my password" (SECURITY.md: a token of at least 128 random bits, stored hashed,
 * valid at most 60 minutes — 30 here —, single use, dead after any password change).
 *
 * - `request` answers nothing and always takes the same time: whether the email is known,
 *   unknown, ineligible or throttled (3 requests per address and 10 per client per hour, an
 *   IPv6 client by its /64: `clientKey`) cannot be told from outside. A link goes only to a
 *   single enabled, eligible account; the mail is sent in the background so that its delivery
 *   time does not show either (a deactivation waits for the mails under way, for a while: until
 *   its `DeactivationDeadline`, so that none meets the database the host closes next). A request
 *   (email as typed, client) is kept only for the hour the limits count it in: `purgeRequests`,
 *   run by `RetentionPurge`.
 * - `complete` checks the link's token as a secret under the lockout's shared counter (a locked
 *   account cannot reset; a spent, expired or outdated token is a failure), unknown tokens count
 *   against the client address, then — only while the password is still the one the link was
 *   spent against — sets the password, kills every other link and session of the contact and
 *   mails `passwordChanged` once committed.
 */
import { randomBytes } from 'node:crypto';
import { inject, injectable } from 'inversify';
import { QueryTypes } from 'sequelize';
import { HostDatabase, HostHttp, HostLogger } from '../host-contract/index.js';
import type { MessageKey, MessageParams } from '../i18n/message-keys.js';
import { BackgroundWork, DeactivationDeadline } from '../lifecycle/background-work.js';
import { PluginSettings, type LifecycleContribution } from '../lifecycle/contributions.js';
import { toIsoDateTime, toNumber } from '../lifecycle/sql-values.js';
import { PortalMailer, isMailAddress } from '../notifications/portal-mailer.js';
import { AccountEligibility } from './account-eligibility.js';
import { clientKey } from './client-address.js';
import { Lockout } from './lockout.js';
import { LoginHistory } from './login-history.js';
import { PasswordHasher } from './password-hasher.js';
import { PasswordPolicy } from './password-policy.js';
import { PortalAccountStore, RESET_TOKENS_TABLE, normalizeEmail, type PortalAccount } from './portal-account-store.js';
import { PortalSessions, hashToken } from './portal-sessions.js';
import { clipped } from '../access/field-input.js';

export { RESET_TOKENS_TABLE };
export const RESET_REQUESTS_TABLE = 'bp_reset_requests';
export const RESET_VALID_MINUTES = 30;
export const RESET_REQUESTS_PER_EMAIL_PER_HOUR = 3;
export const RESET_REQUESTS_PER_CLIENT_PER_HOUR = 10;
/** The window both limits count requests in; a request is kept no longer (it holds a typed email and a client address). */
export const RESET_REQUESTS_WINDOW_MS = 60 * 60_000;
/**
 * The purge of the requests no limit counts any more (`:forgotten` = now − RESET_REQUESTS_WINDOW_MS),
 * run off the request path by `RetentionPurge`; served by the index on `at`
 * (20261205500000-reset-requests-purge-index), whose plan test/scale/query-plans.test.ts reads.
 */
export const RESET_REQUESTS_PURGE_STATEMENT = `DELETE FROM ${RESET_REQUESTS_TABLE} WHERE at <= :forgotten`;
/** Every forgot-password request takes at least this long, whatever happened. */
export const RESET_REQUEST_MIN_MS = 200;

const TOKEN_FORMAT = /^[A-Za-z0-9_-]{43}$/;

export type ResetCompletion =
  | { readonly ok: true }
  | { readonly ok: false; readonly problem: 'invalidLink' | 'mismatch' | 'policy'; readonly messageKey: MessageKey; readonly params?: MessageParams };

export const PasswordReset = Symbol.for('business-portal.auth.PasswordReset');
export interface PasswordReset {
  request(email: string, ip: string): Promise<void>;
  /** Whether a link's token can still be used (for showing the form; nothing is counted or spent). */
  usable(token: string | undefined): Promise<boolean>;
  complete(token: string | undefined, input: { readonly newPassword: string; readonly confirmPassword?: string }, ip: string): Promise<ResetCompletion>;
  /** Deletes the requests older than the limits' window (`RESET_REQUESTS_WINDOW_MS`); answers how many. */
  purgeRequests(now?: Date): Promise<number>;
}

interface TokenRow {
  id: unknown;
  contact_id: unknown;
  created_at: unknown;
  expires_at: unknown;
  used_at: unknown;
}

const INVALID_LINK: ResetCompletion = { ok: false, problem: 'invalidLink', messageKey: 'auth.reset.invalidLink' };

@injectable()
export class TokenPasswordReset implements PasswordReset, LifecycleContribution {
  /** Recovery mails still being sent after their request answered. */
  private readonly mails = new BackgroundWork();

  constructor(
    @inject(HostDatabase) private readonly database: HostDatabase,
    @inject(HostHttp) private readonly http: HostHttp,
    @inject(HostLogger) private readonly logger: HostLogger,
    @inject(PluginSettings) private readonly settings: PluginSettings,
    @inject(PortalAccountStore) private readonly accounts: PortalAccountStore,
    @inject(AccountEligibility) private readonly eligibility: AccountEligibility,
    @inject(Lockout) private readonly lockout: Lockout,
    @inject(LoginHistory) private readonly history: LoginHistory,
    @inject(PasswordHasher) private readonly hasher: PasswordHasher,
    @inject(PasswordPolicy) private readonly policy: PasswordPolicy,
    @inject(PortalSessions) private readonly sessions: PortalSessions,
    @inject(PortalMailer) private readonly mailer: PortalMailer,
    @inject(DeactivationDeadline) private readonly deadline: DeactivationDeadline,
  ) {}

  private get sequelize() {
    return this.database.sequelize;
  }

  async request(email: string, ip: string): Promise<void> {
    const started = performance.now();
    try {
      await this.issueLink(clipped(normalizeEmail(email), 254), ip.slice(0, 45));
    } finally {
      const left = RESET_REQUEST_MIN_MS - (performance.now() - started);
      if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
    }
  }

  private async issueLink(email: string, ip: string): Promise<void> {
    if (!isMailAddress(email)) return;
    const now = new Date();
    // Counted per client: an IPv6 one by its /64.
    const client = clientKey(ip).slice(0, 45);
    await this.sequelize.query(`INSERT INTO ${RESET_REQUESTS_TABLE} (email, ip, at) VALUES (:email, :client, :now)`, {
      type: QueryTypes.INSERT,
      replacements: { email, client, now },
    });
    const hourAgo = new Date(now.getTime() - RESET_REQUESTS_WINDOW_MS);
    const [counts] = await this.sequelize.query<{ by_email: unknown; by_client: unknown }>(
      `SELECT (SELECT COUNT(*) FROM ${RESET_REQUESTS_TABLE} WHERE email = :email AND at > :hourAgo) AS by_email,
              (SELECT COUNT(*) FROM ${RESET_REQUESTS_TABLE} WHERE ip = :client AND at > :hourAgo) AS by_client`,
      { type: QueryTypes.SELECT, replacements: { email, client, hourAgo } },
    );
    if (toNumber(counts?.by_email) > RESET_REQUESTS_PER_EMAIL_PER_HOUR || toNumber(counts?.by_client) > RESET_REQUESTS_PER_CLIENT_PER_HOUR) {
      this.logger.warn('Business Portal: password reset requests throttled', { ip });
      return;
    }
    const enabled = (await this.accounts.findByEmail(email)).filter((account) => account.portalEnabled);
    if (enabled.length !== 1) return;
    const account = enabled[0]!;
    if (!(await this.eligibility.check(account)).eligible || !account.hasPassword) return;

    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(now.getTime() + RESET_VALID_MINUTES * 60_000);
    await this.sequelize.query(
      `INSERT INTO ${RESET_TOKENS_TABLE} (contact_id, token_hash, created_at, expires_at, used_at, ip) VALUES (:contactId, :hash, :now, :expiresAt, NULL, :ip)`,
      {
        type: QueryTypes.INSERT,
        replacements: { contactId: account.contactId, hash: hashToken(token), now, expiresAt, ip },
      },
    );
    const resetUrl = this.http.publicUrl(`${this.settings.portalPath}/reset-password?token=${token}`);
    // In the background: how long the SMTP server takes must not tell a known address from an unknown one.
    // A host that keeps it to try again never delivers it once the link has expired (discardAfter).
    const mail = () => this.mailer.sendToContact('passwordRecovery', account.contactId, { portal: { resetUrl, minutes: RESET_VALID_MINUTES } }, { discardAfter: expiresAt });
    void this.mails.run(mail).catch((error: unknown) => {
      this.logger.error('Business Portal: the password recovery mail could not be sent', {
        contactId: account.contactId,
        error: error instanceof Error ? error.message : String(error),
      });
    });
  }

  async onDeactivate(): Promise<void> {
    if (!(await this.mails.stop(this.deadline.leftMs()))) this.logger.warn('Business Portal: deactivated while a password recovery mail was still being sent');
  }

  async purgeRequests(now: Date = new Date()): Promise<number> {
    return toNumber(
      await this.sequelize.query(RESET_REQUESTS_PURGE_STATEMENT, {
        type: QueryTypes.BULKDELETE,
        replacements: { forgotten: new Date(now.getTime() - RESET_REQUESTS_WINDOW_MS) },
      }),
    );
  }

  private async find(token: string | undefined): Promise<{ row: TokenRow; account: PortalAccount } | null> {
    if (!token || !TOKEN_FORMAT.test(token)) return null;
    const rows = await this.sequelize.query<TokenRow>(
      `SELECT id, contact_id, created_at, expires_at, used_at FROM ${RESET_TOKENS_TABLE} WHERE token_hash = :hash`,
      { type: QueryTypes.SELECT, replacements: { hash: hashToken(token) } },
    );
    const row = rows[0];
    if (!row) return null;
    const account = await this.accounts.findByContactId(toNumber(row.contact_id));
    return account ? { row, account } : null;
  }

  /** Unused, unexpired, and made after the account's last password change. */
  private alive(row: TokenRow, account: PortalAccount, now = Date.now()): boolean {
    const created = Date.parse(toIsoDateTime(row.created_at) ?? '');
    const expires = Date.parse(toIsoDateTime(row.expires_at) ?? '');
    const changed = account.passwordChangedAt ? Date.parse(account.passwordChangedAt) : Number.NEGATIVE_INFINITY;
    return toIsoDateTime(row.used_at) === null && expires > now && created >= changed;
  }

  async usable(token: string | undefined): Promise<boolean> {
    const found = await this.find(token);
    return found !== null && this.alive(found.row, found.account) && (await this.eligibility.check(found.account)).eligible;
  }

  async complete(token: string | undefined, input: { readonly newPassword: string; readonly confirmPassword?: string }, ip: string): Promise<ResetCompletion> {
    // No token of a token's shape guesses none: refused before the address's failure count, which
    // is for guesses (a form posted without its link must not bring the address nearer its ban).
    if (!token || !TOKEN_FORMAT.test(token)) return INVALID_LINK;
    if (!(await this.lockout.reserveClient(ip))) return INVALID_LINK;
    const found = await this.find(token);
    if (!found || !(await this.eligibility.check(found.account)).eligible) {
      await this.lockout.clientFailed(ip, null);
      return INVALID_LINK;
    }
    const { row, account } = found;
    if (input.confirmPassword !== undefined && input.confirmPassword !== input.newPassword) {
      await this.lockout.clientSucceeded(ip);
      return { ok: false, problem: 'mismatch', messageKey: 'auth.password.mismatch' };
    }
    const verdict = this.policy.check(input.newPassword, { email: account.email });
    if (!verdict.ok) {
      await this.lockout.clientSucceeded(ip);
      return { ok: false, problem: 'policy', messageKey: verdict.messageKey, ...(verdict.params ? { params: verdict.params } : {}) };
    }

    const id = toNumber(row.id);
    // The password the link replaces, read before the link is spent: the new one is written only
    // while it is still the account's (a change that lands meanwhile — another link's included — kills this one).
    const replaced = await this.accounts.passwordHash(account.contactId);
    // The lockout records a dead link itself, before the lock it may cause.
    const outcome = await this.lockout.guard(
      account,
      ip,
      async () => {
        if (!this.alive(row, account)) return false;
        // Spend the token: only one request can.
        const spent = await this.sequelize.query(
          `UPDATE ${RESET_TOKENS_TABLE} SET used_at = :now WHERE id = :id AND used_at IS NULL AND expires_at > :now`,
          { type: QueryTypes.BULKUPDATE, replacements: { id, now: new Date() } },
        );
        return toNumber(spent) === 1;
      },
      { failure: { reason: 'reset_link_invalid' } },
    );
    if (outcome.kind !== 'passed') {
      await this.lockout.clientFailed(ip, account.email);
      if (outcome.kind === 'refused') await this.history.record({ event: 'failed', contactId: account.contactId, email: account.email, reason: outcome.reason, ip });
      return INVALID_LINK;
    }
    await this.lockout.clientSucceeded(ip);

    const newHash = await this.hasher.hash(input.newPassword);
    const changed = await this.sequelize.transaction(async (transaction) => {
      if (replaced === null || !(await this.accounts.holdPassword(account.contactId, replaced, { transaction }))) return false;
      await this.accounts.setPassword(account.contactId, newHash, { mustChange: false, transaction });
      await this.accounts.dropResetLinks(account.contactId, { transaction });
      await this.sessions.endAllFor(account.contactId, { transaction });
      await this.mailer.sendToContact('passwordChanged', account.contactId, {}, { transaction });
      return true;
    });
    return changed ? { ok: true } : INVALID_LINK;
  }
}
