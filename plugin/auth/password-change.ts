/**
 * Changing a signed-in customer's password (the first-access page, and `POST
 * /api/v1/auth/password`). The new password must pass the `PasswordPolicy` and differ from the
 * current one. The current password is asked for — and checked under the lockout's shared
 * counter — except on first access, where the customer has just signed in with the generated
 * one; like every check of a secret it also counts on the client address's counter (a wrong
 * one stays counted, a banned address is refused unchecked). A change sets the new hash, kills
 * the contact's reset links and every session (the browser that made the change gets a new
 * one), and mails `passwordChanged` once committed.
 */
import type { Request, Response } from 'express';
import { inject, injectable } from 'inversify';
import { HostDatabase } from '../host-contract/index.js';
import type { MessageKey, MessageParams } from '../i18n/message-keys.js';
import { PortalMailer } from '../notifications/portal-mailer.js';
import { clientAddress } from './client-address.js';
import { Lockout } from './lockout.js';
import { PasswordHasher } from './password-hasher.js';
import { PasswordPolicy } from './password-policy.js';
import { PortalAccountStore } from './portal-account-store.js';
import { PortalSessions, type PortalSession } from './portal-sessions.js';

export interface PasswordChangeInput {
  /** Needed unless the account must change its password (first access). */
  readonly currentPassword?: string;
  readonly newPassword: string;
  /** The repeated new password (the pages ask for it; the API may leave it out). */
  readonly confirmPassword?: string;
}

export type PasswordChangeProblem = 'mismatch' | 'policy' | 'sameAsCurrent' | 'currentWrong';

export type PasswordChangeResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly problem: PasswordChangeProblem; readonly messageKey: MessageKey; readonly params?: MessageParams };

export const PasswordChange = Symbol.for('business-portal.auth.PasswordChange');
export interface PasswordChange {
  change(req: Request, res: Response, session: PortalSession, input: PasswordChangeInput): Promise<PasswordChangeResult>;
}

@injectable()
export class PortalPasswordChange implements PasswordChange {
  constructor(
    @inject(HostDatabase) private readonly database: HostDatabase,
    @inject(PortalAccountStore) private readonly accounts: PortalAccountStore,
    @inject(PasswordHasher) private readonly hasher: PasswordHasher,
    @inject(PasswordPolicy) private readonly policy: PasswordPolicy,
    @inject(Lockout) private readonly lockout: Lockout,
    @inject(PortalSessions) private readonly sessions: PortalSessions,
    @inject(PortalMailer) private readonly mailer: PortalMailer,
  ) {}

  async change(req: Request, res: Response, session: PortalSession, input: PasswordChangeInput): Promise<PasswordChangeResult> {
    const { account } = session;
    if (input.confirmPassword !== undefined && input.confirmPassword !== input.newPassword) {
      return { ok: false, problem: 'mismatch', messageKey: 'auth.password.mismatch' };
    }
    const verdict = this.policy.check(input.newPassword, { email: account.email });
    if (!verdict.ok) return { ok: false, problem: 'policy', messageKey: verdict.messageKey, ...(verdict.params ? { params: verdict.params } : {}) };

    const hash = await this.accounts.passwordHash(account.contactId);
    if (!account.mustChangePassword) {
      const current = input.currentPassword ?? '';
      const currentWrong: PasswordChangeResult = { ok: false, problem: 'currentWrong', messageKey: 'auth.password.currentWrong' };
      // The client address's counter first, as at the login: a banned address checks nothing.
      const ip = clientAddress(req);
      if (!(await this.lockout.reserveClient(ip))) return currentWrong;
      // The lockout records a wrong current password in the login history, before the lock it may cause.
      const outcome = hash
        ? await this.lockout.guard(account, ip, () => this.hasher.verify(current, hash), { failure: { reason: 'wrong_current_password' } })
        : null;
      if (outcome?.kind !== 'passed') {
        await this.lockout.clientFailed(ip, account.email);
        return currentWrong;
      }
      await this.lockout.clientSucceeded(ip);
      if (current.normalize('NFKC') === input.newPassword.normalize('NFKC')) {
        return { ok: false, problem: 'sameAsCurrent', messageKey: 'auth.password.sameAsCurrent' };
      }
    } else if (hash && (await this.hasher.verify(input.newPassword, hash))) {
      return { ok: false, problem: 'sameAsCurrent', messageKey: 'auth.password.sameAsCurrent' };
    }

    const newHash = await this.hasher.hash(input.newPassword);
    await this.database.sequelize.transaction(async (transaction) => {
      await this.accounts.setPassword(account.contactId, newHash, { mustChange: false, transaction });
      await this.accounts.dropResetLinks(account.contactId, { transaction });
      await this.sessions.endAllFor(account.contactId, { transaction });
      await this.mailer.sendToContact('passwordChanged', account.contactId, {}, { transaction });
    });
    // Only while the new password is still the account's: a change committed since (on any host
    // process) ended every session, including the one this change was about to open.
    // The new session goes on as the one it replaces: with its second factor, when it passed one.
    await this.sessions.start(req, res, account.contactId, { remember: session.remember, passwordHash: newHash, secondFactor: session.secondFactor });
    return { ok: true };
  }
}
