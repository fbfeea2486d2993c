/**
 * The portal-user section of the Contact record's Business Portal block (before the login
 * history): the account's state (portal user, login email, locked, must change password, last
 * sign-in) and, for active CRM admins, the form — portal user yes/no, profile (version 2 only;
 * Default unless another is chosen), support start and end dates — that posts to `PortalUserRoutes` with the
 * CSRF token of the admin's CRM session. Other CRM users see the same values without a form:
 * granting portal access sends credentials, which the settings pages reserve to admins.
 *
 * The form is also rendered again, on its own, by the page that answers a refused save
 * (`retryForm`): with what the admin typed and the refusal next to the field it is about.
 */
import { inject, injectable } from 'inversify';
import { CsrfTokens } from '../http/csrf.js';
import { PageRenderer } from '../http/page-renderer.js';
import type { CrmSession, LanguageCode, RecordBlockContext } from '../host-contract/index.js';
import { Translator } from '../i18n/translator.js';
import { PluginSettings } from '../lifecycle/contributions.js';
import type { ContactBlockSection } from './contact-block-sections.js';
import { PortalUserSettings, settingsVersion, type PortalUserState } from './portal-user-settings.js';
import { formatSupportDay } from './support-reminders.js';
import { personName } from '../access/record-names.js';

/** Where the portal-user form posts (`PortalUserRoutes`, on the admin router). */
export function portalUserAction(settingsPath: string, contactId: number): string {
  return `${settingsPath}/contacts/${contactId}/portal-user`;
}

/** The fields of the portal-user form that a refusal can be about. */
export type PortalUserField = 'portalUser' | 'profileId' | 'supportStartDate' | 'supportEndDate';

/** A refused save, to show the form again: what the admin typed (as sent), why it was refused, and where. */
export interface PortalUserRetry {
  readonly typed: Readonly<Partial<Record<PortalUserField | 'version', string>>>;
  readonly message: string;
  readonly fields: readonly PortalUserField[];
  /** Where "Back to the contact" goes. */
  readonly contactUrl: string;
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
    const canEdit = user.isAdmin && user.active;
    return this.renderer.render('admin/contact-block-portal-user', language, {
      contactId: contact.id,
      contactName: contactNameOf(state),
      canEdit,
      formHtml: canEdit ? this.form(state, context.session, language) : '',
      status,
      statusText: this.translator.t(language, statusKey),
      email: state.email,
      loginEmail: account?.email ?? null,
      account,
      lastLoginAt: state.lastLoginAt,
      showProfile: state.profileChoosable,
      profileName: state.profiles.find((profile) => profile.id === state.profileId)?.name ?? '',
      // Read, not edited: days as the page's language writes them (and the reminder mail), never moved through a zone.
      supportStart: account?.supportStartDate ? { day: account.supportStartDate, text: formatSupportDay(account.supportStartDate, language) } : null,
      supportEnd: account?.supportEndDate ? { day: account.supportEndDate, text: formatSupportDay(account.supportEndDate, language) } : null,
    });
  }

  /** The form again after a refused save, holding what the admin typed; null when the contact is gone. */
  async retryForm(contactId: number, session: CrmSession, language: LanguageCode, retry: PortalUserRetry): Promise<string | null> {
    const state = await this.settings.state(contactId);
    return state ? this.form(state, session, language, retry) : null;
  }

  private form(state: PortalUserState, session: CrmSession, language: LanguageCode, retry?: PortalUserRetry): string {
    const { account, contact } = state;
    const typed = retry?.typed ?? {};
    // The version the admin's form showed: a save after the refusal must still notice someone else's change.
    const version = typed.version !== undefined && /^(0|[1-9][0-9]{0,8})$/.test(typed.version) ? typed.version : String(settingsVersion(account));
    const profileId = typed.profileId ? typed.profileId : String(state.profileId ?? '');
    return this.renderer.render('admin/contact-portal-user-form', language, {
      contactId: contact.id,
      contactName: contactNameOf(state),
      action: portalUserAction(this.plugin.settingsPath, contact.id),
      csrfToken: this.csrf.issue(session),
      version,
      enabled: typed.portalUser !== undefined ? typed.portalUser === 'yes' : account?.portalEnabled === true,
      showProfile: state.profileChoosable,
      profiles: state.profiles.map((profile) => ({ id: profile.id, name: profile.name, selected: String(profile.id) === profileId })),
      supportStartDate: typed.supportStartDate ?? account?.supportStartDate ?? '',
      supportEndDate: typed.supportEndDate ?? account?.supportEndDate ?? '',
      refusal: retry?.message ?? null,
      invalid: Object.fromEntries((retry?.fields ?? []).map((field) => [field, true])),
      contactUrl: retry?.contactUrl ?? null,
    });
  }
}

function contactNameOf({ contact }: PortalUserState): string {
  return personName(contact.values) || String(contact.id);
}
