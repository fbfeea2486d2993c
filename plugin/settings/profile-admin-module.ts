/**
 * The profile pages of the settings capability. Kept apart from `settingsModule` (a core
 * module) because they need the profile service, which needs module eligibility: the entry
 * point loads it after `eligibilityModule`.
 */
import { ContainerModule } from 'inversify';
import { AdminRouteContribution } from '../lifecycle/contributions.js';
import { PrivilegesPage } from './privileges-page.js';
import { ProfileRoutes } from './profile-routes.js';

export const profileAdminModule = new ContainerModule(({ bind }) => {
  bind<AdminRouteContribution>(AdminRouteContribution).to(ProfileRoutes).inSingletonScope();
  bind<AdminRouteContribution>(AdminRouteContribution).to(PrivilegesPage).inSingletonScope();
});
