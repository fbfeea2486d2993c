/**
 * Which host template and which mail route a portal mail uses. Until profiles carry their own
 * notification settings, the five portal kinds use the host's templates found by their standard
 * names (looked up through `HostEmailTemplates.templates()`), sent through the global server with
 * the host's default sender. A profile-aware implementation can be bound in place of this one.
 */
import { inject, injectable } from 'inversify';
import { HostEmailTemplates, type MailAddress, type MailRoute } from '../host-contract/index.js';
import type { PortalMailKind } from './portal-mailer.js';

/** The kinds sent with a host email template. */
export type HostTemplateKind = Extract<PortalMailKind, 'registration' | 'passwordChanged' | 'passwordRecovery' | 'newTicket' | 'ticketReply'>;

/** The names under which a CRM ships the portal's standard templates. */
export const STANDARD_TEMPLATE_NAMES: Readonly<Record<HostTemplateKind, string>> = {
  registration: 'Customer portal: access details',
  passwordChanged: 'Customer portal: password changed',
  passwordRecovery: 'Customer portal: password recovery',
  newTicket: 'Customer portal: new ticket',
  ticketReply: 'Customer portal: reply to a ticket',
};

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
  /** The route of a mail the plugin renders itself. */
  routeFor(contactId: number): Promise<Omit<MailChoice, 'templateId'>>;
}

@injectable()
export class StandardNotificationChoices implements NotificationChoices {
  constructor(@inject(HostEmailTemplates) private readonly templates: HostEmailTemplates) {}

  async templateFor(kind: HostTemplateKind): Promise<MailChoice> {
    const template = (await this.templates.templates()).find((candidate) => candidate.name === STANDARD_TEMPLATE_NAMES[kind]);
    return { templateId: template?.id ?? null, route: { via: 'global' } };
  }

  async routeFor(): Promise<Omit<MailChoice, 'templateId'>> {
    return { route: { via: 'global' } };
  }
}
