/**
 * Every portal event of a contact, for CRM admins (on the admin router: anyone else is refused
 * before this runs). The Contact record's block shows the newest `HISTORY_SHOWN` and links here
 * when there are more, so that no sign-in, sign-out or refusal is out of the CRM's sight (SPEC §3):
 *
 *   GET {settingsPath}/contacts/:id/login-history?page=N
 *
 * `EVENTS_PAGE` events a page, newest first. 400 for a page that is not a number from 1 on,
 * 404 for no such contact or a page past the last.
 */
import type { Request, Response, Router } from 'express';
import { inject, injectable } from 'inversify';
import { personName } from '../access/record-names.js';
import { LoginHistory } from '../auth/login-history.js';
import { HostRecords } from '../host-contract/index.js';
import { AdminPages } from '../http/admin-pages.js';
import { Translator } from '../i18n/translator.js';
import type { AdminRouteContribution } from '../lifecycle/contributions.js';
import { PluginSettings } from '../lifecycle/contributions.js';
import { contactBlockStylesheet } from './contact-record-block.js';
import { LoginHistorySection, loginHistoryPath } from './login-history-section.js';
import { contactPageOf } from './portal-user-routes.js';

export const EVENTS_PAGE = 50;

@injectable()
export class LoginHistoryRoutes implements AdminRouteContribution {
  constructor(
    @inject(AdminPages) private readonly pages: AdminPages,
    @inject(Translator) private readonly translator: Translator,
    @inject(HostRecords) private readonly records: HostRecords,
    @inject(LoginHistory) private readonly history: LoginHistory,
    @inject(LoginHistorySection) private readonly section: LoginHistorySection,
    @inject(PluginSettings) private readonly plugin: PluginSettings,
  ) {}

  registerAdminRoutes(router: Router): void {
    router.get('/contacts/:id/login-history', (req, res) => this.show(req, res));
  }

  private async show(req: Request, res: Response): Promise<void> {
    const idText = String(req.params.id);
    const pageText = req.query.page ?? '1';
    if (typeof pageText !== 'string' || !/^[1-9][0-9]{0,5}$/.test(pageText)) {
      await this.pages.sendMessage(req, res, 400, 'errors.badRequestTitle', 'errors.badRequest');
      return;
    }
    const contact = /^[1-9][0-9]{0,8}$/.test(idText) ? await this.records.get('Contacts', Number(idText)) : null;
    const page = Number(pageText);
    const total = contact ? await this.history.countForContact(contact.id) : 0;
    if (!contact || (page > 1 && (page - 1) * EVENTS_PAGE >= total)) {
      await this.pages.sendMessage(req, res, 404, 'errors.notFoundTitle', 'errors.notFound');
      return;
    }
    const language = this.pages.language(res);
    const events = await this.history.forContact(contact.id, { limit: EVENTS_PAGE, offset: (page - 1) * EVENTS_PAGE });
    const path = loginHistoryPath(this.plugin.settingsPath, contact.id);
    const count = (value: number) => new Intl.NumberFormat(language).format(value);
    const from = (page - 1) * EVENTS_PAGE + 1;
    const paging =
      total > EVENTS_PAGE
        ? {
            summary: this.translator.t(language, 'auth.loginHistory.summary', { from: count(from), to: count(from + events.length - 1), total: count(total) }),
            newerHref: page > 1 ? (page === 2 ? path : `${path}?page=${page - 1}`) : null,
            olderHref: page * EVENTS_PAGE < total ? `${path}?page=${page + 1}` : null,
          }
        : null;
    await this.pages.send(req, res, {
      template: 'admin/contact-login-history',
      titleKey: 'auth.loginHistory.pageTitle',
      titleParams: { name: personName(contact.values) || `#${contact.id}` },
      data: {
        events: await this.section.shown(events, language),
        paging,
        contactUrl: contactPageOf(contact.id),
        stylesheet: contactBlockStylesheet(this.plugin.portalPath),
      },
    });
  }
}
