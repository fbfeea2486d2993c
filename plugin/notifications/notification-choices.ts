/**
 * Which host template and which mail route a portal mail uses.
 * - `ProfileNotificationChoices` (bound): the contact's profile decides — its template for each
 *   of the five portal kinds (the host's standard-named template when the profile chose none, or
 *   chose one the CRM has since deleted), its SMTP account (Default = the owner user's own mail
 *   account, which the host replaces by its global server when the user has none; a group owner
 *   or no owner means the global server; Global = always the global server) and its sender.
 *   On a version 1 install the implicit profile has no notification settings: the access details
 *   use the classic "select template" (the standard one when none is chosen, or it was deleted),
 *   the other kinds their standard templates, and Default routing through the classic "select user".
 *   A chosen template that lacks what its kind needs (the access details' password, password
 *   recovery's link: `template-placeholders.ts`) — a choice stored before that was checked — is
 *   passed over for the standard one, rather than sending a mail the customer cannot use.
 * - `StandardNotificationChoices`: the standard-named templates through the global server, for
 *   compositions without profiles or portal accounts.
 */
import { inject, injectable, optional } from 'inversify';
import { HostEmailTemplates, type MailAddress, type MailRoute, type OwnerRef } from '../host-contract/index.js';
import { ClassicSettingsReader } from '../access/access-policies.js';
import { PortalAccountStore } from '../auth/portal-account-store.js';
import type { NotificationsSection } from '../profiles/profile-document.js';
import { ProfileService } from '../profiles/profile-service.js';
import { ProfileStore } from '../profiles/profile-store.js';
import { PortalVersions } from '../settings/portal-version.js';
import { mailName, type PortalMailKind } from './portal-mailer.js';
import { missingPlaceholderFor, STANDARD_TEMPLATE_NAMES } from './template-placeholders.js';

/** The kinds sent with a host email template. */
export type HostTemplateKind = Extract<PortalMailKind, 'registration' | 'passwordChanged' | 'passwordRecovery' | 'newTicket' | 'ticketReply'>;

export function isHostTemplateKind(kind: PortalMailKind): kind is HostTemplateKind {
  return Object.prototype.hasOwnProperty.call(STANDARD_TEMPLATE_NAMES, kind);
}

export interface MailChoice {
  /** The host template to render; null when the CRM has none for this kind (nothing is sent). */
  readonly templateId: number | null;
  readonly route: MailRoute;
  /** The sender; the route's default sender when absent. */
  readonly from?: MailAddress;
}

export const NotificationChoices = Symbol.for('business-portal.notifications.NotificationChoices');
export interface NotificationChoices {
  /** The template of a host-template kind for a contact. */
  templateFor(kind: HostTemplateKind, contactId: number): Promise<MailChoice>;
  /** The route of a mail the plugin renders itself (to the contact, or to the owner of what they did). */
  routeFor(contactId: number): Promise<Omit<MailChoice, 'templateId'>>;
}

async function standardTemplateId(templates: HostEmailTemplates, kind: HostTemplateKind): Promise<number | null> {
  return (await templates.templates()).find((candidate) => candidate.name === STANDARD_TEMPLATE_NAMES[kind])?.id ?? null;
}

@injectable()
export class StandardNotificationChoices implements NotificationChoices {
  constructor(@inject(HostEmailTemplates) private readonly templates: HostEmailTemplates) {}

  async templateFor(kind: HostTemplateKind): Promise<MailChoice> {
    return { templateId: await standardTemplateId(this.templates, kind), route: { via: 'global' } };
  }

  async routeFor(): Promise<Omit<MailChoice, 'templateId'>> {
    return { route: { via: 'global' } };
  }
}

/** What the notifications need of a contact's profile. */
interface ContactMailSettings {
  readonly notifications: NotificationsSection | null;
  readonly owner: OwnerRef | null;
  /** Version 1: the template chosen for each kind (the classic settings choose the access details' only). */
  readonly classicTemplates?: Partial<Record<HostTemplateKind, number | null>>;
}

@injectable()
export class ProfileNotificationChoices implements NotificationChoices {
  constructor(
    @inject(HostEmailTemplates) private readonly templates: HostEmailTemplates,
    @inject(ProfileService) private readonly profiles: ProfileService,
    @inject(ProfileStore) private readonly profileStore: ProfileStore,
    @inject(PortalVersions) private readonly versions: PortalVersions,
    @inject(PortalAccountStore) @optional() private readonly accounts: PortalAccountStore | undefined,
    @inject(ClassicSettingsReader) @optional() private readonly classic: ClassicSettingsReader | undefined,
  ) {}

  async templateFor(kind: HostTemplateKind, contactId: number): Promise<MailChoice> {
    const settings = await this.settingsFor(contactId);
    const chosen = settings.classicTemplates?.[kind] ?? settings.notifications?.templates[kind] ?? null;
    const templateId = chosen !== null && (await this.usable(chosen, kind)) ? chosen : await standardTemplateId(this.templates, kind);
    return { templateId, ...this.delivery(settings) };
  }

  /** Whether a chosen template still exists and merges what `kind` needs. */
  private async usable(templateId: number, kind: HostTemplateKind): Promise<boolean> {
    const template = await this.templates.template(templateId);
    return template !== null && (await missingPlaceholderFor(this.templates, template, kind)) === null;
  }

  async routeFor(contactId: number): Promise<Omit<MailChoice, 'templateId'>> {
    return this.delivery(await this.settingsFor(contactId));
  }

  private delivery(settings: ContactMailSettings): Omit<MailChoice, 'templateId'> {
    const notifications = settings.notifications;
    const route: MailRoute =
      notifications?.smtpAccount !== 'global' && settings.owner?.kind === 'user' ? { via: 'user', userId: settings.owner.id } : { via: 'global' };
    const address = notifications?.senderEmail?.trim();
    if (!address) return { route };
    const name = mailName(notifications?.senderName ?? '');
    return { route, from: name ? { address, name } : { address } };
  }

  private async settingsFor(contactId: number): Promise<ContactMailSettings> {
    if ((await this.versions.current()) === 1) {
      const classic = this.classic ? await this.classic.read() : null;
      const userId = classic?.userId ?? null;
      return { notifications: null, owner: userId === null ? null : { kind: 'user', id: userId }, classicTemplates: { registration: classic?.credentialsTemplateId ?? null } };
    }
    const account = this.accounts ? await this.accounts.findByContactId(contactId) : null;
    const profile = (account?.profileId != null ? await this.profileStore.get(account.profileId) : null) ?? (await this.profileStore.defaultProfile());
    const document = await this.profiles.document(profile.id);
    return { notifications: document.notifications, owner: document.general.owner };
  }
}
