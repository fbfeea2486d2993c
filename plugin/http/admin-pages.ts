/**
 * The admin pages' shared pieces: who is signed in (set by the admin guard), and sending a page
 * rendered from `templates/admin/*.hbs` inside the host's CRM layout, in the user's language.
 */
import type { Request, Response } from 'express';
import Handlebars from 'handlebars';
import { inject, injectable } from 'inversify';
import { HostHttp, type CrmSession, type LanguageCode } from '../host-contract/index.js';
import type { MessageKey, MessageParams } from '../i18n/message-keys.js';
import { Translator } from '../i18n/translator.js';
import { PluginSettings } from '../lifecycle/contributions.js';
import { adminAsset } from '../settings/admin-assets.js';
import { CsrfTokens } from './csrf.js';
import { PageRenderer } from './page-renderer.js';

const SESSION_LOCAL = 'businessPortalCrmSession';

export function rememberCrmSession(res: Response, session: CrmSession): void {
  res.locals[SESSION_LOCAL] = session;
}

/** The admin's CRM session; every route of the admin router has one (the guard runs first). */
export function crmSessionOf(res: Response): CrmSession | undefined {
  return res.locals[SESSION_LOCAL] as CrmSession | undefined;
}

export interface AdminPage {
  /** Under `templates/`, without `.hbs`, e.g. `admin/settings-home`. */
  readonly template: string;
  readonly titleKey: MessageKey;
  readonly titleParams?: MessageParams;
  /**
   * What the page says at load about the post that redirected here ("Unlocked: 1."), already
   * translated: the document title starts with it (the h1 stays the page's name). A status or
   * alert in the page at load is not announced by screen readers; the title is.
   */
  readonly notice?: string | null;
  /**
   * The page is a form shown again with a refusal (its errors beside the fields): the document
   * title starts with "Error:", as GOV.UK's error summary does, so that a screen reader says at
   * once that the form was refused (an alert in the page at load is not announced).
   */
  readonly refused?: boolean;
  readonly data?: Readonly<Record<string, unknown>>;
  readonly status?: number;
}

export const AdminPages = Symbol.for('business-portal.AdminPages');
export interface AdminPages {
  /** The language of the signed-in CRM user (the default language when there is none). */
  language(res: Response): LanguageCode;
  /** Renders and sends a page; its data also holds `csrfToken`, `settingsPath` and `portalPath`. */
  send(req: Request, res: Response, page: AdminPage): Promise<void>;
  /** A page with a title and one sentence (403, 404, 500…); from 400 on, its title starts with "Error:" (see `AdminPage.refused`). */
  sendMessage(req: Request, res: Response, status: number, titleKey: MessageKey, messageKey: MessageKey): Promise<void>;
}

@injectable()
export class CrmLayoutAdminPages implements AdminPages {
  constructor(
    @inject(HostHttp) private readonly http: HostHttp,
    @inject(PageRenderer) private readonly renderer: PageRenderer,
    @inject(Translator) private readonly translator: Translator,
    @inject(CsrfTokens) private readonly csrf: CsrfTokens,
    @inject(PluginSettings) private readonly settings: PluginSettings,
  ) {}

  language(res: Response): LanguageCode {
    return this.translator.supported(crmSessionOf(res)?.user.language);
  }

  async send(req: Request, res: Response, page: AdminPage): Promise<void> {
    const language = this.language(res);
    const session = crmSessionOf(res);
    const bodyHtml = this.renderer.render(page.template, language, {
      ...page.data,
      csrfToken: session ? this.csrf.issue(session) : '',
      settingsPath: this.settings.settingsPath,
      portalPath: this.settings.portalPath,
    });
    const title = this.translator.t(language, page.titleKey, page.titleParams);
    const shown = page.notice ? `${page.notice} · ${title}` : title;
    await this.http.sendCrmPage(req, res, {
      title: page.refused ? `${this.translator.t(language, 'errors.refusedTitle')} ${shown}` : shown,
      bodyHtml: `<div class="bp-admin"><h1>${Handlebars.escapeExpression(title)}</h1>${bodyHtml}</div>`,
      headHtml: `<link rel="stylesheet" href="${Handlebars.escapeExpression(adminAsset(this.settings.settingsPath, 'admin.css'))}">`,
      status: page.status ?? 200,
    });
  }

  async sendMessage(req: Request, res: Response, status: number, titleKey: MessageKey, messageKey: MessageKey): Promise<void> {
    const language = this.language(res);
    await this.send(req, res, {
      template: 'admin/message',
      titleKey,
      status,
      // An error page: a screen reader says first that something went wrong, as on a refused form.
      refused: status >= 400,
      data: { title: this.translator.t(language, titleKey), message: this.translator.t(language, messageKey) },
    });
  }
}
