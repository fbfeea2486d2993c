/**
 * The portal-user section of the Contact record's Business Portal block (before the login
 * history): the account's state (portal user, login email, locked, must change password, last
 * sign-in) and, for active CRM admins, the form — portal user yes/no, profile (version 2 only;
 * Default unless another is chosen), support start and end dates — that posts to `PortalUserRoutes` with the
 * CSRF token of the admin's CRM session. Other CRM users see the same values without a form:
 * granting portal access sends credentials, which the settings pages reserve to admins.
 */
import { inject, injectable } from 'inversify';
import { CsrfTokens } from '../http/csrf.js';
import { PageRenderer } from '../http/page-renderer.js';
import type { RecordBlockContext } from '../host-contract/index.js';
import { Translator } from '../i18n/translator.js';
import { PluginSettings } from '../lifecycle/contributions.js';
import type { ContactBlockSection } from './contact-block-sections.js';
import { portalUserAction } from './portal-user-routes.js';
import { PortalUserSettings } from './portal-user-settings.js';

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

@injectable()
export class PortalUserSection implements ContactBlockSection {
  readonly id = 'portal-user';
  readonly order = 100;

  constructor(
    @inject(PortalUserSettings) private readonly settings: PortalUserSettings,
    @inject(PageRenderer) private readonly renderer: PageRenderer,
    @inject(Translator) private readonly translator: Translator,
    @inject(CsrfTokens) private readonly csrf: CsrfTokens,
    @inject(PluginSettings) private readonly plugin: PluginSettings,
  ) {}

  async render(context: RecordBlockContext): Promise<string> {
    const language = this.translator.supported(context.language);
    const state = await this.settings.state(context.recordId);
    if (!state) return '';
    const { account, contact } = state;
    const enabled = account?.portalEnabled === true;
    const status = enabled ? 'enabled' : account ? 'disabled' : 'none';
    const statusKey = enabled ? 'contacts.portalUser.statusEnabled' : account ? 'contacts.portalUser.statusDisabled' : 'contacts.portalUser.statusNone';
    const user = context.session.user;
    const contactName = `${text(contact.values.firstname)} ${text(contact.values.lastname)}`.trim() || String(contact.id);
    return this.renderer.render('admin/contact-block-portal-user', language, {
      contactId: contact.id,
      contactName,
      canEdit: user.isAdmin && user.active,
      action: portalUserAction(this.plugin.settingsPath, contact.id),
      csrfToken: this.csrf.issue(context.session),
      version: account?.version ?? 0,
      enabled,
      status,
      statusText: this.translator.t(language, statusKey),
      email: state.email,
      loginEmail: account?.email ?? null,
      account,
      lastLoginAt: state.lastLoginAt,
      showProfile: state.profileChoosable,
      profiles: state.profiles.map((profile) => ({ id: profile.id, name: profile.name, selected: profile.id === state.profileId })),
      profileName: state.profiles.find((profile) => profile.id === state.profileId)?.name ?? '',
      supportStartDate: account?.supportStartDate ?? '',
      supportEndDate: account?.supportEndDate ?? '',
    });
  }
}
