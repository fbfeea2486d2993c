/**
 * The password step of a portal login. Every refusal looks the same from outside (the caller
 * answers one 401 for all of them) and costs the same: each path runs exactly one scrypt — the
 * account's real hash when there is one to check, the hasher's dummy otherwise — and no refusal
 * is answered before `REFUSAL_MIN_MS` have passed since the attempt began, which hides the few
 * database queries by which the paths still differ. The true reason goes to the login history only.
 */
import { inject, injectable } from 'inversify';
import type { CrmRecord } from '../host-contract/index.js';
import { AccountEligibility } from './account-eligibility.js';
import { Lockout } from './lockout.js';
import { LoginHistory, type LoginReason } from './login-history.js';
import { PasswordHasher } from './password-hasher.js';
import { PortalAccountStore, normalizeEmail, type PortalAccount } from './portal-account-store.js';
import { TwoFactor, type TwoFactorMethod } from './two-factor.js';

/**
 * The least time a refused attempt takes. Above what the slowest refusal needs (one scrypt of
 * about 40 ms plus a dozen small queries), so every refusal takes this long; it also slows
 * guessing a little.
 */
export const REFUSAL_MIN_MS = 150;

export interface LoginAttempt {
  readonly email: string;
  readonly password: string;
  /** The client's address (`req.ip`). */
  readonly ip: string;
}

/** Why a login was refused: the login history's reasons, and a second factor asked for that no method can deliver. */
export type LoginRefusal = LoginReason | 'second_factor_unavailable';

export type LoginOutcome =
  | {
      readonly ok: true;
      readonly account: PortalAccount;
      readonly contact: CrmRecord;
      /** The method of the second step still to pass, or null when the login is complete. */
      readonly secondFactor: TwoFactorMethod | null;
      /** The password hash that was checked: the session starts only while it is still the account's. */
      readonly passwordHash: string;
    }
  | { readonly ok: false; readonly reason: LoginRefusal };

export const LoginService = Symbol.for('business-portal.auth.LoginService');
export interface LoginService {
  /** Checks an email and password under the lockout rules; records the outcome in the login history. */
  login(attempt: LoginAttempt): Promise<LoginOutcome>;
}

@injectable()
export class PasswordLoginService implements LoginService {
  constructor(
    @inject(PortalAccountStore) private readonly accounts: PortalAccountStore,
    @inject(AccountEligibility) private readonly eligibility: AccountEligibility,
    @inject(Lockout) private readonly lockout: Lockout,
    @inject(PasswordHasher) private readonly hasher: PasswordHasher,
    @inject(LoginHistory) private readonly history: LoginHistory,
    @inject(TwoFactor) private readonly twoFactor: TwoFactor,
  ) {}

  async login({ email, password, ip }: LoginAttempt): Promise<LoginOutcome> {
    const started = performance.now();
    const attempted = normalizeEmail(email);
    const candidates = await this.accounts.findByEmail(attempted);
    const enabled = candidates.filter((account) => account.portalEnabled);
    // Several enabled accounts share the email: nobody can tell which one is meant, so none signs in.
    const ambiguous = enabled.length > 1;
    const account = ambiguous ? null : (enabled[0] ?? candidates[0] ?? null);
    const contactId = account?.contactId ?? null;

    const refuse = async (reason: LoginRefusal, options: { passwordChecked: boolean; countClient: boolean; recorded?: boolean }): Promise<LoginOutcome> => {
      if (!options.passwordChecked) await this.hasher.verifyDummy(password);
      if (options.countClient) await this.lockout.clientFailed(ip, attempted);
      if (!options.recorded) await this.history.record({ event: 'failed', contactId, email: attempted, reason, ip });
      const left = REFUSAL_MIN_MS - (performance.now() - started);
      if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
      return { ok: false, reason };
    };

    if (!(await this.lockout.reserveClient(ip))) return refuse('client_banned', { passwordChecked: false, countClient: false });
    if (ambiguous) return refuse('ambiguous_email', { passwordChecked: false, countClient: true });
    if (!account) return refuse('unknown_email', { passwordChecked: false, countClient: true });

    const eligibility = await this.eligibility.check(account);
    if (!eligibility.eligible) return refuse(eligibility.reason, { passwordChecked: false, countClient: true });
    const hash = await this.accounts.passwordHash(account.contactId);
    if (!hash) return refuse('no_password', { passwordChecked: false, countClient: true });

    const requirement = await this.twoFactor.requirementFor(account, eligibility.contact);
    if (requirement.kind === 'unavailable') return refuse('second_factor_unavailable', { passwordChecked: false, countClient: true });
    const secondFactor = requirement.kind === 'method' ? requirement.method : null;

    // The lockout records a wrong password itself, before the lock it may cause.
    const outcome = await this.lockout.guard(account, ip, () => this.hasher.verify(password, hash), {
      completesLogin: secondFactor === null,
      failure: { reason: 'wrong_password', email: attempted },
    });
    if (outcome.kind === 'refused') return refuse(outcome.reason, { passwordChecked: false, countClient: true });
    if (outcome.kind === 'failed') return refuse('wrong_password', { passwordChecked: true, countClient: true, recorded: true });

    await this.lockout.clientSucceeded(ip);
    if (!secondFactor) await this.history.record({ event: 'login', contactId: account.contactId, email: attempted, reason: null, ip });
    const fresh = (await this.accounts.findByContactId(account.contactId)) ?? account;
    return { ok: true, account: fresh, contact: eligibility.contact, secondFactor, passwordHash: hash };
  }
}
