/**
 * The steps of a portal sign-in, shared by the pages and the JSON API so that both follow the
 * same rules: the password (`LoginService`), then — when the profile asks for it — the second
 * factor, whose challenge token the browser keeps in a cookie (`bp_2fa`, HttpOnly, SameSite=Lax,
 * the portal's path, 10 minutes), then a new session.
 */
import { parse as parseCookies } from 'cookie';
import type { CookieOptions, Request, Response } from 'express';
import { inject, injectable } from 'inversify';
import { HostHttp, type CrmRecord } from '../host-contract/index.js';
import { portalCookieOptions } from '../http/portal-cookies.js';
import { languageChosen, rememberLanguage } from '../i18n/request-language.js';
import { Translator } from '../i18n/translator.js';
import { PluginSettings } from '../lifecycle/contributions.js';
import { clientAddress } from './client-address.js';
import { LoginHistory } from './login-history.js';
import { LoginService } from './login-service.js';
import type { PortalAccount } from './portal-account-store.js';
import { PortalSessions } from './portal-sessions.js';
import { CHALLENGE_COOKIE, CODE_VALID_MINUTES, CodeNotSentError, PasswordChangedError, TooManyCodesError, TwoFactor, type PendingChallenge } from './two-factor.js';

export type SignInResult =
  | { readonly kind: 'signed-in'; readonly account: PortalAccount; readonly contact: CrmRecord }
  | { readonly kind: 'second-factor'; readonly method: string }
  /** The password was right but the second factor's code could not be delivered: nothing was started. */
  | { readonly kind: 'code-not-sent' }
  /** The password was right but the contact had its hour's codes (`CODES_PER_CONTACT_PER_HOUR`): nothing was started. */
  | { readonly kind: 'too-many-codes' }
  | { readonly kind: 'refused' };

export const SignInFlow = Symbol.for('business-portal.auth.SignInFlow');
export interface SignInFlow {
  /** The password step; on success either a session or a second-factor challenge is started. */
  signIn(req: Request, res: Response, credentials: { readonly email: string; readonly password: string; readonly remember: boolean }): Promise<SignInResult>;
  /** The request's second-factor challenge, while it can still be answered. */
  pendingSecondFactor(req: Request): Promise<PendingChallenge | null>;
  /** The code step: a session on success; the challenge cookie is dropped once the challenge is dead. */
  completeSecondFactor(req: Request, res: Response, code: string): Promise<SignInResult>;
}

@injectable()
export class PortalSignInFlow implements SignInFlow {
  constructor(
    @inject(LoginService) private readonly logins: LoginService,
    @inject(TwoFactor) private readonly twoFactor: TwoFactor,
    @inject(PortalSessions) private readonly sessions: PortalSessions,
    @inject(LoginHistory) private readonly history: LoginHistory,
    @inject(PluginSettings) private readonly settings: PluginSettings,
    @inject(Translator) private readonly translator: Translator,
    @inject(HostHttp) private readonly http: HostHttp,
  ) {}

  /**
   * A customer who has not chosen a language in this browser gets their contact's (the one their
   * mails are in) from now on; the language menu still changes it.
   */
  private adoptLanguage(req: Request, res: Response, account: PortalAccount, contact: CrmRecord): void {
    if (languageChosen(req)) return;
    const own = typeof contact.values.language === 'string' && contact.values.language !== '' ? contact.values.language : account.language;
    if (!own || !this.translator.languages().includes(own)) return;
    rememberLanguage(res, own, this.cookieOptions(req));
  }

  private cookieOptions(req: Request): CookieOptions {
    return portalCookieOptions(req, this.http, this.settings.portalPath);
  }

  private challengeToken(req: Request): string | undefined {
    return req.headers.cookie ? parseCookies(req.headers.cookie)[CHALLENGE_COOKIE] : undefined;
  }

  async signIn(req: Request, res: Response, credentials: { readonly email: string; readonly password: string; readonly remember: boolean }): Promise<SignInResult> {
    const ip = clientAddress(req);
    const outcome = await this.logins.login({ email: credentials.email, password: credentials.password, ip });
    if (!outcome.ok) return { kind: 'refused' };
    if (outcome.secondFactor) {
      let token: string;
      try {
        token = await this.twoFactor.start(outcome.account, outcome.contact, outcome.secondFactor, { remember: credentials.remember, ip, passwordHash: outcome.passwordHash });
      } catch (error) {
        if (error instanceof CodeNotSentError) return { kind: 'code-not-sent' };
        if (error instanceof PasswordChangedError) return { kind: 'refused' };
        if (error instanceof TooManyCodesError) return { kind: 'too-many-codes' };
        throw error;
      }
      res.cookie(CHALLENGE_COOKIE, token, { ...this.cookieOptions(req), maxAge: CODE_VALID_MINUTES * 60_000 });
      return { kind: 'second-factor', method: outcome.secondFactor.name };
    }
    // The password was changed (on any host process) since it was checked: no session for the old one.
    if (!(await this.sessions.start(req, res, outcome.account.contactId, { remember: credentials.remember, passwordHash: outcome.passwordHash }))) return { kind: 'refused' };
    this.adoptLanguage(req, res, outcome.account, outcome.contact);
    return { kind: 'signed-in', account: outcome.account, contact: outcome.contact };
  }

  pendingSecondFactor(req: Request): Promise<PendingChallenge | null> {
    return this.twoFactor.pending(this.challengeToken(req));
  }

  async completeSecondFactor(req: Request, res: Response, code: string): Promise<SignInResult> {
    const ip = clientAddress(req);
    const check = await this.twoFactor.verify(this.challengeToken(req), code, ip);
    if (!check.ok) {
      if (!check.challengeAlive) res.clearCookie(CHALLENGE_COOKIE, this.cookieOptions(req));
      return { kind: 'refused' };
    }
    res.clearCookie(CHALLENGE_COOKIE, this.cookieOptions(req));
    // As after the password alone: no session once the password was changed since the code's check began.
    // The session remembers the second factor it passed: a profile that asks for one later keeps it.
    const options = { remember: check.remember, passwordHash: check.passwordHash ?? '', secondFactor: check.method };
    if (!(await this.sessions.start(req, res, check.account.contactId, options))) return { kind: 'refused' };
    await this.history.record({ event: 'login', contactId: check.account.contactId, email: check.account.email, reason: null, ip });
    this.adoptLanguage(req, res, check.account, check.contact);
    return { kind: 'signed-in', account: check.account, contact: check.contact };
  }
}
