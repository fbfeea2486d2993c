import { ContainerModule } from 'inversify';
import { AdminRouteContribution, LifecycleContribution } from '../lifecycle/contributions.js';
import { ClassicSettingsStore } from './classic-settings.js';
import { ClassicSettingsRoutes } from './classic-settings-routes.js';
import { StoredClassicSettings } from './classic-settings-store.js';
import { PortalVersions, StoredPortalVersions } from './portal-version.js';
import { SettingsHomeRoutes } from './settings-home-routes.js';
import { SequelizeSettingsStore, SettingsStore } from './settings-store.js';

export const settingsModule = new ContainerModule(({ bind }) => {
  bind<SettingsStore>(SettingsStore).to(SequelizeSettingsStore).inSingletonScope();
  bind(StoredPortalVersions).toSelf().inSingletonScope();
  bind<PortalVersions>(PortalVersions).toService(StoredPortalVersions);
  bind<LifecycleContribution>(LifecycleContribution).toService(StoredPortalVersions);
  bind<ClassicSettingsStore>(ClassicSettingsStore).to(StoredClassicSettings).inSingletonScope();
  bind<AdminRouteContribution>(AdminRouteContribution).to(SettingsHomeRoutes).inSingletonScope();
  bind<AdminRouteContribution>(AdminRouteContribution).to(ClassicSettingsRoutes).inSingletonScope();
});
