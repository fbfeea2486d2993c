/** The notifications capability's bindings: the `PortalMailer`, what it is made of, and the ticket notifications. */
import { ContainerModule } from 'inversify';
import { LifecycleContribution } from '../lifecycle/contributions.js';
import { NotificationChoices, ProfileNotificationChoices } from './notification-choices.js';
import { HandlebarsPluginMailTemplates, PluginMailTemplates } from './plugin-mail-templates.js';
import { PortalMailer } from './portal-mailer.js';
import { TemplatePortalMailer } from './template-portal-mailer.js';
import { EventTicketNotifications, TicketNotifications } from './ticket-notifications.js';

export const notificationsModule = new ContainerModule(({ bind }) => {
  bind<NotificationChoices>(NotificationChoices).to(ProfileNotificationChoices).inSingletonScope();
  bind<PluginMailTemplates>(PluginMailTemplates).to(HandlebarsPluginMailTemplates).inSingletonScope();
  bind<PortalMailer>(PortalMailer).to(TemplatePortalMailer).inSingletonScope();
  bind(EventTicketNotifications).toSelf().inSingletonScope();
  bind<TicketNotifications>(TicketNotifications).toService(EventTicketNotifications);
  bind<LifecycleContribution>(LifecycleContribution).toService(EventTicketNotifications);
});
