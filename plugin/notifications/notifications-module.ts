/** The notifications capability's bindings: the `PortalMailer` and what it is made of. */
import { ContainerModule } from 'inversify';
import { NotificationChoices, StandardNotificationChoices } from './notification-choices.js';
import { HandlebarsPluginMailTemplates, PluginMailTemplates } from './plugin-mail-templates.js';
import { PortalMailer } from './portal-mailer.js';
import { TemplatePortalMailer } from './template-portal-mailer.js';

export const notificationsModule = new ContainerModule(({ bind }) => {
  bind<NotificationChoices>(NotificationChoices).to(StandardNotificationChoices).inSingletonScope();
  bind<PluginMailTemplates>(PluginMailTemplates).to(HandlebarsPluginMailTemplates).inSingletonScope();
  bind<PortalMailer>(PortalMailer).to(TemplatePortalMailer).inSingletonScope();
});
