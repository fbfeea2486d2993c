import { ContainerModule } from 'inversify';
import { PortalRouteContribution } from '../lifecycle/contributions.js';
import { PortalShellRoutes } from './portal-shell-routes.js';

export const portalModule = new ContainerModule(({ bind }) => {
  bind<PortalRouteContribution>(PortalRouteContribution).to(PortalShellRoutes).inSingletonScope();
});
