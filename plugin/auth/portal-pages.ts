/**
 * Sends the portal's server-rendered pages: a body template (`templates/portal/<name>.hbs`)
 * inside the portal layout (`templates/portal/layout.hbs`), in the visitor's language (their
 * choice in the language cookie, else their browser's), with the form CSRF token, the language
 * dropdown and the signed-in contact's name. Every value is escaped by the templates; the body
 * is handed to the layout as markup the renderer has just escaped.
 */
import type { Request, Response } from 'express';
import { inject, injectable } from 'inversify';
import type { LanguageCode } from '../host-contract/index.js';
import { PageRenderer } from '../http/page-renderer.js';
import type { MessageKey, MessageParams } from '../i18n/message-keys.js';
import { requestLanguage } from '../i18n/request-language.js';
import { Translator } from '../i18n/translator.js';
import { PluginSettings } from '../lifecycle/contributions.js';
import { portalAsset } from '../portal/portal-shell-routes.js';
import { PortalFormCsrf } from './portal-form-csrf.js';
import { refusedFormPage } from './return-paths.js';

/** The longest query string the language form carries back (its field holds at most 1024 characters). */
const MAX_RETURN_QUERY = 900;

/**
 * Where the language form comes back to by default: the request's path under the portal with its
 * query (a list's search, sort and page; a login's `next`), without a one-time `notice`. The
 * language route checks it again before redirecting.
 */
export function currentAddress(req: Request): string {
  const at = req.originalUrl.indexOf('?');
  const params = new URLSearchParams(at < 0 ? '' : req.originalUrl.slice(at + 1));
  params.delete('notice');
  const query = params.toString();
  return query === '' || query.length > MAX_RETURN_QUERY ? req.path : `${req.path}?${query}`;
}

export interface PortalPage {
  /** Under `templates/portal/`, without `.hbs`. */
  readonly template: string;
  readonly titleKey: MessageKey;
  readonly data?: Readonly<Record<string, unknown>>;
  readonly status?: number;
  /** Where the language form comes back to: a path under the portal (default: the request's). */
  readonly returnTo?: string;
  /** A title already translated (a record's label), instead of `titleKey`'s text. */
  readonly title?: string;
  /**
   * What the page says at load about the post that redirected here ("Your comment was added."),
   * already translated: the document title starts with it. A status or alert in the page at load
   * is not announced by screen readers; the title is, and it needs no script. The body template
   * gets it as `notice`.
   */
  readonly notice?: string | null;
  /**
   * The page is a form shown again with a refusal (its error beside the fields): the document
   * title starts with "Error:", as GOV.UK's error summary does, so that a screen reader says at
   * once that the form was refused (an alert in the page at load is not announced).
   */
  readonly refused?: boolean;
  /**
   * The body holds the page's `main` landmark itself (with `id="bp-main"`, the skip link's target):
   * the workspace's, whose menu and account tools are landmarks beside it, so that "Skip to the
   * content" passes the menu every signed-in page repeats (WCAG 2.4.1).
   */
  readonly ownMain?: boolean;
  /**
   * The body holds the account tools (`id="bp-account"`, the workspace's, after the content): the
   * header links to them where they sit below the content (narrow screens, see `workspace.css`),
   * so that a phone finds the log out at the top of a long page.
   */
  readonly accountTools?: boolean;
  /** More stylesheets and scripts of the portal's assets folder (file names), e.g. `workspace.css`. */
  readonly styles?: readonly string[];
  readonly scripts?: readonly string[];
}

/** The body's `notice` when the page has one: the text in the page and in the title are one value. */
export function noticeOf(page: { readonly notice?: string | null }): { notice?: string | null } {
  return page.notice === undefined ? {} : { notice: page.notice };
}

export interface PageVisitor {
  /** The portal session's id, for the CSRF token; null when nobody is signed in. */
  readonly sessionId: string | null;
  /** The signed-in contact's display name, shown in the header with a logout button. */
  readonly signedInAs?: string;
  /** The request's language and form token when the caller has already worked them out (the workspace frame has). */
  readonly language?: LanguageCode;
  readonly csrfToken?: string;
}

export const PortalPages = Symbol.for('business-portal.auth.PortalPages');
export interface PortalPages {
  language(req: Request): LanguageCode;
  send(req: Request, res: Response, visitor: PageVisitor, page: PortalPage): void;
  /** A page with a title and one sentence; from 400 on, its title starts with "Error:" (see `PortalPage.refused`). */
  sendMessage(req: Request, res: Response, visitor: PageVisitor, status: number, titleKey: MessageKey, messageKey: MessageKey, params?: MessageParams): void;
  /**
   * The 403 page of a form whose token is stale or missing; its language switch comes back to the
   * page the form came from (`refusedFormPage`), not to the address the form was posted to.
   */
  sendCsrfRefusal(req: Request, res: Response, visitor: PageVisitor): void;
}

@injectable()
export class LayoutPortalPages implements PortalPages {
  constructor(
    @inject(PageRenderer) private readonly renderer: PageRenderer,
    @inject(Translator) private readonly translator: Translator,
    @inject(PortalFormCsrf) private readonly csrf: PortalFormCsrf,
    @inject(PluginSettings) private readonly settings: PluginSettings,
  ) {}

  language(req: Request): LanguageCode {
    return requestLanguage(req, this.translator);
  }

  send(req: Request, res: Response, visitor: PageVisitor, page: PortalPage): void {
    const language = visitor.language ?? this.language(req);
    const portalPath = this.settings.portalPath;
    const csrfToken = visitor.csrfToken ?? this.csrf.issue(req, res, visitor.sessionId);
    const common = { csrfToken, portalPath };
    const body = this.renderer.render(`portal/${page.template}`, language, { ...page.data, ...noticeOf(page), ...common });
    const title = page.title ?? this.translator.t(language, page.titleKey);
    const html = this.renderer.render('portal/layout', language, {
      ...common,
      title,
      notice: page.notice ?? null,
      refused: page.refused === true,
      ownMain: page.ownMain === true,
      accountTools: page.accountTools === true,
      body,
      assets: {
        icon: portalAsset(portalPath, 'favicon.svg'),
        styles: ['portal.css', ...(page.styles ?? [])].map((name) => portalAsset(portalPath, name)),
        scripts: ['auto-submit.js', ...(page.scripts ?? [])].map((name) => portalAsset(portalPath, name)),
      },
      signedInAs: visitor.signedInAs ?? null,
      returnTo: page.returnTo ?? currentAddress(req),
      languages: this.translator.languages().map((code) => ({
        code,
        name: this.translator.t(code, 'portal.languageName'),
        selected: code === language,
      })),
    });
    res.status(page.status ?? 200).type('html').send(html);
  }

  sendMessage(req: Request, res: Response, visitor: PageVisitor, status: number, titleKey: MessageKey, messageKey: MessageKey, params?: MessageParams, returnTo?: string): void {
    const language = this.language(req);
    this.send(req, res, visitor, {
      template: 'notice',
      titleKey,
      status,
      // An error page (a refused token, a dead link): a screen reader says first that something went wrong.
      refused: status >= 400,
      ...(returnTo !== undefined ? { returnTo } : {}),
      data: { heading: this.translator.t(language, titleKey), message: this.translator.t(language, messageKey, params) },
    });
  }

  sendCsrfRefusal(req: Request, res: Response, visitor: PageVisitor): void {
    // The address the form was posted to takes only a POST (a comment's, a sign-out's): the switch would land on the home page.
    this.sendMessage(req, res, visitor, 403, 'errors.forbiddenTitle', 'errors.csrf', undefined, refusedFormPage(currentAddress(req)));
  }
}
