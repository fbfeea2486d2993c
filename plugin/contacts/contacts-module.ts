/**
 * The contacts capability: the Business Portal block on the CRM's Contact record, made of
 * sections multi-bound under `ContactBlockSection` (the portal-user settings, then the login
 * history); the admin route that saves the portal-user settings; the listeners that keep portal
 * accounts in step with their contacts, and at activation the removal of accounts whose contact
 * left while nobody listened; the page of all of a contact's portal events; the block's
 * stylesheet; and the support-ending reminders.
 */
import { ContainerModule } from 'inversify';
import { AdminRouteContribution, LifecycleContribution, PortalRouteContribution } from '../lifecycle/contributions.js';
import { ContactBlockSection } from './contact-block-sections.js';
import { ContactBlockAssets, ContactRecordBlock } from './contact-record-block.js';
import { ContactRecordListeners } from './contact-record-listeners.js';
import { LoginHistoryRoutes } from './login-history-routes.js';
import { LoginHistorySection } from './login-history-section.js';
import { PortalUserRoutes } from './portal-user-routes.js';
import { PortalUserSection } from './portal-user-section.js';
import { AccountPortalUserSettings, PortalUserSettings } from './portal-user-settings.js';
import { GoneContactAccounts } from './gone-contact-accounts.js';
import { DatabaseSupportReminders, SupportReminders } from './support-reminders.js';

export const contactsModule = new ContainerModule(({ bind }) => {
  bind<PortalUserSettings>(PortalUserSettings).to(AccountPortalUserSettings).inSingletonScope();
  bind(DatabaseSupportReminders).toSelf().inSingletonScope();
  bind<SupportReminders>(SupportReminders).toService(DatabaseSupportReminders);
  bind(ContactRecordListeners).toSelf().inSingletonScope();
  bind<LifecycleContribution>(LifecycleContribution).to(ContactRecordBlock).inSingletonScope();
  bind<LifecycleContribution>(LifecycleContribution).toService(ContactRecordListeners);
  bind<LifecycleContribution>(LifecycleContribution).to(GoneContactAccounts).inSingletonScope();
  bind<LifecycleContribution>(LifecycleContribution).toService(DatabaseSupportReminders);
  bind<AdminRouteContribution>(AdminRouteContribution).to(PortalUserRoutes).inSingletonScope();
  bind<PortalRouteContribution>(PortalRouteContribution).to(ContactBlockAssets).inSingletonScope();
  // The section also renders its form again on the page answering a refused save.
  bind(PortalUserSection).toSelf().inSingletonScope();
  bind<ContactBlockSection>(ContactBlockSection).toService(PortalUserSection);
  // The section also puts into words the events of the page of all of them.
  bind(LoginHistorySection).toSelf().inSingletonScope();
  bind<ContactBlockSection>(ContactBlockSection).toService(LoginHistorySection);
  bind<AdminRouteContribution>(AdminRouteContribution).to(LoginHistoryRoutes).inSingletonScope();
});
