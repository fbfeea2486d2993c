/**
 * The container the plugin owns: every member of the host API under its contract token, the
 * plugin's settings and files, then one ContainerModule per capability folder. The order of
 * the modules is the order in which their lifecycle hooks and routes run.
 */
import { Container, type ContainerModule } from 'inversify';
import {
  HostConditionalRules,
  HostDatabase,
  HostEmailTemplates,
  HostHttp,
  HostInstallation,
  HostLicences,
  HostLogger,
  HostMail,
  HostModuleRegistry,
  HostRecordBlocks,
  HostRecords,
  HostRegional,
  HostSettingsMenu,
  HostUsers,
  type HostApi,
} from '../host-contract/index.js';
import { eligibilityModule } from '../eligibility/eligibility-module.js';
import { httpModule } from '../http/http-module.js';
import { i18nModule } from '../i18n/i18n-module.js';
import { loginCheckModule } from '../login-check/login-check-module.js';
import { notificationsModule } from '../notifications/notifications-module.js';
import { portalModule } from '../portal/portal-module.js';
import { profilesModule } from '../profiles/profiles-module.js';
import { settingsModule } from '../settings/settings-module.js';
import { DeactivationDeadline } from './background-work.js';
import { HostApiVersion, PluginSettings } from './contributions.js';
import { PluginFiles } from './plugin-files.js';
import { withUtcDates } from './utc-dates.js';

/**
 * The capabilities of this folder tree that need no other helper's code; the entry point
 * (`plugin/index.ts`) appends the rest. Profiles come before anything that may rely on the
 * Default profile in its install hook. Eligibility (it reads only the host's registry) is core
 * because the settings pages list the modules that are not eligible.
 */
export const coreModules: readonly ContainerModule[] = [i18nModule, httpModule, eligibilityModule, notificationsModule, profilesModule, settingsModule, loginCheckModule, portalModule];

export function bindHost(container: Container, host: HostApi): void {
  container.bind<HostHttp>(HostHttp).toConstantValue(host.http);
  // Its statements write a Date as UTC text, whatever the server's zone (`utc-dates.ts`).
  container.bind<HostDatabase>(HostDatabase).toConstantValue(withUtcDates(host.database));
  container.bind<HostSettingsMenu>(HostSettingsMenu).toConstantValue(host.settingsMenu);
  container.bind<HostRecordBlocks>(HostRecordBlocks).toConstantValue(host.recordBlocks);
  container.bind<HostModuleRegistry>(HostModuleRegistry).toConstantValue(host.modules);
  container.bind<HostRecords>(HostRecords).toConstantValue(host.records);
  container.bind<HostUsers>(HostUsers).toConstantValue(host.users);
  container.bind<HostEmailTemplates>(HostEmailTemplates).toConstantValue(host.emailTemplates);
  container.bind<HostMail>(HostMail).toConstantValue(host.mail);
  container.bind<HostConditionalRules>(HostConditionalRules).toConstantValue(host.conditionalRules);
  container.bind<HostRegional>(HostRegional).toConstantValue(host.regional);
  container.bind<HostLicences>(HostLicences).toConstantValue(host.licences);
  container.bind<HostInstallation>(HostInstallation).toConstantValue(host.installation);
  container.bind<HostLogger>(HostLogger).toConstantValue(host.logger);
  container.bind<string>(HostApiVersion).toConstantValue(host.apiVersion);
}

export function createPluginContainer(
  host: HostApi,
  setup: { readonly settings: PluginSettings; readonly files: PluginFiles },
  modules: readonly ContainerModule[],
): Container {
  const container = new Container({ defaultScope: 'Singleton' });
  bindHost(container, host);
  container.bind<PluginSettings>(PluginSettings).toConstantValue(setup.settings);
  container.bind<PluginFiles>(PluginFiles).toConstantValue(setup.files);
  container.bind<DeactivationDeadline>(DeactivationDeadline).toConstantValue(new DeactivationDeadline());
  container.load(...modules);
  return container;
}
