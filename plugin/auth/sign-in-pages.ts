/**
 * The portal's sign-in pages, server-rendered under the portal's mount path:
 *
 *   GET  /login             email, password, remember me, "I forgot my password" (`?next=` a workspace page)
 *   POST /login             → /two-factor, /first-access, `next` or /; every refusal: the same 401 page
 *   GET|POST /two-factor    the emailed code (`next` carried through: the same check as the login's)
 *   GET|POST /first-access  a generated password must be replaced (email, new, confirm)
 *   GET|POST /forgot-password   always the same answer
 *   GET|POST /reset-password?token=…
 *   POST /logout
 *   POST /language          the language dropdown: remembered in a cookie; back to the page, query included
 *
 * Every form carries the portal's CSRF token (`PortalFormCsrf`); a POST without the right one
 * gets a 403 page and changes nothing. Every page is `no-store` (the router's front sets it).
 */
import type { Request, Response, Router } from 'express';
import { inject, injectable } from 'inversify';
import { HostHttp } from '../host-contract/index.js';
import { portalFormBody } from '../http/json-body.js';
import { portalCookieOptions } from '../http/portal-cookies.js';
import type { MessageKey, MessageParams } from '../i18n/message-keys.js';
import { rememberLanguage } from '../i18n/request-language.js';
import { Translator } from '../i18n/translator.js';
import { PluginSettings, type PortalRouteContribution } from '../lifecycle/contributions.js';
import { clientAddress } from './client-address.js';
import { FIRST_ACCESS_PATH, PASSWORD_CHOSEN_NOTICE } from './first-access.js';
import { PasswordChange } from './password-change.js';
import { PasswordReset } from './password-reset.js';
import { normalizeEmail, type PortalAccount } from './portal-account-store.js';
import { PortalFormCsrf } from './portal-form-csrf.js';
import { PortalPages, type PageVisitor } from './portal-pages.js';
import { PortalSessions, displayName, type PortalSession } from './portal-sessions.js';
import { safeReturn, workspaceNext } from './return-paths.js';
import { SignInFlow } from './sign-in-flow.js';
import { clipped } from '../access/field-input.js';

type Fields = Record<string, string>;

/** An emailed code: six digits (spaces between them are dropped, as the check drops them). */
const CODE_FORMAT = /^\d{6}$/;

/** The urlencoded body's text fields; anything else (arrays, missing) is left out. */
function fieldsOf(req: Request): Fields {
  const body = req.body as Record<string, unknown> | undefined;
  const fields: Fields = {};
  if (!body || typeof body !== 'object') return fields;
  for (const [name, value] of Object.entries(body)) if (typeof value === 'string' && value.length <= 1024) fields[name] = value;
  return fields;
}

@injectable()
export class SignInPages implements PortalRouteContribution {
  constructor(
    @inject(PortalPages) private readonly pages: PortalPages,
    @inject(PortalSessions) private readonly sessions: PortalSessions,
    @inject(PortalFormCsrf) private readonly csrf: PortalFormCsrf,
    @inject(SignInFlow) private readonly flow: SignInFlow,
    @inject(PasswordChange) private readonly passwords: PasswordChange,
    @inject(PasswordReset) private readonly resets: PasswordReset,
    @inject(Translator) private readonly translator: Translator,
    @inject(PluginSettings) private readonly settings: PluginSettings,
    @inject(HostHttp) private readonly http: HostHttp,
  ) {}

  registerPortalRoutes(router: Router): void {
    const form = portalFormBody();
    router.get('/login', (req, res) => this.loginPage(req, res));
    router.post('/login', form, (req, res) => this.guarded(req, res, (session) => this.login(req, res, session)));
    router.get('/two-factor', (req, res) => this.twoFactorPage(req, res));
    router.post('/two-factor', form, (req, res) => this.guarded(req, res, (session) => this.twoFactor(req, res, session)));
    router.get(FIRST_ACCESS_PATH, (req, res) => this.firstAccessPage(req, res));
    router.post(FIRST_ACCESS_PATH, form, (req, res) => this.guarded(req, res, (session) => this.firstAccess(req, res, session)));
    router.get('/forgot-password', (req, res) => this.forgotPage(req, res));
    router.post('/forgot-password', form, (req, res) => this.guarded(req, res, (session) => this.forgot(req, res, session)));
    router.get('/reset-password', (req, res) => this.resetPage(req, res));
    router.post('/reset-password', form, (req, res) => this.guarded(req, res, (session) => this.reset(req, res, session)));
    router.post('/logout', form, (req, res) => this.guarded(req, res, () => this.logout(req, res)));
    router.post('/language', form, (req, res) => this.guarded(req, res, () => this.language(req, res)));
  }

  private path(local: string): string {
    return `${this.settings.portalPath}${local}`;
  }

  private visitor(session: PortalSession | null): PageVisitor {
    return session ? { sessionId: session.sessionId, signedInAs: displayName(session) } : { sessionId: null };
  }

  /** Runs a POST handler only when the form's CSRF token matches; else a 403 page and no change. */
  private async guarded(req: Request, res: Response, handle: (session: PortalSession | null) => Promise<void>): Promise<void> {
    const session = await this.sessions.current(req, res);
    if (!this.csrf.verify(req, session?.sessionId ?? null)) {
      // A form left open while the session changed, where answering changes nothing: a sign-out
      // with no session left goes to the login, a login from a tab opened before another tab
      // signed in goes where that login would.
      if (req.path === '/logout' && !session) return res.redirect(303, this.path('/login'));
      if (req.path === '/login' && session) return res.redirect(303, this.landing(session.account, this.nextOf(req)));
      // A reset form gone stale on a link still good: the form again on that link (a fresh token, nothing
      // changed), not a refusal whose language switch and reload lose the link's token.
      if (req.path === '/reset-password') {
        const token = this.tokenOf(req);
        if (token && (await this.resets.usable(token))) {
          return this.renderReset(req, res, session, token, 403, this.translator.t(this.pages.language(req), 'auth.reset.formExpired'));
        }
      }
      this.pages.sendCsrfRefusal(req, res, this.visitor(session));
      return;
    }
    await handle(session);
  }

  /** After a complete sign-in: the forced password change first (the page asked for follows it), else that page or home. */
  private landing(account: PortalAccount, next?: string): string {
    return this.path(account.mustChangePassword ? `${FIRST_ACCESS_PATH}${this.nextQuery(next)}` : (next ?? '/'));
  }

  /** The workspace page a login continues to (`?next=` or the form's `next`), when it is one. */
  private nextOf(req: Request): string | undefined {
    const given = fieldsOf(req).next ?? req.query.next;
    return (typeof given === 'string' && workspaceNext(given)) || undefined;
  }

  /** `invalid`: the fields the error is about (they get aria-invalid and the error's id). */
  private renderLogin(
    req: Request,
    res: Response,
    status: number,
    data: { email?: string; remember?: boolean; next?: string; errorKey?: MessageKey; noticeKey?: MessageKey; invalid?: { email?: boolean; password?: boolean } },
  ): void {
    const language = this.pages.language(req);
    this.pages.send(req, res, { sessionId: null }, {
      template: 'login',
      titleKey: 'auth.login.title',
      status,
      returnTo: `/login${this.nextQuery(data.next)}`,
      notice: data.noticeKey ? this.translator.t(language, data.noticeKey) : null,
      refused: data.errorKey !== undefined,
      data: {
        email: data.email ?? '',
        remember: data.remember ?? false,
        next: data.next ?? null,
        error: data.errorKey ? this.translator.t(language, data.errorKey) : null,
        emailInvalid: data.invalid?.email ?? false,
        passwordInvalid: data.invalid?.password ?? false,
      },
    });
  }

  private async loginPage(req: Request, res: Response): Promise<void> {
    const session = await this.sessions.current(req, res);
    if (session) return res.redirect(303, this.landing(session.account, this.nextOf(req)));
    this.renderLogin(req, res, 200, { next: this.nextOf(req) });
  }

  private async login(req: Request, res: Response, session: PortalSession | null): Promise<void> {
    const next = this.nextOf(req);
    if (session) return res.redirect(303, this.landing(session.account, next));
    const fields = fieldsOf(req);
    const email = clipped(fields.email ?? '', 254);
    const password = fields.password ?? '';
    const remember = fields.remember === 'on';
    if (email.trim() === '' || password === '') {
      return this.renderLogin(req, res, 400, { email, remember, next, errorKey: 'auth.login.missingFields', invalid: { email: email.trim() === '', password: password === '' } });
    }
    const result = await this.flow.signIn(req, res, { email, password, remember });
    // Refused: the page does not say which of the two was wrong, so both are marked.
    if (result.kind === 'refused') return this.renderLogin(req, res, 401, { email, remember, next, errorKey: 'auth.errors.invalidCredentials', invalid: { email: true, password: true } });
    if (result.kind === 'second-factor') return res.redirect(303, this.path(`/two-factor${this.nextQuery(next)}`));
    if (result.kind === 'code-not-sent') return this.renderLogin(req, res, 503, { email, remember, next, errorKey: 'auth.twoFactor.codeNotSent' });
    if (result.kind === 'too-many-codes') return this.renderLogin(req, res, 429, { email, remember, next, errorKey: 'auth.twoFactor.tooManyCodes' });
    res.redirect(303, this.landing(result.account, next));
  }

  /** `?next=…` for a checked workspace page, else nothing. */
  private nextQuery(next: string | undefined): string {
    return next ? `?next=${encodeURIComponent(next)}` : '';
  }

  private renderTwoFactor(req: Request, res: Response, status: number, next: string | undefined, errorKey?: MessageKey, params?: MessageParams): void {
    const language = this.pages.language(req);
    this.pages.send(req, res, { sessionId: null }, {
      template: 'two-factor',
      titleKey: 'auth.twoFactor.title',
      status,
      returnTo: `/two-factor${this.nextQuery(next)}`,
      refused: errorKey !== undefined,
      data: { error: errorKey ? this.translator.t(language, errorKey, params) : null, next: next ?? null, restartHref: this.path(`/login${this.nextQuery(next)}`) },
    });
  }

  private async twoFactorPage(req: Request, res: Response): Promise<void> {
    const next = this.nextOf(req);
    if (!(await this.flow.pendingSecondFactor(req))) return res.redirect(303, this.path(`/login${this.nextQuery(next)}`));
    this.renderTwoFactor(req, res, 200, next);
  }

  private async twoFactor(req: Request, res: Response, session: PortalSession | null): Promise<void> {
    const next = this.nextOf(req);
    if (session) return res.redirect(303, this.landing(session.account, next));
    const code = fieldsOf(req).code ?? '';
    // A code that cannot be one (empty, not six digits) is said next to the box in the page's
    // language and spends no try: it could not match, so checking it would only cost the customer.
    if (!CODE_FORMAT.test(code.replace(/\s+/g, ''))) {
      if (await this.flow.pendingSecondFactor(req)) return this.renderTwoFactor(req, res, 400, next, 'auth.twoFactor.codeFormat');
      return this.renderLogin(req, res, 401, { next, errorKey: 'auth.twoFactor.expired' });
    }
    const result = await this.flow.completeSecondFactor(req, res, code);
    if (result.kind === 'signed-in') return res.redirect(303, this.landing(result.account, next));
    const pending = await this.flow.pendingSecondFactor(req);
    if (pending) return this.renderTwoFactor(req, res, 401, next, 'auth.twoFactor.invalidCode', { tries: pending.triesLeft });
    this.renderLogin(req, res, 401, { next, errorKey: 'auth.twoFactor.expired' });
  }

  /** `invalid`: the field the error is about (it gets aria-invalid, the error's id and the focus). */
  private renderFirstAccess(req: Request, res: Response, session: PortalSession, status: number, error?: string, invalid?: 'email' | 'password'): void {
    this.pages.send(req, res, this.visitor(session), {
      template: 'first-access',
      titleKey: 'auth.firstAccess.title',
      status,
      returnTo: `${FIRST_ACCESS_PATH}${this.nextQuery(this.nextOf(req))}`,
      refused: error !== undefined,
      data: { email: session.account.email, error: error ?? null, next: this.nextOf(req) ?? null, emailInvalid: invalid === 'email', passwordInvalid: invalid === 'password' },
    });
  }

  private async firstAccessPage(req: Request, res: Response): Promise<void> {
    const session = await this.sessions.current(req, res);
    if (!session) return res.redirect(303, this.path('/login'));
    if (!session.account.mustChangePassword) return res.redirect(303, this.path('/'));
    this.renderFirstAccess(req, res, session, 200);
  }

  private async firstAccess(req: Request, res: Response, session: PortalSession | null): Promise<void> {
    if (!session) return res.redirect(303, this.path('/login'));
    if (!session.account.mustChangePassword) return res.redirect(303, this.path('/'));
    const language = this.pages.language(req);
    const fields = fieldsOf(req);
    if (normalizeEmail(fields.email ?? '') !== session.account.email) {
      return this.renderFirstAccess(req, res, session, 400, this.translator.t(language, 'auth.firstAccess.emailMismatch'), 'email');
    }
    const result = await this.passwords.change(req, res, session, { newPassword: fields.newPassword ?? '', confirmPassword: fields.confirmPassword ?? '' });
    if (!result.ok) return this.renderFirstAccess(req, res, session, 400, this.translator.t(language, result.messageKey, result.params), 'password');
    // To the page asked for, or to the home, which says the new password is saved.
    res.redirect(303, this.path(this.nextOf(req) ?? `/?notice=${PASSWORD_CHOSEN_NOTICE}`));
  }

  private async forgotPage(req: Request, res: Response): Promise<void> {
    const session = await this.sessions.current(req, res);
    this.pages.send(req, res, this.visitor(session), { template: 'forgot-password', titleKey: 'auth.forgot.title', returnTo: '/forgot-password' });
  }

  private async forgot(req: Request, res: Response, session: PortalSession | null): Promise<void> {
    const email = (fieldsOf(req).email ?? '').trim();
    if (email === '') {
      // Said next to the field in the page's language (the form leaves the check to the server, not to the browser's bubble).
      const error = this.translator.t(this.pages.language(req), 'auth.forgot.emailRequired');
      this.pages.send(req, res, this.visitor(session), { template: 'forgot-password', titleKey: 'auth.forgot.title', returnTo: '/forgot-password', status: 400, refused: true, data: { error } });
      return;
    }
    await this.resets.request(email, clientAddress(req));
    // The answer is the page's notice: shown in place of the form, and first in the title.
    const notice = this.translator.t(this.pages.language(req), 'auth.forgot.sent');
    this.pages.send(req, res, this.visitor(session), { template: 'forgot-password', titleKey: 'auth.forgot.title', returnTo: '/forgot-password', notice });
  }

  private tokenOf(req: Request): string | undefined {
    const fromForm = fieldsOf(req).token;
    const fromQuery = req.query.token;
    const token = fromForm ?? (typeof fromQuery === 'string' ? fromQuery : undefined);
    return token && /^[A-Za-z0-9_-]{43}$/.test(token) ? token : undefined;
  }

  private renderReset(req: Request, res: Response, session: PortalSession | null, token: string, status: number, error?: string): void {
    this.pages.send(req, res, this.visitor(session), {
      template: 'reset-password',
      titleKey: 'auth.reset.title',
      status,
      returnTo: `/reset-password?token=${token}`,
      refused: error !== undefined,
      data: { token, error: error ?? null },
    });
  }

  private async resetPage(req: Request, res: Response): Promise<void> {
    const session = await this.sessions.current(req, res);
    const token = this.tokenOf(req);
    if (!token || !(await this.resets.usable(token))) {
      return this.pages.sendMessage(req, res, this.visitor(session), 400, 'auth.reset.title', 'auth.reset.invalidLink');
    }
    this.renderReset(req, res, session, token, 200);
  }

  private async reset(req: Request, res: Response, session: PortalSession | null): Promise<void> {
    const fields = fieldsOf(req);
    const token = this.tokenOf(req);
    const result = await this.resets.complete(token, { newPassword: fields.newPassword ?? '', confirmPassword: fields.confirmPassword ?? '' }, clientAddress(req));
    if (result.ok) {
      // Every session of the contact ended, this browser's included.
      return this.pages.sendMessage(req, res, { sessionId: null }, 200, 'auth.reset.title', 'auth.reset.done');
    }
    if (result.problem === 'invalidLink' || !token) {
      return this.pages.sendMessage(req, res, this.visitor(session), 400, 'auth.reset.title', 'auth.reset.invalidLink');
    }
    this.renderReset(req, res, session, token, 400, this.translator.t(this.pages.language(req), result.messageKey, result.params));
  }

  private async logout(req: Request, res: Response): Promise<void> {
    await this.sessions.end(req, res);
    res.redirect(303, this.path('/login'));
  }

  private async language(req: Request, res: Response): Promise<void> {
    const fields = fieldsOf(req);
    const chosen = fields.language ?? '';
    if (this.translator.languages().includes(chosen)) {
      rememberLanguage(res, chosen, portalCookieOptions(req, this.http, this.settings.portalPath));
    }
    res.redirect(303, this.path(safeReturn(fields.returnTo ?? '') ?? '/login'));
  }
}
