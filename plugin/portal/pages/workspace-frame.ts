/**
 * The frame every signed-in portal page shares: who is signed in (else a redirect to the login
 * with the page to come back to), their access context, the workspace around the page (left:
 * the menu of the profile's modules — or version 1's classic menu —, right: the contact, a
 * full-screen toggle and logout), the form CSRF check of every POST, and the answer to access
 * refusals (a record out of scope is the portal's 404, never a 403, so ids cannot be probed).
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { inject, injectable } from 'inversify';
import { AccessError, recordIdParam } from '../../access/access-errors.js';
import { PortalAccess, type PortalAccessContext } from '../../access/portal-access.js';
import { FormSubmissions } from '../../auth/form-submissions.js';
import { PortalFormCsrf } from '../../auth/portal-form-csrf.js';
import { noticeOf, PortalPages } from '../../auth/portal-pages.js';
import { PortalSessions, displayName, type PortalSession } from '../../auth/portal-sessions.js';
import { workspaceNext } from '../../auth/return-paths.js';
import { FIRST_ACCESS_PATH } from '../../auth/first-access.js';
import { HostRegional, type LanguageCode } from '../../host-contract/index.js';
import { PageRenderer } from '../../http/page-renderer.js';
import type { MessageKey, MessageParams } from '../../i18n/message-keys.js';
import { Translator } from '../../i18n/translator.js';
import { PluginSettings } from '../../lifecycle/contributions.js';
import { readingOptions, type DisplayOptions } from '../../i18n/field-values.js';
import { requestLocale } from '../../i18n/request-language.js';

/** One signed-in request: the session, the access layer's answer for it, the language. */
export interface WorkspaceRequest {
  readonly req: Request;
  readonly res: Response;
  readonly session: PortalSession;
  readonly access: PortalAccessContext;
  readonly language: LanguageCode;
  /** The locale its dates are written in: the language, or the region of it the browser asks for (`en-GB`). */
  readonly locale: string;
  readonly csrfToken: string;
  t(key: MessageKey, params?: MessageParams): string;
}

export interface WorkspacePage {
  /** Under `templates/portal/`, without `.hbs`: the centre of the workspace. */
  readonly template: string;
  /** The page's title (already translated: record labels are titles too). */
  readonly title: string;
  /** The notice of the post that redirected here: the content template gets it as `notice`, and the title starts with it. */
  readonly notice?: string | null;
  /** A form shown again with a refusal: the title starts with "Error:" (see `PortalPage.refused`). */
  readonly refused?: boolean;
  readonly data?: Readonly<Record<string, unknown>>;
  readonly status?: number;
  /** The module of the menu entry to mark as the current one. */
  readonly module?: string;
  /** A menu entry other than a module's list (v1: `new-request`, `my-information`, or `home`). */
  readonly entry?: string;
  /** Where the language form comes back to, when not the request's own address (a page answering a post to an address with no page). */
  readonly returnTo?: string;
}

interface MenuEntry {
  readonly key: string;
  readonly label: string;
  readonly href: string;
  readonly current: boolean;
}

const MODULE_NAME = /^[A-Z][A-Za-z0-9_]{0,63}$/;

/** The route's `:module`: a module of the customer's profile, else the portal's 404. */
export function moduleParam(w: WorkspaceRequest): string {
  const name = String(w.req.params.module ?? '');
  if (!MODULE_NAME.test(name)) throw new AccessError('not-found');
  w.access.module(name);
  return name;
}

/** A record or document id of the route (`:id`, `:documentId`), else the portal's 404. */
export function idParam(w: WorkspaceRequest, param = 'id'): number {
  return recordIdParam(w.req.params[param]);
}

type Handler = (w: WorkspaceRequest) => Promise<void>;

/**
 * What a form post's work did, when it did it: where its answer leads (a 303), and where the same
 * form sent again leads (what the first made, with a notice that it was sent already).
 */
export interface FormDone {
  /** Null when the work sent its own page (a created record the customer may not open). */
  readonly location: string | null;
  readonly again: string;
}

/** A form that leads to `at?notice=<notice>` (then `rest`: the list's way back, an anchor); sent again, to `at?notice=again`. */
export function formDoneAt(at: string, notice: string, rest = ''): FormDone {
  return { location: `${at}?notice=${notice}${rest}`, again: `${at}?notice=again${rest}` };
}

/** An email's part before its last "@" (that "@" included) and after it; none for a text without one. */
function emailParts(email: string): { emailLocal?: string; emailDomain?: string } {
  const at = email.lastIndexOf('@');
  return at <= 0 || at === email.length - 1 ? {} : { emailLocal: email.slice(0, at + 1), emailDomain: email.slice(at + 1) };
}

@injectable()
export class WorkspaceFrame {
  constructor(
    @inject(PortalPages) private readonly pages: PortalPages,
    @inject(PortalSessions) private readonly sessions: PortalSessions,
    @inject(PortalAccess) private readonly portalAccess: PortalAccess,
    @inject(PortalFormCsrf) private readonly csrf: PortalFormCsrf,
    @inject(PageRenderer) private readonly renderer: PageRenderer,
    @inject(Translator) private readonly translator: Translator,
    @inject(PluginSettings) private readonly settings: PluginSettings,
    @inject(HostRegional) private readonly regional: HostRegional,
    @inject(FormSubmissions) private readonly submissions: FormSubmissions,
  ) {}

  get portalPath(): string {
    return this.settings.portalPath;
  }

  path(local: string): string {
    return `${this.settings.portalPath}${local}`;
  }

  /** A record's page, or one of its sub-pages (`/edit`, `/comments`…). */
  recordPath(name: string, id: number, suffix = ''): string {
    return this.path(`/m/${name}/${id}${suffix}`);
  }

  /** How a page shows values: the customer's language, the CRM's time zone, links to the modules they may open. */
  display(w: WorkspaceRequest): DisplayOptions {
    const viewable = new Set(w.access.modules.filter((m) => m.view).map((m) => m.name));
    return {
      ...readingOptions(this.translator, w.language, this.regional.timeZone(), w.locale),
      recordHref: (module, id) => this.recordPath(module, id),
      opens: (module) => viewable.has(module),
    };
  }

  /** A GET page for signed-in customers. */
  page(handler: Handler): RequestHandler {
    return (req, res, next) => void this.run(req, res, next, false, handler);
  }

  /** A form POST: signed in, and the form's CSRF token matches (else a 403 page and no change). */
  post(handler: Handler): RequestHandler {
    return (req, res, next) => void this.run(req, res, next, true, handler);
  }

  /**
   * A form post's work done once (see form-submissions.ts): the work answers with where to go
   * (`FormDone`), or answers itself (a refusal shown with the form) and then gives its claim back.
   * The same form sent again goes where the first went, the work not done twice.
   */
  once(work: (w: WorkspaceRequest) => Promise<FormDone | void>): Handler {
    return async (w) => {
      const claim = await this.submissions.claim(w.req, w.session.account.contactId);
      if (claim.kind === 'repeat') return w.res.redirect(303, claim.outcome);
      if (claim.kind === 'pending') return this.refuse(w, 409, 'portal.errors.stillSendingTitle', 'portal.errors.stillSending');
      let done: FormDone | void;
      try {
        done = await work(w);
      } catch (error) {
        if (claim.kind === 'first') await claim.release();
        throw error;
      }
      if (claim.kind === 'first') await (done ? claim.finish(done.again) : claim.release());
      if (done?.location) w.res.redirect(303, done.location);
    };
  }

  /**
   * As `page` and `post`, for a route that must know when the handler is done (an upload gives its
   * slot back then). Never rejects: a fault goes on to `next`, as with `page` and `post`.
   */
  serve(req: Request, res: Response, next: NextFunction, write: boolean, handler: Handler): Promise<void> {
    return this.run(req, res, next, write, handler);
  }

  /** The request's signed-in customer, or null (computed once per request, so free after `signedInFirst`). */
  session(req: Request, res: Response): Promise<PortalSession | null> {
    return this.sessions.current(req, res);
  }

  /**
   * Goes before a body parser on a workspace POST: a request without a session gets the refusal
   * `post` would give it, before anything of its body is read.
   */
  signedInFirst(): RequestHandler {
    return (req, res, next) => {
      this.sessions.current(req, res).then((session) => {
        if (session) return next();
        // The body is not read: the connection closes after the answer rather than wait for it.
        res.set('Connection', 'close');
        this.pages.sendCsrfRefusal(req, res, { sessionId: null });
      }, next);
    };
  }

  private async run(req: Request, res: Response, next: NextFunction, write: boolean, handler: Handler): Promise<void> {
    try {
      const language = this.pages.language(req);
      // Started now, so that the access layer's statements run alongside the session's checks.
      const pendingAccess = this.portalAccess.forRequest(req, res, language);
      pendingAccess.catch(() => undefined); // awaited below whenever it is used
      const session = await this.sessions.current(req, res);
      if (!session) {
        if (write) return this.pages.sendCsrfRefusal(req, res, { sessionId: null });
        // Back to this page after the login, its query (a list's search, sort, page) included.
        const back = req.url.startsWith('/') ? workspaceNext(req.url) : null;
        const query = back && back !== '/' ? `?next=${encodeURIComponent(back)}` : '';
        return res.redirect(303, this.path(`/login${query}`));
      }
      if (session.account.mustChangePassword) return res.redirect(303, this.path(FIRST_ACCESS_PATH));
      if (write && !this.csrf.verify(req, session.sessionId)) {
        return this.pages.sendCsrfRefusal(req, res, { sessionId: session.sessionId, signedInAs: displayName(session) });
      }
      const access = await pendingAccess;
      if (!access) return res.redirect(303, this.path('/login'));
      const csrfToken = this.csrf.issue(req, res, session.sessionId);
      const w: WorkspaceRequest = { req, res, session, access, language, locale: requestLocale(req, language), csrfToken, t: (key, params) => this.translator.t(language, key, params) };
      try {
        await handler(w);
      } catch (error) {
        if (!(error instanceof AccessError) || res.headersSent) throw error;
        if (error.kind === 'not-allowed') return this.refuse(w, 403, 'portal.errors.notAllowedTitle', 'portal.errors.notAllowed');
        if (error.kind === 'not-found') return this.refuse(w, 404, 'portal.errors.notFoundTitle', 'portal.errors.notFound');
        // Pages handle these next to their forms; anything left (an export's search on a hidden field…) is a plain refusal.
        if (error.kind === 'invalid') return this.refuse(w, 400, 'portal.errors.invalidTitle', 'portal.list.searchRefused');
        return this.refuse(w, 409, 'records.staleTitle', 'records.stale');
      }
    } catch (error) {
      next(error);
    }
  }

  /** The portal's 404 (or 403) inside the workspace: the same page for a missing and a foreign record. */
  refuse(w: WorkspaceRequest, status: number, titleKey: MessageKey, messageKey: MessageKey): void {
    this.send(w, { template: 'workspace-message', title: w.t(titleKey), status, refused: true, data: { heading: w.t(titleKey), message: w.t(messageKey) } });
  }

  /** Sends a page in the workspace. */
  send(w: WorkspaceRequest, page: WorkspacePage): void {
    // A page's forms carry a one-time value: sent twice, a form does its work once (`once`).
    const common = { csrfToken: w.csrfToken, formOnce: this.submissions.issue(), portalPath: this.portalPath };
    const content = this.renderer.render(`portal/${page.template}`, w.language, { ...page.data, ...noticeOf(page), ...common });
    this.pages.send(w.req, w.res, { sessionId: w.session.sessionId, language: w.language, csrfToken: w.csrfToken }, {
      template: 'workspace',
      ownMain: true,
      accountTools: true,
      titleKey: 'portal.layout.brand',
      title: page.title,
      notice: page.notice ?? null,
      refused: page.refused === true,
      status: page.status ?? 200,
      ...(page.returnTo ? { returnTo: page.returnTo } : {}),
      styles: ['workspace.css'],
      scripts: ['workspace.js'],
      data: {
        content,
        menu: this.menu(w, page),
        name: displayName(w.session),
        email: w.session.account.email,
        // Too long for the account tools, it breaks after its "@" (a <wbr>), not wherever the last letter falls.
        ...emailParts(w.session.account.email),
        classic: w.access.policy.source.version === 1,
      },
    });
  }

  private moduleLabel(w: WorkspaceRequest, name: string): string {
    const module = w.access.modules.find((m) => m.name === name);
    const label = module?.definition.label as Record<string, string> | undefined;
    return label?.[w.language] ?? label?.en ?? name;
  }

  /** Version 2: the profile's modules in order. Version 1: the classic menu. */
  private menu(w: WorkspaceRequest, page: WorkspacePage): MenuEntry[] {
    const entries: MenuEntry[] = [{ key: 'home', label: w.t('portal.menu.home'), href: this.path('/'), current: page.entry === 'home' }];
    const modules = w.access.modules;
    const listOf = (name: string, label: string, key = `module-${name}`): MenuEntry => ({ key, label, href: this.path(`/m/${name}`), current: page.module === name && page.entry === undefined });
    if (w.access.policy.source.version === 1) {
      const tickets = modules.find((m) => m.name === 'HelpDesk');
      if (tickets?.create) entries.push({ key: 'new-request', label: w.t('portal.menu.newRequest'), href: this.path('/m/HelpDesk/new'), current: page.entry === 'new-request' });
      if (tickets?.view) entries.push(listOf('HelpDesk', w.t('portal.menu.myRequests')));
      if (modules.some((m) => m.name === 'Faq' && m.view)) entries.push(listOf('Faq', w.t('portal.menu.knowledgeBase')));
      for (const module of modules) {
        // Contacts is "My information" below; its list too where it shows the company's contacts ("View all related records?" Yes).
        const colleagues = module.name === 'Contacts' && module.scope !== 'contact';
        if (module.view && (colleagues || !['HelpDesk', 'Faq', 'Contacts'].includes(module.name))) entries.push(listOf(module.name, this.moduleLabel(w, module.name)));
      }
      if (modules.some((m) => m.name === 'Contacts' && m.view)) {
        entries.push({ key: 'my-information', label: w.t('portal.menu.myInformation'), href: this.path(`/m/Contacts/${w.access.contactId}`), current: page.entry === 'my-information' });
      }
      return entries;
    }
    for (const module of modules) {
      if (module.view) entries.push(listOf(module.name, this.moduleLabel(w, module.name)));
      else if (module.create) entries.push({ key: `module-${module.name}`, label: this.moduleLabel(w, module.name), href: this.path(`/m/${module.name}/new`), current: page.module === module.name });
    }
    return entries;
  }

  /** A list's name as the menu gives it: version 1's "My requests" and "Knowledge base", else the module's label. */
  listLabel(w: WorkspaceRequest, module: string): string {
    if (w.access.policy.source.version === 1 && module === 'HelpDesk') return w.t('portal.menu.myRequests');
    if (w.access.policy.source.version === 1 && module === 'Faq') return w.t('portal.menu.knowledgeBase');
    return this.moduleLabel(w, module);
  }

  singularLabel(w: WorkspaceRequest, name: string): string {
    const module = w.access.modules.find((m) => m.name === name);
    const label = module?.definition.singularLabel as Record<string, string> | undefined;
    return label?.[w.language] ?? label?.en ?? name;
  }
}
