import { ContainerModule } from 'inversify';
import { PortalRouteContribution } from '../lifecycle/contributions.js';
import { DemoPortalSeeder } from './demo-portal.js';
import { PortalShellRoutes } from './portal-shell-routes.js';

export const portalModule = new ContainerModule(({ bind }) => {
  bind<PortalRouteContribution>(PortalRouteContribution).to(PortalShellRoutes).inSingletonScope();
  bind(DemoPortalSeeder).toSelf().inSingletonScope();
});
